import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { OUTGOING_PASSES } from 'http-proxy-3/dist/lib/http-proxy/passes/web-outgoing.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ForwardOutcome } from '../../application/ports/forwarder.port.js';
import { ProxyErrors, writeJsonError, writeJsonErrorToSocket } from '../wire/json-error.js';
import { setForwardedHeaders, type TrustedProxies } from './passes/forwarded-headers.js';
import { hasChunkedBody, isBodyless, stripHopByHopRequestHeaders, stripHopByHopResponseHeaders } from './passes/hop-by-hop.js';
import { UNSERVED_HEADER } from '../wire/routes.js';
import { requestTargetProblem } from './passes/request-target.js';
import { REPLAY_SAFE_METHODS, isConnectionReset } from './passes/replay.js';
import { withSocketShape } from './socket-shape.js';

/** Raised (as the cause of a 504) when the response headers did not arrive in time. */
export class HeaderTimeoutError extends Error {
  constructor(ms: number) {
    super(`no response headers within ${ms} ms of the end of the request body`);
    this.name = 'HeaderTimeoutError';
  }
}

/** Raised when the downstream client went away before the response finished. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/** A peer node served nothing for a forwarded request (it had no upstream): the request may go elsewhere. */
export class PeerUnservedError extends Error {
  constructor() {
    super('the peer node served nothing: it holds no upstream for the endpoint');
    this.name = 'PeerUnservedError';
  }
}

/** Raised (as the cause of a 400) for a request that cannot be forwarded as it is. */
export class UnforwardableRequestError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnforwardableRequestError';
  }
}

/** One call in flight, found again from http-proxy's events through the incoming request. */
interface Call {
  proxyReq?: ClientRequest;
  timedOut: boolean;
  /** The upstream answered; later errors belong to the established connection, not to the call. */
  answered?: boolean;
  /** The request body is chunked: the next hop gets it chunked too, whatever http-proxy-3's passes did. */
  chunked: boolean;
  cancelTimer?: () => void;
  /**
   * Set when the response is written by us rather than by http-proxy-3 (`selfHandleResponse`): the options
   * its response passes take, so that a peer's "unserved" answer can be dropped before anything reaches the client.
   */
  selfHandled?: object;
  /** Starts the wait for response headers (once the request, body included, has been sent). */
  startTimer(): void;
  settle(outcome: ForwardOutcome): void;
}

const kCall = Symbol('piko.proxyCall');
/** `Connection` towards the next hop: pooled tunnel streams and service connections serve the next request too. */
const KEEP_ALIVE_HEADERS = { connection: 'keep-alive' } as const;
type WithCall = IncomingMessage & { [kCall]?: Call };

/** What one proxied call needs. */
export interface ProxyCallOptions {
  /** Base URL of the target; its path is prefixed to the request path. */
  readonly target: string;
  /** Supplies the connection (a tunnel stream, or a pooled connection to a local service). */
  readonly agent: Agent;
  /**
   * Longest wait for the response headers, counted from the moment the request body has been sent in full
   * (an upload of any length and rate is never cut); 0 waits forever. Also bounds connecting to the target.
   * The response body is never bounded.
   */
  readonly headerTimeoutMs: number;
  /**
   * The X-Forwarded-* policy of this hop (see {@link setForwardedHeaders}); undefined leaves the headers as
   * they came, as the agent does with the values its server set.
   */
  readonly forwarded?: TrustedProxies;
  /** Headers set on the outgoing request (the forwarded-hop marker towards a peer node). */
  readonly setHeaders?: Readonly<Record<string, string>>;
  /**
   * True for an error that means nothing was sent: the connection to the target could not be had (a tunnel
   * stream on an upstream that has gone away, a peer node that refused). The call then writes nothing and
   * resolves `not-sent`, so the caller may try another target. Unset: every error is answered 502/504.
   */
  readonly notSent?: (err: Error) => boolean;
  /**
   * True to treat a connection reset before any response byte, under a body-less GET, HEAD or OPTIONS, as
   * `not-sent` too: the target died under it (a peer node killed, an agent's session gone), and RFC 9110 §9.2.2
   * lets a client replay such an idempotent request elsewhere, as nginx's `proxy_next_upstream error` does.
   */
  readonly replaySafeOnReset?: boolean;
  /**
   * True when the target is a peer node: its 502 marked {@link UNSERVED_HEADER} under a body-less request means
   * nothing was served there, and the call resolves `not-sent` without passing the answer on.
   */
  readonly peerUnserved?: boolean;
}

