import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the proxy credentials and
 * challenges meant for the first proxy, as Go's ReverseProxy and nginx drop them. A proxy must not forward them:
 * each hop frames and manages its own connection.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The tokens a `Connection` header lists, lower case: header names and options such as `close`. */
export function connectionTokens(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = typeof value === 'string' ? value : value.join(',');
  return text
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token.length > 0);
}

/** True when the request asks for a WebSocket upgrade (`Upgrade: websocket`, any case), the one upgrade we carry. */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  const upgrade = headers.upgrade;
  return typeof upgrade === 'string' && upgrade.trim().toLowerCase() === 'websocket';
}

/**
 * Removes the hop-by-hop headers of a request in place: `Connection` and every header it names, and
 * {@link HOP_BY_HOP_HEADERS}. For a WebSocket upgrade, `Upgrade: websocket` and `Connection: Upgrade` are what
 * the next hop needs to upgrade its own connection, so they are kept (normalised), and only the other headers
 * `Connection` names are removed.
 *
 * The body framing (`Transfer-Encoding`) goes too: the caller frames the body for the next hop itself (see
 * {@link hasChunkedBody}), so a client's framing can never be replayed to the service.
 */
export function stripHopByHopRequestHeaders(headers: IncomingHttpHeaders): void {
  const webSocket = isWebSocketUpgrade(headers);
  stripHopByHop(headers);
  if (webSocket) {
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
  }
}

/** Removes the hop-by-hop headers of a response in place: `Connection`, the headers it names, and the others. */
export function stripHopByHopResponseHeaders(headers: IncomingHttpHeaders): void {
  stripHopByHop(headers);
}

/**
 * True when the request carries a body framed by `Transfer-Encoding` (Node's parser accepts it only with
 * `chunked` last, and never together with `Content-Length`). Read before {@link stripHopByHopRequestHeaders}.
 */
export function hasChunkedBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined;
}

/** True when the request has no body (no `Transfer-Encoding`, no or a zero `Content-Length`). */
export function isBodyless(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return !hasChunkedBody(headers) && (length === undefined || length === '0');
}

/**
 * Never removed because `Connection` names them: the message framing and the target, which the next hop must
 * see exactly as this hop parsed them (dropping `Content-Length` would let a body be read as the next request).
 */
const PROTECTED: ReadonlySet<string> = new Set(['host', 'content-length']);

function stripHopByHop(headers: IncomingHttpHeaders): void {
  for (const name of connectionTokens(headers.connection)) if (!PROTECTED.has(name)) delete headers[name];
  for (const name of HOP_BY_HOP_HEADERS) delete headers[name];
}
