import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { Forwarder } from '../../../application/ports/forwarder.port.js';
import type { DispatchOutcome, DispatchRequest } from '../../../application/use-cases/dispatch-request.use-case.js';
import { countBodyBytes, type AccessLogSink } from '../../http/access-entry.js';
import { endThenDestroy } from '../../platform/net/close-after-flush.js';
import { ConnectionLimiter, clientKey } from '../../platform/net/connection-limiter.js';
import type { ReloadableTls } from '../../platform/tls/reloadable-tls.js';
import type { ServerTlsOptions } from '../../platform/tls/tls-material.js';
import { acceptedEvent, createPortServer } from '../../platform/tls/tls-server.js';
import { clientErrorAnswer } from '../../http/client-error.js';
import { jsonErrorResponse, ProxyErrors, writeJsonError, writeJsonErrorToSocket } from '../../wire/json-error.js';
import { endpointFromPath } from '../../wire/endpoint-from-path.js';
import { endpointFromRequest, type EndpointResolution } from './passes/endpoint-from-request.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import { endpointKey } from '../../../domain/endpoint/tenant.js';
import { isBodyless, isWebSocketUpgrade } from '../../http/passes/hop-by-hop.js';
import { stripInternalHeaders } from './passes/strip-internal-headers.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ProxyAuth } from './auth-proxy.js';
import type { Grant } from '../auth/auth-gate.js';
import { answerRefusal, answerRefusalOnSocket } from '../auth/auth-answer.js';
import { TCP_PATH, UNSERVED_HEADER } from '../../wire/routes.js';

/** Settings of the proxy port. */
export interface ProxyServerSettings {
  /** Longest wait for an upstream's response headers; 0 = none. Never bounds a streaming body. */
  readonly timeoutMs: number;
  readonly readHeaderTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxHeaderBytes: number;
  /** Most connections open at once from one client address; over it a connection is answered 429. 0 = no limit. */
  readonly maxConnectionsPerIp?: number;
}

/**
 * How often Node checks the header timeout of open connections: a quarter of the timeout, between 100 ms and
 * 1 s. Node's default (30 s) lets a 10 s header timeout fire after up to 40 s.
 */
export function connectionsCheckingIntervalMs(readHeaderTimeoutMs: number): number {
  if (readHeaderTimeoutMs <= 0) return 1_000;
  return Math.min(1_000, Math.max(100, Math.floor(readHeaderTimeoutMs / 4)));
}

/** Collaborators of the proxy port. */
export interface ProxyServerDeps {
  readonly dispatch: DispatchRequest;
  readonly forwarder: Forwarder;
  readonly metrics: ProxyMetrics;
  readonly clock: Clock;
  readonly accessLog?: AccessLogSink;
  /** Handles upgrade requests under `/_piko/` (the TCP tunnel route); returns false if not its path. */
  readonly pikoUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** Authentication (`proxy.auth`): every request and upgrade is checked before anything is opened upstream. */
  readonly auth?: ProxyAuth;
  /** The port's certificate (HTTPS when set), reloaded without a restart. */
  readonly tls?: ReloadableTls<ServerTlsOptions>;
}

/**
 * The proxy port: downstream HTTP requests and WebSocket upgrades are routed to an upstream of the endpoint
 * they address. When the upstream chosen has just gone away (its stream cannot be opened), the request goes to
 * another upstream of the endpoint, since nothing has been sent yet.
 */
export class ProxyServer {
  readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;
  private readonly limiter: ConnectionLimiter;
  /** Connections over the per-address limit: answered 429 on accept and closed; their requests are ignored. */
  private readonly refused = new WeakSet<Duplex>();

  constructor(
    private readonly settings: ProxyServerSettings,
    private readonly deps: ProxyServerDeps,
  ) {
    this.server = createPortServer({
      maxHeaderSize: settings.maxHeaderBytes,
      // Node's default requestTimeout (300 s) would cut long uploads: bound only the header wait.
      requestTimeout: 0,
      headersTimeout: settings.readHeaderTimeoutMs,
      keepAliveTimeout: settings.idleTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(settings.readHeaderTimeoutMs),
      // A request without Host gets the forwarder's JSON 400 that says so, not Node's bare 400.
      requireHostHeader: false,
      // Only WebSocket upgrades are carried; any other Upgrade (h2c...) is an ordinary request (Node >= 24.9).
      shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketUpgrade(req.headers),
    }, deps.tls);
    this.limiter = new ConnectionLimiter(settings.maxConnectionsPerIp ?? 0);
    // Before Node's own connection listener, so that a refused connection is answered before any parsing.
    // With TLS, counted once decrypted, so that the 429 is written over TLS.
    if (this.limiter.enabled) this.server.prependListener(acceptedEvent(deps.tls), (socket: Socket) => this.onConnection(socket));
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
  }