/**
 * Runs HTTP requests and upgrades through http-proxy-3 with the rules a tunnel needs: a timeout that bounds
 * only the wait for response headers after the request body (Piko's whole-request deadline cuts uploads, SSE and
 * long downloads, its §15 #2), hop-by-hop headers removed both ways (RFC 9110 §7.6.1) with the body framed by
 * us, JSON errors in Piko's words (502 `upstream unreachable`, 504 `upstream timeout`, 400 for requests that
 * cannot be forwarded), a response cut (never a hang) when the upstream dies mid-body, and the upstream request
 * aborted when the client goes away.
 */
export class ProxyCaller {
  private readonly proxy: ProxyServer;

  constructor(private readonly clock: Clock) {
    this.proxy = createProxyServer({ ws: true });
    // Runs after http-proxy-3's own passes, just before the request is made. Its `deleteLength` pass gives a
    // DELETE or OPTIONS without Content-Length a `Content-Length: 0` and drops Transfer-Encoding: a chunked body
    // would then reach the service unframed, where it reads as a second request. The body is re-framed here.
    this.proxy.before('web', 'stream', (req) => {
      if ((req as WithCall)[kCall]?.chunked !== true) return;
      delete req.headers['content-length'];
      req.headers['transfer-encoding'] = 'chunked';
    });
    this.proxy.on('proxyReq', (proxyReq, req) => {
      const call = (req as WithCall)[kCall];
      if (call !== undefined) track(call, proxyReq);
    });
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const call = (req as WithCall)[kCall];
      if (call === undefined) return;
      track(call, proxyReq);
      const answered = (status: number): void => {
        call.answered = true;
        call.settle({ kind: 'ok', status });
      };
      proxyReq.once('upgrade', () => answered(101));
      proxyReq.once('response', (r: IncomingMessage) => {
        // A refused upgrade: an ordinary response, after which http-proxy-3 closes the client connection.
        stripHopByHopResponseHeaders(r.headers);
        r.headers.connection = 'close';
        req.headers.connection = 'close';
        answered(r.statusCode ?? 0);
      });
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      const call = (req as WithCall)[kCall];
      if (call?.selfHandled !== undefined && proxyRes.headers[UNSERVED_HEADER] === '1') {
        // Nothing was served on the peer: drain its answer and let the caller try elsewhere.
        proxyRes.resume();
        call.settle({ kind: 'not-sent', error: new PeerUnservedError() });
        return;
      }
      stripHopByHopResponseHeaders(proxyRes.headers);
      // The client's connection is ours to keep or close (its own request, or a draining server's `close`).
      // http-proxy-3 copies the request's Connection into the response, so both are set.
      const connection = clientConnection(res);
      proxyRes.headers.connection = connection;
      req.headers.connection = connection;
      // An upstream that dies mid-body must cut the client's response, not leave it hanging.
      proxyRes.once('close', () => {
        if (!proxyRes.complete && res !== undefined && !res.writableEnded) res.destroy();
      });
      if (call?.selfHandled !== undefined && res !== undefined && !res.headersSent) {
        // What http-proxy-3 does when it handles the response: its passes, then the body.
        for (const pass of Object.values(OUTGOING_PASSES)) pass(req, res, proxyRes as never, call.selfHandled as never);
        proxyRes.pipe(res);
      }
      if (call === undefined) return;
      call.cancelTimer?.();
      call.settle({ kind: 'ok', status: proxyRes.statusCode ?? 0 });
    });
    // Errors are delivered to the per-call callbacks; this keeps a stray one from being thrown.
    this.proxy.on('error', () => {});
  }

  /** Proxies one HTTP request; resolves when the response headers arrive or the call fails. */
  web(req: IncomingMessage, res: ServerResponse, options: ProxyCallOptions): Promise<ForwardOutcome> {
    return new Promise((resolve) => {
      const refused = refuseUnforwardable(req, res);
      if (refused !== undefined) {
        resolve(refused);
        return;
      }
      const call = this.begin(req, options, resolve);
      call.chunked = hasChunkedBody(req.headers);
      prepareHeaders(req, options);
      // Node has answered `100 Continue` already; like nginx, the service is not asked again (and http-proxy-3
      // would not report a request that carries Expect).
      delete req.headers.expect;
      res.once('close', () => {
        if (!res.writableFinished) call.settle({ kind: 'failed', status: 499, error: new ClientGoneError() });
      });
      const selfHandle = options.peerUnserved === true && isBodyless(req.headers);
      const proxyOptions = { ...targetOptions(options), headers: KEEP_ALIVE_HEADERS, ...(selfHandle ? { selfHandleResponse: true } : {}) };
      if (selfHandle) call.selfHandled = proxyOptions;
      const attempt = (retriesLeft: number): void => {
        try {
          this.proxy.web(req, res, proxyOptions, (err) => {
            // A pooled connection the upstream closed while idle fails at once with a reset: a request with no
            // body and a safe method never reached the application, so it is sent again on a fresh connection.
            if (retriesLeft > 0 && !call.timedOut && !res.headersSent && isStaleConnectionReset(err, call, req)) {
              call.proxyReq = undefined;
              attempt(retriesLeft - 1);
              return;
            }
            call.cancelTimer?.();
            const replay = options.replaySafeOnReset === true && isResetUnderSafeRequest(err, call, req);
            if (!res.headersSent && !call.timedOut && (options.notSent?.(err) === true || replay)) {
              call.settle({ kind: 'not-sent', error: err });
              return;
            }
            const timedOut = call.timedOut || isConnectTimeout(err);
            const status = timedOut ? 504 : 502;
            if (res.headersSent || res.destroyed) res.destroy();
            else writeJsonError(res, status, timedOut ? ProxyErrors.timeout : ProxyErrors.unreachable);
            call.settle({ kind: 'failed', status, error: call.timedOut ? new HeaderTimeoutError(options.headerTimeoutMs) : err });
          });
        } catch (err) {
          // The agent could not supply a connection (the upstream has just gone away): nothing was sent.
          call.settle({ kind: 'not-sent', error: err instanceof Error ? err : new Error(String(err)) });
        }
      };
      attempt(1);
    });
  }

  /** Proxies an upgrade (WebSocket) request; resolves when the upstream answers or the call fails. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, options: ProxyCallOptions): Promise<ForwardOutcome> {
    return new Promise((resolve) => {
      // On the agent the client socket is a tunnel stream: http-proxy-3 calls net.Socket methods on it.
      withSocketShape(socket);
      const problem = requestTargetProblem(req.method, req.url, req.headers);
      if (problem !== undefined) {
        writeJsonErrorToSocket(socket, 400, 'Bad Request', problem);
        resolve({ kind: 'failed', status: 400, error: new UnforwardableRequestError(problem) });
        return;
      }
      const call = this.begin(req, options, resolve);
      prepareHeaders(req, options);
      socket.once('close', () => call.settle({ kind: 'failed', status: 499, error: new ClientGoneError() }));
      try {
        this.proxy.ws(req, socket, head, targetOptions(options), (err) => {
          if (call.answered === true) {
            socket.destroy();
            return;
          }
          call.cancelTimer?.();
          if (!call.timedOut && options.notSent?.(err) === true) {
            call.settle({ kind: 'not-sent', error: err });
            return;
          }
          const timedOut = call.timedOut || isConnectTimeout(err);
          const status = timedOut ? 504 : 502;
          writeJsonErrorToSocket(
            socket,
            status,
            timedOut ? 'Gateway Timeout' : 'Bad Gateway',
            timedOut ? ProxyErrors.timeout : ProxyErrors.unreachable,
          );
          call.settle({ kind: 'failed', status, error: call.timedOut ? new HeaderTimeoutError(options.headerTimeoutMs) : err });
        });
      } catch (err) {
        call.settle({ kind: 'not-sent', error: err instanceof Error ? err : new Error(String(err)) });
      }
    });
  }

  private begin(req: IncomingMessage, options: ProxyCallOptions, resolve: (o: ForwardOutcome) => void): Call {
    let settled = false;
    const call: Call = {
      timedOut: false,
      chunked: false,
      startTimer: () => {
        if (settled || options.headerTimeoutMs <= 0) return;
        call.cancelTimer?.();
        call.cancelTimer = this.clock.schedule(options.headerTimeoutMs, () => {
          call.timedOut = true;
          call.proxyReq?.destroy(new HeaderTimeoutError(options.headerTimeoutMs));
        });
      },
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        call.cancelTimer?.();
        (req as WithCall)[kCall] = undefined;
        resolve(outcome);
      },
    };
    (req as WithCall)[kCall] = call;
    return call;
  }
}

/**
 * Answers 400 (with the reason) a request whose target cannot be forwarded as it is, before anything is opened
 * towards an upstream, and returns that outcome; undefined for a request that may go on.
 */
