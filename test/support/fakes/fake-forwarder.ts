import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import type { ForwardOptions, ForwardOutcome, ForwardTarget, Forwarder } from '../../../src/application/ports/forwarder.port.js';
import type { UpstreamConnection } from '../../../src/application/ports/upstream-transport.port.js';

/** A request as a fake target sees it: hop-by-hop headers removed, the hop marker set for a node target. */
export interface FakeForwardedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** How a fake target answers: a response (headers when the promise resolves, then the body), or a reset. */
export type FakeTargetAnswer =
  | { readonly kind: 'respond'; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: AsyncIterable<string | Buffer> | readonly (string | Buffer)[] }
  | { readonly kind: 'reset' };

/** Answers the requests sent to one target. */
export type FakeTargetHandler = (request: FakeForwardedRequest) => Promise<FakeTargetAnswer> | FakeTargetAnswer;

/** One recorded call. */
export interface FakeForwardCall {
  readonly target: ForwardTarget;
  readonly options: ForwardOptions;
  readonly method: string;
  readonly url: string;
  /** The outcome, once settled. */
  outcome?: ForwardOutcome;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Removes `Connection`, the headers it lists and the other hop-by-hop headers, in a copy. */
function endToEnd(headers: IncomingHttpHeaders | Readonly<Record<string, string>>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.includes(lower) || listed.includes(lower)) continue;
    out[lower] = value;
  }
  return out;
}

function jsonError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: message }) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A working Forwarder held in memory. It answers from a handler registered per target (an upstream connection
 * object, or a node's proxy address), records every call, and keeps the port's outcome rules: an upstream that
 * is not accepting, or a node with no handler (a refused connection), gives `not-sent` with nothing written; a
 * reset gives `failed` 502 `upstream unreachable`; headers later than `headerTimeoutMs` give `failed` 504
 * `upstream timeout`; a client that goes away gives `failed` 499. Upgrades are refused with `failed` 502.
 */
export class FakeForwarder implements Forwarder {
  /** Every call, in order. */
  readonly calls: FakeForwardCall[] = [];
  private readonly upstreams = new Map<UpstreamConnection, FakeTargetHandler>();
  private readonly nodes = new Map<string, FakeTargetHandler>();
  /** When set, answers every call instead of the per-target handlers (for tests of callers). */
  decide?: (target: ForwardTarget, req: IncomingMessage, res: ServerResponse) => Promise<ForwardOutcome> | ForwardOutcome;

  /** Registers the handler of a local upstream connection. */
  serveUpstream(upstream: UpstreamConnection, handler: FakeTargetHandler): void {
    this.upstreams.set(upstream, handler);
  }

  /** Registers the handler of a peer node's proxy address; an address without one refuses connections. */
  serveNode(proxyAddr: string, handler: FakeTargetHandler): void {
    this.nodes.set(proxyAddr, handler);
  }

  async forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome> {
    const call: FakeForwardCall = { target, options, method: req.method ?? 'GET', url: req.url ?? '/' };
    this.calls.push(call);
    const outcome = await this.run(req, res, target, options);
    call.outcome = outcome;
    return outcome;
  }

  async forwardUpgrade(req: IncomingMessage, socket: Duplex, _head: Buffer, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome> {
    this.calls.push({ target, options, method: req.method ?? 'GET', url: req.url ?? '/' });
    socket.destroy();
    return { kind: 'failed', status: 502, error: new Error('the fake forwarder does not carry upgrades') };
  }

  private async run(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome> {
    if (this.decide !== undefined) return this.decide(target, req, res);
    let handler: FakeTargetHandler | undefined;
    if (target.kind === 'upstream') {
      try {
        target.upstream.openStream().destroy();
      } catch (err) {
        return { kind: 'not-sent', error: err instanceof Error ? err : new Error(String(err)) };
      }
      handler = this.upstreams.get(target.upstream);
      if (handler === undefined) return { kind: 'not-sent', error: new Error(`no handler for upstream ${target.upstream.id}`) };
    } else {
      handler = this.nodes.get(target.proxyAddr);
      if (handler === undefined) {
        const refused = Object.assign(new Error(`connect ECONNREFUSED ${target.proxyAddr}`), { code: 'ECONNREFUSED' });
        return { kind: 'not-sent', error: refused };
      }
    }
    const serve = handler;
    return new Promise<ForwardOutcome>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (o: ForwardOutcome): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        resolve(o);
      };
      res.once('close', () => {
        if (!res.writableFinished) settle({ kind: 'failed', status: 499, error: new Error('client closed the connection') });
      });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('end', () => {
        const headers = endToEnd(req.headers) as IncomingHttpHeaders;
        if (target.kind === 'node') {
          headers['x-piko-forward'] = 'true';
          headers['x-piko-endpoint'] = target.endpointId;
        }
        if (options.headerTimeoutMs > 0) {
          timer = setTimeout(() => {
            jsonError(res, 504, 'upstream timeout');
            settle({ kind: 'failed', status: 504, error: new Error(`no response headers within ${options.headerTimeoutMs} ms`) });
          }, options.headerTimeoutMs);
        }
        void (async () => {
          const answer = await serve({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body: Buffer.concat(chunks) });
          if (settled) return;
          if (answer.kind === 'reset') {
            jsonError(res, 502, 'upstream unreachable');
            settle({ kind: 'failed', status: 502, error: new Error('stream reset') });
            return;
          }
          res.writeHead(answer.status, endToEnd(answer.headers ?? {}));
          settle({ kind: 'ok', status: answer.status });
          for await (const chunk of answer.body ?? []) {
            if (res.destroyed) return;
            res.write(chunk);
          }
          res.end();
        })();
      });
    });
  }
}
