import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { ForwardOutcome } from '../../../application/ports/forwarder.port.js';
import { UpstreamGoneError, type UpstreamConnection } from '../../../application/ports/upstream-transport.port.js';
import { ProxyErrors, writeJsonError } from '../../wire/json-error.js';
import type { TrustedProxies } from '../../http/passes/forwarded-headers.js';
import { hasChunkedBody } from '../../http/passes/hop-by-hop.js';
import { REPLAY_SAFE_METHODS, isConnectionReset } from '../../http/passes/replay.js';
import { ClientGoneError, HeaderTimeoutError, UnforwardableRequestError, prepareHeaders, refuseUnforwardable } from '../../http/proxy-call.js';
import type { HttpFramingError } from '../../http/relay/http1-head.js';
import { outgoingTarget, serializeRequestHead } from '../../http/relay/request-head.js';
import { TunnelExchange, type ExchangeEvents, type ExchangeRequest } from './tunnel-exchange.js';
import { TunnelStreamPool } from './tunnel-stream-pool.js';

/** Options of one pass-through call. */
export interface PassThroughOptions {
  /** Longest wait for the response headers, counted from the end of the request body; 0 waits forever. */
  readonly headerTimeoutMs: number;
  /** The X-Forwarded-* policy of this node. */
  readonly forwarded?: TrustedProxies;
}

/** Methods node:http's client sends without `Content-Length` when they carry no body. */
const NO_LENGTH_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE', 'CONNECT']);

/**
 * Sends plain HTTP requests for a local upstream over its tunnel streams without node:http's client or
 * http-proxy-3: the server writes the request head itself, streams the body, reads the response head with the
 * relay's own HTTP/1.1 reader and writes the response to the client's `ServerResponse`. Streams are pooled per
 * upstream connection ({@link TunnelStreamPool}). The outcomes are those of `ProxyCaller.web` on the general
 * path: 400 before anything is opened for a request that cannot be forwarded, `not-sent` (nothing written) when
 * no stream can be opened or the stream is reset before any answer under a body-less GET, HEAD or OPTIONS (after
 * one retry on a fresh stream when a reused one was stale), 502 `upstream unreachable` for other failures and
 * malformed answers, 504 `upstream timeout` when no response head arrives within the header timeout of the end
 * of the request body, 499 when the client goes away, and a cut (never a hang) when the agent dies mid-body.
 * Upgrades and peer nodes stay on the general path.
 */
export class TunnelPassThrough {
  /** One stream pool per upstream connection; dropped with the connection. */
  private readonly pools = new WeakMap<UpstreamConnection, TunnelStreamPool>();

  constructor(private readonly clock: Clock) {}

  /** Idle streams pooled for `upstream` (for tests and status). */
  idleStreams(upstream: UpstreamConnection): number {
    return this.pools.get(upstream)?.idleCount ?? 0;
  }

  /** Proxies one HTTP request (not an upgrade) to `upstream`; resolves when the response head arrives or the call fails. */
  web(req: IncomingMessage, res: ServerResponse, upstream: UpstreamConnection, options: PassThroughOptions): Promise<ForwardOutcome> {
    return new Promise((resolve) => {
      const refused = refuseUnforwardable(req, res);
      if (refused !== undefined) {
        resolve(refused);
        return;
      }
      let request: ExchangeRequest;
      try {
        request = this.prepare(req, res, options);
      } catch (err) {
        const message = (err as Error).message;
        writeJsonError(res, 400, message);
        resolve({ kind: 'failed', status: 400, error: new UnforwardableRequestError(message) });
        return;
      }
      new PassThroughCall(request, this.pool(upstream), this.clock, options.headerTimeoutMs, resolve).start();
    });
  }

  private pool(upstream: UpstreamConnection): TunnelStreamPool {
    let pool = this.pools.get(upstream);
    if (pool === undefined) {
      pool = new TunnelStreamPool(upstream, this.clock);
      this.pools.set(upstream, pool);
    }
    return pool;
  }

