import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ForwardOptions, ForwardOutcome, ForwardTarget, Forwarder } from '../../../src/application/ports/forwarder.port.js';
import { caseOptions, type KnownViolations } from './contract-case.js';

/** How a target answers one request, the same script for every kind of target and every implementation. */
export interface TargetScript {
  /** Response status; 200 unless set. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Response body, written chunk by chunk. */
  readonly chunks?: readonly string[];
  /** Pause between body chunks (the first chunk goes with the headers). */
  readonly chunkGapMs?: number;
  /** Pause before the response headers, counted from the end of the request body. */
  readonly headerDelayMs?: number;
  /** Reads the request in full, then resets the connection (or tunnel stream) without answering. */
  readonly reset?: boolean;
}

/** What a target received. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A target made by the harness, with what it has received so far. */
export interface ScriptedTarget {
  readonly target: ForwardTarget;
  readonly received: readonly Received[];
}

/** An implementation of the Forwarder port under test, with targets it can reach. */
export interface ForwarderHarness {
  readonly forwarder: Forwarder;
  /** A local upstream (an accepting `UpstreamConnection`) whose service answers with `script`. */
  upstream(script: TargetScript): Promise<ScriptedTarget> | ScriptedTarget;
  /** A peer node's proxy port, answering with `script`, addressed for `endpointId`. */
  node(script: TargetScript, endpointId: string): Promise<ScriptedTarget> | ScriptedTarget;
  /** A peer node that refuses connections (a closed port). */
  refusedNode(endpointId: string): Promise<ForwardTarget> | ForwardTarget;
  /** Releases everything the harness holds; called once, after every case. */
  close?(): Promise<void> | void;
}

/** The IDs of the cases of {@link forwarderContract}, for {@link KnownViolations}. */
export type ForwarderCase =
  | 'ok-upstream'
  | 'ok-node'
  | 'goaway-not-sent'
  | 'refused-not-sent'
  | 'reset-upstream-502'
  | 'reset-node-502'
  | 'header-timeout-504'
  | 'slow-body-not-cut'
  | 'node-hop-marker'
  | 'hop-by-hop-request'
  | 'hop-by-hop-response'
  | 'client-gone'
  | 'resolves-once';

/** Options of {@link forwarderContract}. */
export interface ForwarderContractOptions {
  readonly knownViolations?: KnownViolations<ForwarderCase>;
}

/** The status the front answers with when the forwarder wrote nothing (`not-sent`): proof nothing was written. */
const FRONT_NOT_SENT = 299;
/** Deadlock guard on every forward call; never a speed assertion. */
const GUARD_MS = 20_000;

/** The answer a client got. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A front `node:http` server whose handler forwards every request to the target set for the next call. */
class Front {
  readonly server: Server;
  /** Every outcome, in the order the calls settled; `settles` counts how often each call's promise settled. */
  readonly outcomes: ForwardOutcome[] = [];
  readonly settles: number[] = [];
  private next: { target: ForwardTarget; options: ForwardOptions } | undefined;
  private pending: Array<(o: ForwardOutcome) => void> = [];

  constructor(forwarder: Forwarder) {
    this.server = createServer((req, res) => this.handle(forwarder, req, res));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Sets the target of the next request; resolves with that call's outcome. */
  expect(target: ForwardTarget, headerTimeoutMs = 0): Promise<ForwardOutcome> {
    this.next = { target, options: { headerTimeoutMs } };
    return new Promise((resolve) => this.pending.push(resolve));
  }

  private handle(forwarder: Forwarder, req: IncomingMessage, res: ServerResponse): void {
    const call = this.next;
    const done = this.pending.shift();
    if (call === undefined || done === undefined) {
      res.writeHead(500).end('no target set');
      return;
    }
    const index = this.settles.push(0) - 1;
    const guard = setTimeout(() => done({ kind: 'failed', status: 0, error: new Error('the forward call never settled') }), GUARD_MS);
    forwarder.forward(req, res, call.target, call.options).then(
      (outcome) => {
        this.settles[index] = (this.settles[index] ?? 0) + 1;
        clearTimeout(guard);
        this.outcomes.push(outcome);
        if (outcome.kind === 'not-sent') {
          // The front checks that nothing was written, then answers itself.
          const untouched = !res.headersSent && !res.writableEnded && !res.destroyed;
          if (!res.destroyed) res.writeHead(FRONT_NOT_SENT, { 'x-untouched': String(untouched) }).end();
        }
        done(outcome);
      },
      (error: unknown) => {
        clearTimeout(guard);
        done({ kind: 'failed', status: -1, error: new Error(`forward rejected: ${String(error)}`) });
      },
    );
  }
}

/** Sends one request to the front and collects the answer. */
function send(port: number, init: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: init.method ?? 'GET', path: init.path ?? '/', headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Runs a {@link TargetScript} as a `node:http` handler, recording each request (for harnesses built on node:http). */
export function scriptHandler(script: TargetScript, received: Received[]): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(chunks) });
      void (async () => {
        if (script.reset === true) {
          req.socket.destroy();
          return;
        }
        if (script.headerDelayMs !== undefined) await sleep(script.headerDelayMs);
        if (res.destroyed) return;
        res.writeHead(script.status ?? 200, { ...(script.headers ?? {}) });
        const body = script.chunks ?? [];
        for (let i = 0; i < body.length; i += 1) {
          if (i > 0 && script.chunkGapMs !== undefined) await sleep(script.chunkGapMs);
          if (res.destroyed) return;
          res.write(body[i]);
        }
        res.end();
      })();
    });
  };
}

