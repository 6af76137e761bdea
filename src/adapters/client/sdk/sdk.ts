import { EventEmitter } from 'node:events';
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { duplexPair, type Duplex } from 'node:stream';
import type { LogFields, Logger, LogLevel } from '../../../application/ports/logger.port.js';
import { pipeDuplex } from '../../platform/net/pipe-duplex.js';
import { SystemClock } from '../../platform/clock/system-clock.js';
import { parseHostPort } from '../../platform/config/addresses.js';
import { TCP_PATH } from '../../wire/routes.js';
import type { MuxStream } from '../../wire/mux/index.js';
import { UpstreamListener } from '../upstream-listener.js';
import { pipeStreamOverWebSocket } from '../../wire/ws-byte-pipe.js';
import { DialError, dialWebSocket, routeUrl, serverKeepsHalfClose, type DialOptions } from '../ws-upstream-dialer.js';
import { providedToken, staticToken } from '../token-source.js';

export { DialError };

/** TLS settings for `https://` / `wss://` servers. */
export interface TlsOptions {
  /** CA bundle (PEM) to verify the server with, instead of the system roots. */
  readonly ca?: string | Buffer;
  /** Client certificate and key (PEM) for mTLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** false skips verification (testing only). */
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** A minimal logger: any of the four methods, each taking a message and fields. */
export type SdkLogger = Partial<Record<LogLevel, (message: string, fields?: LogFields) => void>>;

/** Options shared by `listen`, `listenAndForward` and `serveHttp`. */
export interface ListenOptions {
  /** The server's upstream port URL; default `http://localhost:8001`. A base path is kept. */
  readonly url?: string;
  /**
   * JWT sent as `Authorization: Bearer <token>`: a string, or a function called for every connection. With a
   * function the listener refreshes its token: shortly before the token in use expires it asks again, registers a
   * new connection with the new token and retires the old one once its connections end (nothing is dropped).
   */
  readonly token?: TokenOption;
  /** Sent as `x-piko-tenant-id`: the server verifies the token with that tenant's keys and the endpoint is the tenant's. */
  readonly tenantId?: string;
  readonly tls?: TlsOptions;
  /** Reconnect backoff bounds; default 100 ms to 15 s. */
  readonly minReconnectBackoffMs?: number;
  readonly maxReconnectBackoffMs?: number;
  readonly logger?: SdkLogger;
  /** Aborting it shuts the listener down (as `shutdown()`). */
  readonly signal?: AbortSignal;
}

/** Options of `dial`. */
export interface DialEndpointOptions {
  /** The server's proxy port URL; default `http://localhost:8000`. */
  readonly url?: string;
  /** JWT sent as `Authorization: Bearer <token>`, or a function returning it (called once per dial). */
  readonly token?: TokenOption;
  /** Sent as `x-piko-tenant-id`: the tunnel reaches that tenant's endpoint, verified with its keys. */
  readonly tenantId?: string;
  readonly tls?: TlsOptions;
  readonly signal?: AbortSignal;
}

/** A token, or a function returning the token to present now (for tokens that are refreshed). */
export type TokenOption = string | (() => string | Promise<string>);

const ignore = (): void => {};

function toLogger(sink: SdkLogger | undefined, subsystem = 'client'): Logger {
  const write = (level: LogLevel, message: string, fields?: LogFields): void =>
    sink?.[level]?.(message, { subsystem, ...(fields ?? {}) });
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    log: write,
    child: (s) => toLogger(sink, s),
  };
}

function dialOptions(o: { tls?: TlsOptions; tenantId?: string }, token = ''): DialOptions {
  return { ...(token ? { token } : {}), ...(o.tls ? { tls: o.tls } : {}), ...(o.tenantId ? { headers: { 'x-piko-tenant-id': o.tenantId } } : {}) };
}

/**
 * A listener on an endpoint, shaped like `net.Server`: a `'connection'` event per connection the cluster routes
 * here, each a `Duplex` socket. It stays registered across disconnects (reconnecting with backoff).
 *
 * Events: `'connection'` (socket: Duplex), `'connected'`, `'refreshed'` (a new connection with a fresh token
 * took over), `'disconnected'` (reason), `'error'` (a final refusal such as 401), `'close'`.
 */
export class EndpointListener extends EventEmitter {
  private closed = false;

  /** Closes connections that are open but idle, while draining (set by serveHttp). */
  private closeIdle?: () => void;