  /** The headers and head sent, as the general path sends them (see `ProxyCaller.web` and http-proxy-3's passes). */
  private prepare(req: IncomingMessage, res: ServerResponse, options: PassThroughOptions): ExchangeRequest {
    const { headers } = req;
    const chunked = hasChunkedBody(headers);
    prepareHeaders(req, { forwarded: options.forwarded });
    // Node has answered `100 Continue` already; like nginx, the service is not asked again.
    delete headers.expect;
    const method = req.method ?? 'GET';
    // As on the general path (http-proxy-3's `deleteLength`, then node:http's client for methods that expect a
    // body): a request without a body other than GET, HEAD or TRACE says so with `Content-Length: 0`.
    if (!chunked && headers['content-length'] === undefined && !NO_LENGTH_METHODS.has(method)) headers['content-length'] = '0';
    if (chunked) headers['transfer-encoding'] = 'chunked';
    // Pooled tunnel streams serve the next request too.
    headers.connection = 'keep-alive';
    const head = serializeRequestHead(method, outgoingTarget(req.url ?? '/'), headers);
    const length = chunked ? 0 : Number(headers['content-length'] ?? 0);
    return { req, res, method, head, chunked, length };
  }
}

/** One call: its attempts (a second one only for a stale reused stream), its header timer and its outcome. */
class PassThroughCall implements ExchangeEvents {
  private settled = false;
  private current?: TunnelExchange;
  private retriesLeft = 1;
  private readonly replaySafe: boolean;

  constructor(
    private readonly request: ExchangeRequest,
    private readonly pool: TunnelStreamPool,
    private readonly clock: Clock,
    private readonly headerTimeoutMs: number,
    private readonly resolve: (outcome: ForwardOutcome) => void,
  ) {
    this.replaySafe = REPLAY_SAFE_METHODS.has(request.method) && !request.chunked && request.length === 0;
  }

  start(): void {
    const { res } = this.request;
    res.once('close', () => {
      if (res.writableFinished) return;
      this.settle({ kind: 'failed', status: 499, error: new ClientGoneError() });
      this.current?.abort();
    });
    this.attempt();
  }

  onRequestWritten(ex: TunnelExchange): void {
    if (this.settled || this.headerTimeoutMs <= 0) return;
    ex.cancelTimer?.();
    ex.cancelTimer = this.clock.schedule(this.headerTimeoutMs, () => {
      if (ex.done) return;
      ex.abort();
      writeJsonError(this.request.res, 504, ProxyErrors.timeout);
      this.settle({ kind: 'failed', status: 504, error: new HeaderTimeoutError(this.headerTimeoutMs) });
    });
  }

  onResponse(_ex: TunnelExchange, status: number): void {
    this.settle({ kind: 'ok', status });
  }

  onFailedBeforeResponse(ex: TunnelExchange, err: Error | undefined): void {
    if (this.settled) return;
    const { res } = this.request;
    const reset = err === undefined || isConnectionReset(err);
    if (reset && this.replaySafe && !res.headersSent) {
      // A pooled stream the agent closed while idle fails at once: the request never reached the service.
      if (ex.reused && this.retriesLeft > 0) {
        this.retriesLeft--;
        this.attempt();
        return;
      }
      // The agent died under a request that may be replayed elsewhere (RFC 9110 §9.2.2).
      this.settle({ kind: 'not-sent', error: err ?? streamClosed() });
      return;
    }
    if (err instanceof UpstreamGoneError && !res.headersSent) {
      this.settle({ kind: 'not-sent', error: err });
      return;
    }
    this.fail502(err ?? streamClosed());
  }

  onBadResponse(_ex: TunnelExchange, err: HttpFramingError): void {
    this.fail502(err);
  }

  private attempt(): void {
    try {
      this.current = new TunnelExchange(this.request, this.pool, this);
    } catch (err) {
      // No stream could be opened (the upstream has just gone away): nothing was sent, nothing is written.
      this.settle({ kind: 'not-sent', error: err instanceof Error ? err : new UpstreamGoneError(String(err)) });
    }
  }

  private fail502(err: Error): void {
    if (this.settled) return;
    writeJsonError(this.request.res, 502, ProxyErrors.unreachable);
    this.settle({ kind: 'failed', status: 502, error: err });
  }

  private settle(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }
}

function streamClosed(): Error {
  return Object.assign(new Error('socket hang up: the tunnel stream closed before the response'), { code: 'ECONNRESET' });
}