export function refuseUnforwardable(req: IncomingMessage, res: ServerResponse): ForwardOutcome | undefined {
  const problem = requestTargetProblem(req.method, req.url, req.headers);
  if (problem === undefined) return undefined;
  writeJsonError(res, 400, problem);
  return { kind: 'failed', status: 400, error: new UnforwardableRequestError(problem) };
}

/** Follows one outgoing request: the header wait starts when it has been sent in full, body included. */
function track(call: Call, proxyReq: ClientRequest): void {
  call.proxyReq = proxyReq;
  proxyReq.once('finish', () => {
    if (call.proxyReq === proxyReq) call.startTimer();
  });
}

/** The http-proxy-3 options shared by web and upgrade calls. */
function targetOptions(options: ProxyCallOptions) {
  return {
    target: options.target,
    agent: options.agent,
    xfwd: false,
    ...(options.headerTimeoutMs > 0 ? { connectTimeout: options.headerTimeoutMs } : {}),
  };
}

/**
 * Removes hop-by-hop headers and applies this hop's X-Forwarded-* policy (and `setHeaders`), in place, once per
 * call (not per attempt). Shared by every path that forwards a request, so that they send the same headers.
 */
export function prepareHeaders(req: IncomingMessage, options: Pick<ProxyCallOptions, 'forwarded' | 'setHeaders'>): void {
  stripHopByHopRequestHeaders(req.headers);
  if (options.setHeaders !== undefined) Object.assign(req.headers, options.setHeaders);
  if (options.forwarded === undefined) return;
  const socket = req.socket as Partial<TLSSocket> | undefined;
  setForwardedHeaders(
    req.headers,
    { peer: socket?.remoteAddress, localPort: socket?.localPort, encrypted: socket?.encrypted === true },
    options.forwarded,
  );
}

/**
 * `keep-alive` or `close`: what Node will do with the client's connection after this response (a `Connection`
 * already set on `res`, such as a draining server's `close`, wins). The value every forwarded response carries.
 */
export function clientConnection(res: ServerResponse | undefined): string {
  const set = res?.getHeader('connection');
  if (set !== undefined) return String(set);
  return res?.shouldKeepAlive === false ? 'close' : 'keep-alive';
}

function isConnectTimeout(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ECONNECT_TIMEOUT';
}

/** True for a reset of a reused keep-alive connection under a body-less request with a safe method. */
function isStaleConnectionReset(err: Error, call: Call, req: IncomingMessage): boolean {
  return call.proxyReq?.reusedSocket === true && isResetUnderSafeRequest(err, call, req);
}

/** True for a connection reset (or a reset tunnel stream) under a body-less request with a safe method. */
function isResetUnderSafeRequest(err: Error, call: Call, req: IncomingMessage): boolean {
  if (!isConnectionReset(err) || !REPLAY_SAFE_METHODS.has(req.method ?? 'GET')) return false;
  const length = req.headers['content-length'];
  return !call.chunked && (length === undefined || length === '0');
}