const ENDPOINT = 'contract-endpoint';
const bigChunks = (count: number, size: number): string[] => Array.from({ length: count }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(size));

/**
 * The contract of the Forwarder port (`src/application/ports/forwarder.port.ts`), exercised through real HTTP
 * clients against a front `node:http` server whose handler calls `forward`: `ok` carries the status and the
 * bodies stream in full both ways; a target that takes nothing (an upstream that stopped accepting, a node that
 * refuses) gives `not-sent` with nothing written; a reset after sending gives `failed` 502 `upstream
 * unreachable`; late headers give `failed` 504 `upstream timeout`, while a slow body after the headers is never
 * cut; a node target gets the forwarded-hop marker and the endpoint chosen; hop-by-hop headers stop at the
 * forwarder both ways; every call settles exactly once.
 */
export function forwarderContract(
  name: string,
  make: () => Promise<ForwarderHarness> | ForwarderHarness,
  options: ForwarderContractOptions = {},
): void {
  const known = options.knownViolations;
  describe(name, () => {
    let h: ForwarderHarness;
    let front: Front;
    before(async () => {
      h = await make();
      front = new Front(h.forwarder);
      await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      front.server.closeAllConnections();
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
      await h.close?.();
    });

    async function okCase(t: ScriptedTarget): Promise<void> {
      const upload = 'u'.repeat(300_000);
      const chunks = bigChunks(20, 10_000);
      const outcome = front.expect(t.target);
      const answer = await send(front.port, { method: 'POST', path: '/upload?x=1', body: upload, headers: { 'content-type': 'text/plain' } });
      assert.deepEqual(await outcome, { kind: 'ok', status: 201 });
      assert.equal(answer.status, 201);
      assert.equal(answer.headers['x-from-target'], 'yes');
      assert.equal(answer.body, chunks.join(''), 'the response body in full');
      const seen = t.received.at(-1);
      assert.equal(seen?.method, 'POST');
      assert.equal(seen?.url, '/upload?x=1');
      assert.equal(seen?.body.toString(), upload, 'the request body in full');
    }
    const okScript = (): TargetScript => ({ status: 201, headers: { 'x-from-target': 'yes' }, chunks: bigChunks(20, 10_000) });

    describe('ok', () => {
      it('carries the status and both bodies in full to and from an upstream', caseOptions('ok-upstream', known), async () => {
        await okCase(await h.upstream(okScript()));
      });
      it('carries the status and both bodies in full to and from a node', caseOptions('ok-node', known), async () => {
        await okCase(await h.node(okScript(), ENDPOINT));
      });
    });

    describe('not-sent', () => {
      it('an upstream that stopped accepting (go-away before the call) takes nothing; nothing is written', caseOptions('goaway-not-sent', known), async () => {
        const t = await h.upstream({ chunks: ['never'] });
        assert.equal(t.target.kind, 'upstream');
        if (t.target.kind === 'upstream') t.target.upstream.goAway();
        const outcome = front.expect(t.target);
        const answer = await send(front.port, { method: 'POST', body: 'hello' });
        const got = await outcome;
        assert.equal(got.kind, 'not-sent');
        assert.equal(answer.status, FRONT_NOT_SENT);
        assert.equal(answer.headers['x-untouched'], 'true', 'the forwarder wrote nothing to the response');
        assert.equal(t.received.length, 0, 'the service saw nothing');
      });
      it('a node that refuses the connection takes nothing; nothing is written', caseOptions('refused-not-sent', known), async () => {
        const target = await h.refusedNode(ENDPOINT);
        const outcome = front.expect(target, 5_000);
        const answer = await send(front.port, { method: 'POST', body: 'hello' });
        assert.equal((await outcome).kind, 'not-sent');
        assert.equal(answer.status, FRONT_NOT_SENT);
        assert.equal(answer.headers['x-untouched'], 'true', 'the forwarder wrote nothing to the response');
      });
    });

    describe('failed', () => {
      async function resetCase(t: ScriptedTarget): Promise<void> {
        const outcome = front.expect(t.target);
        const answer = await send(front.port, { method: 'POST', body: 'a request that left' });
        const got = await outcome;
        assert.equal(got.kind, 'failed');
        assert.equal(got.kind === 'failed' ? got.status : 0, 502);
        assert.equal(answer.status, 502);
        assert.deepEqual(JSON.parse(answer.body), { error: 'upstream unreachable' });
        assert.equal(t.received.length, 1, 'the request reached the service once (never replayed)');
      }
      it('a tunnel stream reset after sending gives 502 upstream unreachable', caseOptions('reset-upstream-502', known), async () => {
        await resetCase(await h.upstream({ reset: true }));
      });
      it('a node connection reset after sending gives 502 upstream unreachable', caseOptions('reset-node-502', known), async () => {
        await resetCase(await h.node({ reset: true }, ENDPOINT));
      });
      it('headers later than headerTimeoutMs give 504 upstream timeout', caseOptions('header-timeout-504', known), async () => {
        const t = await h.upstream({ headerDelayMs: 2_000, chunks: ['late'] });
        const outcome = front.expect(t.target, 100);
        const answer = await send(front.port);
        const got = await outcome;
        assert.equal(got.kind, 'failed');
        assert.equal(got.kind === 'failed' ? got.status : 0, 504);
        assert.equal(answer.status, 504);
        assert.deepEqual(JSON.parse(answer.body), { error: 'upstream timeout' });
      });
      it('the client going away before the headers ends the call as failed', caseOptions('client-gone', known), async () => {
        const t = await h.upstream({ headerDelayMs: 500, chunks: ['late'] });
        const outcome = front.expect(t.target);
        const req = request({ host: '127.0.0.1', port: front.port, method: 'GET', path: '/', agent: false });
        req.on('error', () => undefined);
        req.end();
        while (t.received.length === 0) await sleep(5);
        req.destroy();
        assert.equal((await outcome).kind, 'failed');
      });
    });

    it('never cuts a slow body once the headers came within headerTimeoutMs', caseOptions('slow-body-not-cut', known), async () => {
      const chunks = ['one;', 'two;', 'three;', 'four;'];
      const t = await h.upstream({ chunks, chunkGapMs: 150 });
      const outcome = front.expect(t.target, 100);
      const answer = await send(front.port);
      assert.deepEqual(await outcome, { kind: 'ok', status: 200 });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, chunks.join(''));
    });

    describe('headers', () => {
      it("a node target gets x-piko-forward: true and x-piko-endpoint set to the target's endpoint", caseOptions('node-hop-marker', known), async () => {
        const t = await h.node({ chunks: ['ok'] }, 'chosen-endpoint');
        const outcome = front.expect(t.target);
        await send(front.port, { headers: { 'x-piko-endpoint': 'client-said-this' } });
        assert.equal((await outcome).kind, 'ok');
        const seen = t.received.at(-1);
        assert.equal(seen?.headers['x-piko-forward'], 'true');
        assert.equal(seen?.headers['x-piko-endpoint'], 'chosen-endpoint');
      });
      it('hop-by-hop request headers are not passed on', caseOptions('hop-by-hop-request', known), async () => {
        for (const t of [await h.upstream({ chunks: ['ok'] }), await h.node({ chunks: ['ok'] }, ENDPOINT)]) {
          const outcome = front.expect(t.target);
          await send(front.port, {
            headers: { connection: 'keep-alive, x-conn-listed', 'x-conn-listed': '1', 'keep-alive': 'timeout=5', 'proxy-authorization': 'Basic eDp5', 'proxy-connection': 'keep-alive', te: 'trailers', 'x-end-to-end': 'kept' },
          });
          assert.equal((await outcome).kind, 'ok');
          const seen = t.received.at(-1)?.headers ?? {};
          for (const name of ['x-conn-listed', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te']) {
            assert.equal(seen[name], undefined, `${name} reached the ${t.target.kind} target`);
          }
          assert.equal(seen['x-end-to-end'], 'kept');
        }
      });
      it('hop-by-hop response headers are not passed back', caseOptions('hop-by-hop-response', known), async () => {
        const t = await h.upstream({ headers: { connection: 'x-resp-listed', 'x-resp-listed': '1', 'proxy-authenticate': 'Basic', 'x-end-to-end': 'kept' }, chunks: ['ok'] });
        const outcome = front.expect(t.target);
        const answer = await send(front.port);
        assert.equal((await outcome).kind, 'ok');
        assert.equal(answer.headers['x-resp-listed'], undefined);
        assert.equal(answer.headers['proxy-authenticate'], undefined);
        assert.equal(answer.headers['x-end-to-end'], 'kept');
        assert.equal(answer.body, 'ok');
      });
    });

    it('every call settles exactly once', caseOptions('resolves-once', known), async () => {
      // Runs last: every call of the suite (and a few more, side by side) has settled, each once.
      const targets = [await h.upstream({ chunks: ['a'] }), await h.upstream({ reset: true }), await h.node({ chunks: ['b'] }, ENDPOINT)];
      for (const t of targets) {
        const outcome = front.expect(t.target);
        await send(front.port, { method: 'POST', body: 'x' });
        await outcome;
      }
      await sleep(50);
      assert.ok(front.settles.length >= 3);
      assert.deepEqual(front.settles, front.settles.map(() => 1), `settle counts per call: ${front.settles.join(',')}`);
    });
  });
}