  /** Number of requests being handled. */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Stops accepting connections and waits until in-flight requests finish (WebSockets and TCP tunnels are
   * not waited for) or `deadlineMs` passes. Idle keep-alive connections are closed at once.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const cancel = this.deps.clock.schedule(deadlineMs, resolve);
        this.drained = () => {
          cancel();
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
  }

  /** Counts the connection under its client address; over the limit, answers 429 and closes it. */
  private onConnection(socket: Socket): void {
    const key = clientKey(socket.remoteAddress);
    if (this.limiter.acquire(key)) {
      socket.once('close', () => this.limiter.release(key));
      return;
    }
    this.refused.add(socket);
    endThenDestroy(socket, jsonErrorResponse(429, 'Too Many Requests', ProxyErrors.tooManyConnections));
  }

  /**
   * A request that could not be parsed, or whose headers did not arrive in time: answered (400, 408 or 431
   * JSON) unless a response has already started on the connection, then the socket is closed and freed.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const answer = clientErrorAnswer(err.code, err.message);
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (answer === undefined || !socket.writable || this.refused.has(socket) || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    writeJsonErrorToSocket(socket, answer.status, answer.reason, answer.message);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.refused.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    const started = this.deps.clock.now();
    const socket = req.socket;
    const body = countBodyBytes(req, res);
    const requestHeaders = this.deps.accessLog === undefined ? undefined : { ...req.headers };
    this.inFlight++;
    this.deps.metrics.inFlight.inc();
    if (this.draining) res.setHeader('connection', 'close');

    let endpointId = '';
    res.once('close', () => {
      this.inFlight--;
      this.deps.metrics.inFlight.dec();
      const status = res.writableFinished ? res.statusCode : 499;
      const method = req.method ?? 'GET';
      const durationMs = this.deps.clock.now() - started;
      const labels = { status: String(status), method };
      const { bytesIn, bytesOut } = body;
      this.deps.metrics.requests.inc(labels);
      this.deps.metrics.latency.observe(durationMs / 1000, labels);
      this.deps.metrics.requestSize.observe(bytesIn);
      this.deps.metrics.responseSize.observe(bytesOut);
      if (requestHeaders !== undefined) {
        this.deps.accessLog?.({
          method,
          host: req.headers.host ?? '',
          path: (req.url ?? '/').split('?', 1)[0] ?? '/',
          proto: `HTTP/${req.httpVersion}`,
          status,
          durationMs,
          endpointId,
          bytesIn,
          bytesOut,
          clientIp: socket.remoteAddress ?? '',
          requestHeaders,
          responseHeaders: res.getHeaders(),
        });
      }
      if (this.inFlight === 0) this.drained?.();
    });

    const { auth } = this.deps;
    const serve = (grant: Grant | undefined): void => {
      if (req.method === 'GET' && this.answerTcpRouteWithoutUpgrade(req, res)) return;
      const resolved = endpointFromRequest(req.headers);
      if (!resolved.ok) {
        const message =
          resolved.reason === 'missing' ? ProxyErrors.missingEndpoint : `invalid endpoint id: ${resolved.detail ?? ''}`;
        writeJsonError(res, 400, message);
        return;
      }
      endpointId = resolved.endpointId;
      // A tenant's request (its keys verified it) reaches only that tenant's endpoints; others only the default's.
      this.dispatchRequest(req, res, endpointKey(grant?.tenant, resolved.endpointId), grant);
    };
    if (auth === undefined) {
      serve(undefined);
      return;
    }
    const early = endpointFromRequest(req.headers);
    void auth.check(req.headers, early.ok ? early.endpointId : undefined, socket.remoteAddress ?? '').then((decision) => {
      if (res.destroyed || res.writableEnded) return;
      if (decision.ok) serve(decision.grant);
      else answerRefusal(res, decision);
    });
  }

  /** Sends an authenticated request on to its endpoint (`endpointId`: the endpoint's key, tenant included). */
  private dispatchRequest(req: IncomingMessage, res: ServerResponse, endpointId: EndpointId, grant: Grant | undefined): void {
    const forwarded = req.headers['x-piko-forward'] === 'true';
    if (grant !== undefined) this.deps.auth?.strip(req.headers, grant);
    stripInternalHeaders(req.headers);
    const peerHeaders = grant === undefined ? undefined : this.deps.auth?.peerHeaders(grant, endpointId);
    const options = { headerTimeoutMs: this.settings.timeoutMs, ...(peerHeaders !== undefined ? { peerHeaders } : {}) };
    // A body-less request from another node is not held here: if nothing can serve it, that node is told so
    // (UNSERVED_HEADER) and tries another holder or waits itself. Requests with a body cannot be replayed there.
    const tellPeer = forwarded && isBodyless(req.headers);
    void this.deps.dispatch
      .execute(endpointId, forwarded, (target) => this.deps.forwarder.forward(req, res, target, options), { wait: !tellPeer })
      .then((outcome) => {
        const message = unansweredError(outcome);
        if (message !== undefined && !res.headersSent) writeJsonError(res, 502, message, tellPeer ? { [UNSERVED_HEADER]: '1' } : {});
      });
  }

