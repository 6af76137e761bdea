import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ReloadingHttpsAgent, type ClientTlsSource } from '../../platform/tls/reloading-https-agent.js';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import { countBodyBytes, lastForwardedFor, type AccessLogSink } from '../../http/access-entry.js';
import { clientErrorAnswer } from '../../http/client-error.js';
import { writeJsonErrorToSocket } from '../../wire/json-error.js';
import { isWebSocketUpgrade } from '../../http/passes/hop-by-hop.js';
import { ProxyCaller, type ProxyCallOptions } from '../../http/proxy-call.js';
import { withSocketShape } from '../../http/socket-shape.js';
import { HttpRelay } from './http-relay.js';

/** Free connections to the local service are closed after this long, before Node's default 5 s keep-alive. */
export const LOCAL_IDLE_TIMEOUT_MS = 4_000;

/**
 * Default limit on the request line plus headers of a request arriving from the server: 4 MiB. The server's own
 * limit (`proxy.http.max_header_bytes`, 1 MiB by default) applies first, and the server may add X-Forwarded-*
 * headers (X-Forwarded-Host repeats Host), so the agent allows well over it; Node's default (16 KiB) would
 * reject headers the server accepted.
 */
export const DEFAULT_AGENT_MAX_HEADER_BYTES = 4 * 1024 * 1024;

const NO_CLIENT_TLS: ClientTlsSource = { current: {} };

/** Settings of one HTTP listener of the agent. */
export interface HttpServiceSettings {
  /** URL of the local service; its path is prefixed to request paths. */
  readonly target: string;
  /** Longest wait for the local service's response headers after the request body; 0 = none. */
  readonly timeoutMs: number;
  readonly endpointId: string;
  /** Largest request line plus headers accepted from the server; {@link DEFAULT_AGENT_MAX_HEADER_BYTES} if unset. */
  readonly maxHeaderBytes?: number;
  /**
   * Client TLS towards an `https://` service (the listener's `tls`: CA bundle, client certificate, verification),
   * read for each new connection. Without it the system roots verify the service.
   */
  readonly tls?: ClientTlsSource;
}

/**
 * Serves the streams the server opens for one endpoint: each stream carries HTTP/1.1 requests, parsed by a
 * Node http.Server that never listens, and proxied to the local service over pooled keep-alive connections.
 * WebSocket upgrades become raw pipes. Errors answer 502 `upstream unreachable` / 504 `upstream timeout`; a
 * request the parser refuses (headers over the limit: 431) is answered on the stream and logged.
 */
export class HttpServiceForwarder {
  private readonly server: Server;
  private readonly caller: ProxyCaller;
  private readonly agent: Agent;
  private inFlight = 0;
  /** The same for every request of this listener. */
  private readonly callOptions: ProxyCallOptions;
  /** The pass-through relay, for a plain `http://` service without a base path (the common case). */
  private readonly relay?: HttpRelay;

  constructor(
    private readonly settings: HttpServiceSettings,
    clock: Clock,
    private readonly accessLog?: AccessLogSink,
    private readonly log?: Logger,
  ) {
    this.caller = new ProxyCaller(clock);
    const options = { keepAlive: true, timeout: LOCAL_IDLE_TIMEOUT_MS, maxFreeSockets: 256 };
    // The service's certificate is verified against the target's host, never the Host the client sent.
    this.agent = settings.target.startsWith('https:') ? new ReloadingHttpsAgent(settings.tls ?? NO_CLIENT_TLS, options) : new Agent(options);
    this.callOptions = { target: settings.target, agent: this.agent, headerTimeoutMs: settings.timeoutMs };
    this.server = createServer({
      requestTimeout: 0,
      headersTimeout: 0,
      keepAliveTimeout: 0,
      maxHeaderSize: settings.maxHeaderBytes ?? DEFAULT_AGENT_MAX_HEADER_BYTES,
      requireHostHeader: false,
      shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketUpgrade(req.headers),
    });
    this.server.on('request', (req, res) => this.onRequest(req, res, clock));
    this.server.on('upgrade', (req, socket, head) => {
      void this.caller.upgrade(req, socket, head, this.callOptions);
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
    const direct = relayAddress(settings.target);
    if (direct !== undefined) {
      const maxHeaderBytes = settings.maxHeaderBytes ?? DEFAULT_AGENT_MAX_HEADER_BYTES;
      this.relay = new HttpRelay({ ...direct, timeoutMs: settings.timeoutMs, endpointId: settings.endpointId, maxHeaderBytes }, clock, accessLog, log);
    }
  }

  /** Requests being served. */
  get requestsInFlight(): number {
    return this.inFlight + (this.relay?.requestsInFlight ?? 0);
  }

  /** Serves one tunnel stream. */
  handle(stream: Duplex): void {
    if (this.relay !== undefined) {
      this.relay.handle(stream);
      return;
    }
    // node:http and http-proxy-3 call net.Socket methods on the connection (see socket-shape.ts).
    this.server.emit('connection', withSocketShape(stream));
  }

  /** Closes tunnel streams that carry no request now (kept open by the server for reuse). */
  closeIdleStreams(): void {
    this.server.closeIdleConnections();
    this.relay?.closeIdleStreams();
  }

  /** Closes pooled connections to the local service. */
  close(): void {
    this.agent.destroy();
    this.relay?.close();
  }

  /** A request from the server that the parser refused: answered on the stream and logged, never a silent reset. */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const answer = clientErrorAnswer(err.code, err.message);
    if (answer === undefined || !socket.writable) {
      socket.destroy();
      return;
    }
    this.log?.warn('request refused before forwarding', {
      'endpoint-id': this.settings.endpointId,
      status: answer.status,
      reason: answer.message,
      ...(err.code === 'HPE_HEADER_OVERFLOW'
        ? { 'max-header-bytes': this.settings.maxHeaderBytes ?? DEFAULT_AGENT_MAX_HEADER_BYTES, hint: 'raise the listener max_header_bytes' }
        : {}),
    });
    writeJsonErrorToSocket(socket, answer.status, answer.reason, answer.message);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, clock: Clock): void {
    this.inFlight++;
    const started = clock.now();
    const requestHeaders = this.accessLog === undefined ? undefined : { ...req.headers };
    const body = requestHeaders === undefined ? undefined : countBodyBytes(req, res);
    res.once('close', () => {
      this.inFlight--;
      if (requestHeaders === undefined || body === undefined) return;
      this.accessLog?.({
        method: req.method ?? 'GET',
        host: req.headers.host ?? '',
        path: (req.url ?? '/').split('?', 1)[0] ?? '/',
        proto: `HTTP/${req.httpVersion}`,
        status: res.writableFinished ? res.statusCode : 499,
        durationMs: clock.now() - started,
        endpointId: this.settings.endpointId,
        bytesIn: body.bytesIn,
        bytesOut: body.bytesOut,
        clientIp: lastForwardedFor(requestHeaders['x-forwarded-for']),
        requestHeaders,
        responseHeaders: res.getHeaders(),
      });
    });
    void this.caller.web(req, res, this.callOptions);
  }
}

/**
 * Host and port of a plain `http://` target with no base path, which the pass-through relay serves; undefined
 * for any other target (https, a path to prefix), left to the general path.
 */
export function relayAddress(target: string): { host: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === '' ? 80 : Number(url.port) };
}