  /** @internal Use `listen()`. */
  constructor(
    readonly endpointId: string,
    private readonly upstream: UpstreamListener,
  ) {
    super();
    upstream.on('stream', (s: MuxStream) => {
      // A lost tunnel resets its streams with an 'error'; an application that did not listen for it must not
      // crash for that. Its own 'error' listeners still see the error.
      s.on('error', ignore);
      this.emit('connection', s);
    });
    upstream.on('connected', () => this.emit('connected'));
    upstream.on('refreshed', () => this.emit('refreshed'));
    upstream.on('disconnected', (r: string) => this.emit('disconnected', r));
    upstream.on('fatal', (e: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
      this.finish();
    });
  }

  /** `{ endpointId }`, in the place of `net.Server#address()`. */
  address(): { endpointId: string } {
    return { endpointId: this.endpointId };
  }

  /** Connections in flight. */
  get connections(): number {
    return this.upstream.activeStreams;
  }

  /**
   * Stops accepting: the server is told at once (go-away) and routes new connections elsewhere; live
   * connections carry on. Resolves when the last of them has ended.
   */
  async close(): Promise<void> {
    await this.upstream.drain(Number.POSITIVE_INFINITY, this.closeIdle);
    this.finish();
  }

  /** Ends everything now: live connections are reset. */
  shutdown(): void {
    this.upstream.shutdown();
    this.finish();
  }

  /** @internal */
  setIdleCloser(closeIdle: () => void): void {
    this.closeIdle = closeIdle;
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** Registers a listener on `endpointId` and resolves once it is connected. */
export async function listen(endpointId: string, options: ListenOptions = {}): Promise<EndpointListener> {
  const upstream = new UpstreamListener({
    url: options.url ?? 'http://localhost:8001',
    endpointId,
    dial: dialOptions(options),
    tokens: typeof options.token === 'function' ? providedToken(options.token) : staticToken(options.token ?? ''),
    clock: new SystemClock(),
    log: toLogger(options.logger),
    backoff: { minMs: options.minReconnectBackoffMs ?? 100, maxMs: options.maxReconnectBackoffMs ?? 15_000 },
  });
  const listener = new EndpointListener(endpointId, upstream);
  if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  options.signal?.addEventListener('abort', () => listener.shutdown(), { once: true });
  await upstream.start();
  return listener;
}

/** Listens on `endpointId` and forwards each connection to the TCP address `addr` (`port` or `host:port`). */
export async function listenAndForward(endpointId: string, addr: string, options: ListenOptions = {}): Promise<EndpointListener> {
  const hp = parseHostPort(/^\d+$/.test(addr) ? `localhost:${addr}` : addr);
  if (hp === undefined) throw new Error(`invalid address ${JSON.stringify(addr)}: expected a port or host:port`);
  const listener = await listen(endpointId, options);
  listener.on('connection', (socket: Duplex) => {
    const local = connect({ host: hp.host || 'localhost', port: hp.port, allowHalfOpen: true, noDelay: true });
    pipeDuplex(socket, local);
  });
  return listener;
}

/**
 * Serves an endpoint from a Node HTTP server (or an express app / request listener) in this process, with no
 * agent: each tunnel connection is handed to the server as if it had been accepted on a port.
 */
export async function serveHttp(endpointId: string, app: Server | RequestListener, options: ListenOptions = {}): Promise<EndpointListener> {
  const server = typeof app === 'function' ? createServer(app) : app;
  const listener = await listen(endpointId, options);
  listener.on('connection', (socket: Duplex) => server.emit('connection', socket));
  listener.setIdleCloser(() => server.closeIdleConnections());
  return listener;
}

/**
 * Opens a TCP connection to `endpointId` through the proxy port's TCP route and resolves with it once the
 * tunnel is up. Half-close works through a piko-ts server: `end()` sends FIN while the reply can still be read
 * (through a Piko server, which cannot carry it, `end()` closes the connection, as Piko's clients do). A refusal rejects with
 * a DialError carrying the status and the server's message.
 */
export async function dial(endpointId: string, options: DialEndpointOptions = {}): Promise<Duplex> {
  const url = routeUrl(options.url ?? 'http://localhost:8000', TCP_PATH, endpointId);
  const token = typeof options.token === 'function' ? (await options.token()).trim() : options.token;
  const ws = await dialWebSocket(url, dialOptions(options, token));
  const [mine, theirs] = duplexPair();
  void pipeStreamOverWebSocket(ws, theirs, undefined, { halfClose: serverKeepsHalfClose(ws) });
  ws.resume();
  options.signal?.addEventListener('abort', () => mine.destroy(), { once: true });
  return mine;
}
