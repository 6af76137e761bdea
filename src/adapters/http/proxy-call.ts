import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ForwardOutcome } from '../../application/ports/forwarder.port.js';
import { ProxyErrors, writeJsonError, writeJsonErrorToSocket } from './json-error.js';

/** Raised (as the cause of a 504) when the response headers did not arrive in time. */
export class HeaderTimeoutError extends Error {
  constructor(ms: number) {
    super(`no response headers within ${ms} ms`);
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

/** One call in flight, found again from http-proxy's events through the incoming request. */
interface Call {
  proxyReq?: ClientRequest;
  timedOut: boolean;
  /** The upstream answered; later errors belong to the established connection, not to the call. */
  answered?: boolean;
  cancelTimer?: () => void;
  settle(outcome: ForwardOutcome): void;
}

const kCall = Symbol('piko.proxyCall');
const KEEP_ALIVE_HEADERS = { connection: 'keep-alive' } as const;
type WithCall = IncomingMessage & { [kCall]?: Call };

/** What one proxied call needs. */
export interface ProxyCallOptions {
  /** Base URL of the target; its path is prefixed to the request path. */
  readonly target: string;
  /** Supplies the connection (a tunnel stream, or a pooled connection to a local service). */
  readonly agent: Agent;
  /** Longest wait for the response headers; 0 waits forever. The body is never bounded. */
  readonly headerTimeoutMs: number;
  /** Whether to add X-Forwarded-For/-Port/-Proto/-Host. */
  readonly xfwd: boolean;
  /**
   * Ask for a keep-alive upstream connection whatever the client said: `Connection` is hop-by-hop, and a
   * pooled tunnel stream should serve the next request too.
   */
  readonly keepAliveUpstream?: boolean;
  /** Called when the timer fires before a request object exists, to unblock the call. */
  readonly abort?: () => void;
}

/**
 * Runs HTTP requests and upgrades through http-proxy-3 with the rules a tunnel needs: a timeout that bounds
 * only the wait for response headers (Piko's whole-request deadline cuts SSE and long downloads, its §15 #2),
 * JSON errors in Piko's words (502 `upstream unreachable`, 504 `upstream timeout`), a response cut (never a
 * hang) when the upstream dies mid-body, and the upstream request aborted when the client goes away.
 */
export class ProxyCaller {
  private readonly proxy: ProxyServer;

  constructor(private readonly clock: Clock) {
    this.proxy = createProxyServer({ ws: true });
    this.proxy.on('proxyReq', (proxyReq, req) => {
      const call = (req as WithCall)[kCall];
      if (call !== undefined) call.proxyReq = proxyReq;
    });
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const call = (req as WithCall)[kCall];
      if (call === undefined) return;
      call.proxyReq = proxyReq;
      const answered = (status: number): void => {
        call.answered = true;
        call.settle({ kind: 'ok', status });
      };
      proxyReq.once('upgrade', () => answered(101));
      proxyReq.once('response', (r: IncomingMessage) => answered(r.statusCode ?? 0));
    });
    this.proxy.on('proxyRes', (proxyRes, req, res) => {
      const call = (req as WithCall)[kCall];
      // Hop-by-hop: the upstream connection's fate (one request per tunnel stream) is not the client's.
      delete proxyRes.headers.connection;
      delete proxyRes.headers['keep-alive'];
      // An upstream that dies mid-body must cut the client's response, not leave it hanging.
      proxyRes.once('close', () => {
        if (!proxyRes.complete && res !== undefined && !res.writableEnded) res.destroy();
      });
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
      const call = this.begin(req, options, resolve);
      res.once('close', () => {
        if (!res.writableFinished) call.settle({ kind: 'failed', status: 499, error: new ClientGoneError() });
      });
      const headers = options.keepAliveUpstream === true ? KEEP_ALIVE_HEADERS : undefined;
      const proxyOptions = { target: options.target, agent: options.agent, xfwd: options.xfwd, ...(headers ? { headers } : {}) };
      const forwardedBefore = options.xfwd ? snapshotForwarded(req) : undefined;
      const attempt = (retriesLeft: number): void => {
        try {
          this.proxy.web(req, res, proxyOptions, (err) => {
            // A pooled connection the upstream closed while idle fails at once with a reset: a request with no
            // body and a safe method never reached the application, so it is sent again on a fresh connection.
            if (retriesLeft > 0 && !call.timedOut && !res.headersSent && isStaleConnectionReset(err, call.proxyReq, req)) {
              if (forwardedBefore !== undefined) restoreForwarded(req, forwardedBefore);
              call.proxyReq = undefined;
              attempt(retriesLeft - 1);
              return;
            }
            call.cancelTimer?.();
            const status = call.timedOut ? 504 : 502;
            if (res.headersSent || res.destroyed) res.destroy();
            else writeJsonError(res, status, call.timedOut ? ProxyErrors.timeout : ProxyErrors.unreachable);
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
      const call = this.begin(req, options, resolve);
      socket.once('close', () => call.settle({ kind: 'failed', status: 499, error: new ClientGoneError() }));
      try {
        this.proxy.ws(req, socket, head, { target: options.target, agent: options.agent, xfwd: options.xfwd }, (err) => {
          if (call.answered === true) {
            socket.destroy();
            return;
          }
          call.cancelTimer?.();
          const status = call.timedOut ? 504 : 502;
          writeJsonErrorToSocket(
            socket,
            status,
            call.timedOut ? 'Gateway Timeout' : 'Bad Gateway',
            call.timedOut ? ProxyErrors.timeout : ProxyErrors.unreachable,
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
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        call.cancelTimer?.();
        (req as WithCall)[kCall] = undefined;
        resolve(outcome);
      },
    };
    (req as WithCall)[kCall] = call;
    if (options.headerTimeoutMs > 0) {
      call.cancelTimer = this.clock.schedule(options.headerTimeoutMs, () => {
        call.timedOut = true;
        if (call.proxyReq !== undefined) call.proxyReq.destroy(new HeaderTimeoutError(options.headerTimeoutMs));
        else options.abort?.();
      });
    }
    return call;
  }
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-host'] as const;

/** True for a reset of a reused keep-alive connection under a body-less request with a safe method. */
function isStaleConnectionReset(err: Error, proxyReq: ClientRequest | undefined, req: IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ECONNRESET' && code !== 'EPIPE' && err.name !== 'MuxStreamResetError') return false;
  if (proxyReq?.reusedSocket !== true) return false;
  if (!SAFE_METHODS.has(req.method ?? 'GET')) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

function snapshotForwarded(req: IncomingMessage): Array<string | string[] | undefined> {
  return FORWARDED_HEADERS.map((h) => req.headers[h]);
}

/** Undoes the X-Forwarded-* values a failed attempt appended, so a retry does not append them twice. */
function restoreForwarded(req: IncomingMessage, saved: ReadonlyArray<string | string[] | undefined>): void {
  FORWARDED_HEADERS.forEach((h, i) => {
    const v = saved[i];
    if (v === undefined) delete req.headers[h];
    else req.headers[h] = v as string;
  });
}
