import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { endThenDestroy } from '../platform/net/close-after-flush.js';

/** Error messages the proxy answers with, exactly as Piko's (§4.8), so clients can match on them. */
export const ProxyErrors = {
  missingEndpoint: 'missing endpoint id',
  noUpstreams: 'no available upstreams',
  unreachable: 'upstream unreachable',
  timeout: 'upstream timeout',
  shuttingDown: 'server shutting down',
  upgradeRequired: 'websocket upgrade required',
  tooManyConnections: 'too many connections from this address',
} as const;

/** Answers `res` with `{"error": message}` and `status`, unless headers were already sent. */
export function writeJsonError(res: ServerResponse, status: number, message: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) {
    // The response already started: the only honest signal left is to cut it.
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: message }) + '\n';
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The bytes of a complete `connection: close` JSON error response. */
export function jsonErrorResponse(
  status: number,
  reason: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const body = JSON.stringify({ error: message }) + '\n';
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    extra +
    'content-type: application/json\r\n' +
    'x-content-type-options: nosniff\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
  );
}

/**
 * Answers a request on its raw socket (an upgrade, a parse error) with a JSON error and closes the socket: the
 * descriptor is freed once the answer is flushed and the client closed, or after a short linger, never left
 * half-open for the client to hold.
 */
export function writeJsonErrorToSocket(
  socket: Duplex,
  status: number,
  reason: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  endThenDestroy(socket, jsonErrorResponse(status, reason, message, headers));
}