  /**
   * A plain GET of the TCP route (`/_piko/v1/tcp/:id` without an upgrade) is a client that is not speaking
   * WebSocket: say so (426) rather than reading its endpoint from headers it does not have.
   */
  private answerTcpRouteWithoutUpgrade(req: IncomingMessage, res: ServerResponse): boolean {
    const target = endpointFromPath(req.url, TCP_PATH);
    if (target.kind === 'other') return false;
    if (target.kind === 'invalid') writeJsonError(res, 400, `invalid endpoint id: ${target.problem}`);
    // The connection closes after the answer: the client speaks another protocol than the route's.
    else writeJsonError(res, 426, ProxyErrors.upgradeRequired, { upgrade: 'websocket', connection: 'Upgrade, close' });
    return true;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refused.has(socket)) {
      socket.destroy();
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    if (req.url?.includes('/_piko/') === true && this.deps.pikoUpgrade?.(req, socket, head) === true) return;
    const resolved = endpointFromRequest(req.headers);
    const { auth } = this.deps;
    if (auth === undefined) {
      this.dispatchUpgrade(req, socket, head, resolved, undefined);
      return;
    }
    socket.on('error', () => socket.destroy());
    void auth.check(req.headers, resolved.ok ? resolved.endpointId : undefined, req.socket.remoteAddress ?? '').then((decision) => {
      if (socket.destroyed) return;
      if (!decision.ok) {
        answerRefusalOnSocket(socket, decision);
        return;
      }
      // A tenant's upgrade reaches only that tenant's endpoints; others only the default tenant's.
      const { grant } = decision;
      this.dispatchUpgrade(req, socket, head, resolved.ok ? { ok: true, endpointId: endpointKey(grant.tenant, resolved.endpointId) } : resolved, grant);
    });
  }

  /** Sends an authenticated WebSocket upgrade on to its endpoint (`resolved`: the endpoint's key, tenant included). */
  private dispatchUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, resolved: EndpointResolution, grant: Grant | undefined): void {
    if (!resolved.ok) {
      writeJsonErrorToSocket(socket, 400, 'Bad Request', ProxyErrors.missingEndpoint);
      return;
    }
    const forwarded = req.headers['x-piko-forward'] === 'true';
    if (grant !== undefined) this.deps.auth?.strip(req.headers, grant);
    stripInternalHeaders(req.headers);
    const peerHeaders = grant === undefined ? undefined : this.deps.auth?.peerHeaders(grant, resolved.endpointId);
    const options = { headerTimeoutMs: this.settings.timeoutMs, ...(peerHeaders !== undefined ? { peerHeaders } : {}) };
    void this.deps.dispatch
      .execute(resolved.endpointId, forwarded, (target) => this.deps.forwarder.forwardUpgrade(req, socket, head, target, options))
      .then((outcome) => {
        const message = unansweredError(outcome);
        if (message !== undefined) writeJsonErrorToSocket(socket, 502, 'Bad Gateway', message);
      });
  }
}

/**
 * The error a client gets when the dispatch wrote nothing: no upstream anywhere, or every target chosen took
 * nothing (Piko says `no available upstreams` for both when the upstreams have gone; a target that refused for
 * another reason, such as a session at its stream limit, is `upstream unreachable`).
 */
function unansweredError(outcome: DispatchOutcome): string | undefined {
  if (outcome.kind === 'no-route') return ProxyErrors.noUpstreams;
  if (outcome.kind === 'not-sent') return outcome.error.name === 'UpstreamGoneError' ? ProxyErrors.noUpstreams : ProxyErrors.unreachable;
  return undefined;
}
