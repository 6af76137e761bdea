import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { HALF_CLOSE_HEADER, UPSTREAM_PATH } from '../wire/routes.js';
import { MAX_WS_PAYLOAD } from '../wire/ws-mux-transport.js';

/** HTTP statuses after which a connect is retried (Piko's list); anything else is final. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** A failed connect, with the server's status and message when it answered. */
export class DialError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** TLS options of a wss:// dial: CA bundle, client certificate and key for mTLS, verification, name override. */
export interface DialTlsOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** Options of one WebSocket dial. */
export interface DialOptions {
  readonly token?: string;
  /**
   * TLS options for wss://, or a function returning those in force, called for each dial (the agent's and
   * forward's `connect.tls`, which reload on SIGHUP and when their files change).
   */
  readonly tls?: DialTlsOptions | (() => DialTlsOptions);
  readonly handshakeTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

/**
 * Builds the WebSocket URL of a route under a base URL, keeping the base path (so a server behind a
 * path-prefixing load balancer works) and mapping http→ws, https→wss.
 */
export function routeUrl(base: string, route: string, endpointId: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const prefix = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = `${prefix}${route}${encodeURIComponent(endpointId)}`;
  return url.toString();
}

/** The upstream registration URL for `endpointId` under the server's upstream URL. */
export const upstreamUrl = (base: string, endpointId: string): string => routeUrl(base, UPSTREAM_PATH, endpointId);

/** WebSockets whose server said, in its upgrade answer, that it keeps half-close. */
const keepsHalfClose = new WeakSet<WebSocket>();

/** Whether the server that accepted `ws` keeps half-close on the TCP route (a piko-ts server; Piko does not). */
export function serverKeepsHalfClose(ws: WebSocket): boolean {
  return keepsHalfClose.has(ws);
}

/**
 * Opens a WebSocket for tunnel traffic (no compression, binary as Buffers). Rejects with a DialError whose
 * message is `<status>: <server message>` when the server refuses, as Piko formats it. Resolves with the WebSocket
 * paused, so that nothing the server sent with its upgrade answer is emitted before the caller listens: call
 * `ws.resume()` once listening (a mux transport does it when it is made).
 */
export function dialWebSocket(url: string, options: DialOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      maxPayload: MAX_WS_PAYLOAD,
      handshakeTimeout: options.handshakeTimeoutMs ?? 60_000,
      // A zero mask makes both ends skip the XOR pass over every byte. Masking protects caches between a
      // browser and a server from script-crafted bytes; a tunnel agent is no browser.
      generateMask: zeroMask,
      ...(typeof options.tls === 'function' ? options.tls() : (options.tls ?? {})),
    });
    ws.binaryType = 'nodebuffer';
    ws.once('upgrade', (res: IncomingMessage) => {
      if (res.headers[HALF_CLOSE_HEADER] === '1') keepsHalfClose.add(ws);
    });
    let done = false;
    const fail = (err: DialError): void => {
      if (done) return;
      done = true;
      ws.terminate();
      reject(err);
    };
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      readBody(res).then((body) => {
        fail(new DialError(`${status}: ${errorMessage(body, res.statusMessage ?? '')}`, RETRYABLE_STATUSES.has(status), status));
      });
    });
    ws.once('error', (err) => fail(new DialError(err.message, true)));
    ws.once('open', () => {
      if (done) return;
      done = true;
      ws.removeAllListeners('error');
      // What the server sent with its 101 (a stream opened on a connection it has just registered, a service's
      // greeting) is emitted on the next tick, before this promise's continuation could listen: hold it until the
      // caller has attached its listeners and resumes (a mux transport resumes when it is made, after which its session listens at once).
      ws.pause();
      resolve(ws);
    });
  });
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < 64 * 1024) chunks.push(c);
      size += c.length;
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Takes the `error` of a JSON body (whatever its content-type parameters), else the text, else the reason. */
function errorMessage(body: string, fallback: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // not JSON
  }
  const text = body.trim();
  return text.length > 0 && text.length < 200 ? text : fallback;
}
