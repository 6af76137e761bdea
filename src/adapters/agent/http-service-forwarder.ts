import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../application/ports/clock.port.js';
import type { AccessLogSink } from '../http/access-entry.js';
import { ProxyCaller, type ProxyCallOptions } from '../http/proxy-call.js';

/** Free connections to the local service are closed after this long, before Node's default 5 s keep-alive. */
export const LOCAL_IDLE_TIMEOUT_MS = 4_000;

/** Settings of one HTTP listener of the agent. */
export interface HttpServiceSettings {
  /** URL of the local service; its path is prefixed to request paths. */
  readonly target: string;
  /** Longest wait for the local service's response headers; 0 = none. */
  readonly timeoutMs: number;
  readonly endpointId: string;
}

/**
 * Serves the streams the server opens for one endpoint: each stream carries one HTTP/1.1 request, parsed by a
 * Node http.Server that never listens, and proxied to the local service over pooled keep-alive connections.
 * WebSocket upgrades become raw pipes. Errors answer 502 `upstream unreachable` / 504 `upstream timeout`.
 */
export class HttpServiceForwarder {
  private readonly server: Server;
  private readonly caller: ProxyCaller;
  private readonly agent: Agent;
  private inFlight = 0;
  /** The same for every request of this listener. */
  private readonly callOptions: ProxyCallOptions;

  constructor(
    private readonly settings: HttpServiceSettings,
    clock: Clock,
    private readonly accessLog?: AccessLogSink,
  ) {
    this.caller = new ProxyCaller(clock);
    const options = { keepAlive: true, timeout: LOCAL_IDLE_TIMEOUT_MS, maxFreeSockets: 256 };
    this.agent = settings.target.startsWith('https:') ? new HttpsAgent(options) : new Agent(options);
    this.callOptions = { target: settings.target, agent: this.agent, headerTimeoutMs: settings.timeoutMs, xfwd: false, keepAliveUpstream: true };
    this.server = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 });
    this.server.on('request', (req, res) => this.onRequest(req, res, clock));
    this.server.on('upgrade', (req, socket, head) => {
      void this.caller.upgrade(req, socket, head, this.callOptions);
    });
    this.server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  }

  /** Requests being served. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Serves one tunnel stream. */
  handle(stream: Duplex): void {
    this.server.emit('connection', stream);
  }

  /** Closes tunnel streams that carry no request now (kept open by the server for reuse). */
  closeIdleStreams(): void {
    this.server.closeIdleConnections();
  }

  /** Closes pooled connections to the local service. */
  close(): void {
    this.agent.destroy();
  }


  private onRequest(req: IncomingMessage, res: ServerResponse, clock: Clock): void {
    this.inFlight++;
    const started = clock.now();
    const requestHeaders = this.accessLog === undefined ? undefined : { ...req.headers };
    let bytesIn = 0;
    if (requestHeaders !== undefined) req.on('data', (c: Buffer) => (bytesIn += c.length));
    res.once('close', () => {
      this.inFlight--;
      if (requestHeaders === undefined) return;
      this.accessLog?.({
        method: req.method ?? 'GET',
        host: req.headers.host ?? '',
        path: (req.url ?? '/').split('?', 1)[0] ?? '/',
        proto: `HTTP/${req.httpVersion}`,
        status: res.writableFinished ? res.statusCode : 499,
        durationMs: clock.now() - started,
        endpointId: this.settings.endpointId,
        bytesIn,
        bytesOut: Number(res.getHeader('content-length') ?? 0),
        clientIp: String(req.headers['x-forwarded-for'] ?? ''),
        requestHeaders,
        responseHeaders: res.getHeaders(),
      });
    });
    void this.caller.web(req, res, this.callOptions);
  }
}
