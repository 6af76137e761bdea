import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';

import {
  UpstreamGoneError,
  type TunnelStream,
  type UpstreamConnection,
} from '../../../src/application/ports/upstream-transport.port.js';
import type { EndpointId } from '../../../src/domain/endpoint/endpoint-id.js';
import { caseOptions, turns, type KnownViolations } from './contract-case.js';

/**
 * What the far side (the agent) can do, so the suite can check the promises that depend on it. Every hook is
 * optional: a case that needs a missing hook is skipped.
 */
export interface UpstreamConnectionHooks {
  /** The agent sends go-away; resolves once the connection had the chance to learn it. */
  peerGoAway?(): Promise<void> | void;
  /** The agent's side of the connection drops; resolves once the connection had the chance to learn it. */
  peerDisconnect?(): Promise<void> | void;
  /** Whether the agent has been told to stop using the connection (asked after `goAway()`). */
  peerToldGoAway?(): Promise<boolean> | boolean;
  /** Whether the agent sees the connection closed (asked after `close()`). */
  peerSawClose?(): Promise<boolean> | boolean;
  /** Releases what the harness holds; called after every case. */
  close?(): Promise<void> | void;
}

/**
 * A fresh, accepting connection whose upstream echoes: every byte written to a stream comes back on it, and the
 * upstream ends its side once the stream's writer has ended.
 */
export interface UpstreamConnectionHarness {
  readonly connection: UpstreamConnection;
  /** What the connection was created with. */
  readonly expected: { readonly id: string; readonly endpointId: EndpointId; readonly remoteAddress: string };
  readonly hooks?: UpstreamConnectionHooks;
}

/** The IDs of the cases of {@link upstreamConnectionContract}, for {@link KnownViolations}. */
export type UpstreamConnectionCase =
  | 'identity'
  | 'accepting-when-fresh'
  | 'stream-at-once'
  | 'streams-independent'
  | 'destroy-resets-one-stream'
  | 'goaway-stops-accepting'
  | 'goaway-notifies-once'
  | 'goaway-keeps-in-flight'
  | 'goaway-tells-peer'
  | 'close-stops-accepting'
  | 'close-ends-streams'
  | 'close-notifies-once'
  | 'close-tells-peer'
  | 'listener-after-stop'
  | 'peer-goaway'
  | 'peer-disconnect';

/** Options of {@link upstreamConnectionContract}. */
export interface UpstreamConnectionContractOptions {
  /** Cases this implementation is known to break; they run as `todo`. */
  readonly knownViolations?: KnownViolations<UpstreamConnectionCase>;
}

/** Collects what a stream reads until its readable side ends; rejects if it closes or fails first. */
function readAll(stream: TunnelStream): Promise<Buffer> {
  const all = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('the stream closed before its readable side ended')));
  });
  all.catch(() => undefined); // a case may await it only later; the failure still reaches whoever awaits it
  return all;
}

/** Resolves once `stream` has read `text` back (the upstream has taken the stream). */
function echoed(stream: TunnelStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= text.length) {
        stream.off('data', onData);
        if (got === text) resolve();
        else reject(new Error(`expected the echo ${JSON.stringify(text)}, got ${JSON.stringify(got)}`));
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** Writes `payload` in a few chunks, ends, and resolves with what came back. */
async function roundTrip(stream: TunnelStream, payload: Buffer): Promise<Buffer> {
  const back = readAll(stream);
  for (let at = 0; at < payload.length; at += 1000) stream.write(payload.subarray(at, at + 1000));
  stream.end();
  return back;
}

/** Resolves once `stream` has emitted `'close'`; its error, if any, is swallowed (the case is about closing). */
function closed(stream: TunnelStream): Promise<void> {
  stream.on('error', () => undefined);
  if (stream.destroyed && stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function assertGone(connection: UpstreamConnection): void {
  assert.equal(connection.accepting, false, 'accepting is false');
  assert.throws(
    () => connection.openStream(),
    (error: unknown) => error instanceof UpstreamGoneError && error.name === 'UpstreamGoneError',
    'openStream throws UpstreamGoneError',
  );
}

/**
 * The contract of `UpstreamConnection` (`src/application/ports/upstream-transport.port.ts`): a fresh connection
 * accepts; `openStream` returns a socket-like byte stream at once; go-away (from either side) and close stop
 * accepting at once, make `openStream` throw `UpstreamGoneError` and call each `onStopAccepting` listener
 * exactly once; go-away lets in-flight streams finish while close ends them.
 */
export function upstreamConnectionContract(
  name: string,
  make: () => Promise<UpstreamConnectionHarness> | UpstreamConnectionHarness,
  options: UpstreamConnectionContractOptions = {},
): void {
  const known = options.knownViolations;

  async function withHarness(body: (c: UpstreamConnection, h: UpstreamConnectionHarness) => Promise<void>): Promise<void> {
    const harness = await make();
    try {
      await body(harness.connection, harness);
    } finally {
      await harness.hooks?.close?.();
    }
  }

  /** A case that needs `hook`: skipped when a harness made now lacks it (probed once, at declaration). */
  function needs(id: UpstreamConnectionCase, hook: keyof UpstreamConnectionHooks, title: string, body: (c: UpstreamConnection, h: UpstreamConnectionHarness) => Promise<void>): void {
    it(title, async (t) => {
      const harness = await make();
      try {
        if (harness.hooks?.[hook] === undefined) {
          t.skip(`the harness has no ${hook} hook`);
          return;
        }
        const reason = known?.[id];
        if (reason !== undefined) t.todo(`known violation: ${reason}`);
        await body(harness.connection, harness);
      } finally {
        await harness.hooks?.close?.();
      }
    });
  }

  describe(name, () => {
    describe('a fresh connection', () => {
      it('carries the ID, endpoint and remote address it was created with', caseOptions('identity', known), () =>
        withHarness(async (c, h) => {
          assert.equal(c.id, h.expected.id);
          assert.equal(c.endpointId, h.expected.endpointId);
          assert.equal(c.remoteAddress, h.expected.remoteAddress);
        }));

      it('is accepting', caseOptions('accepting-when-fresh', known), () =>
        withHarness(async (c) => {
          assert.equal(c.accepting, true);
        }));
    });

    describe('openStream', () => {
      it('returns a duplex stream at once that carries bytes both ways, and end() half-closes it', caseOptions('stream-at-once', known), () =>
        withHarness(async (c) => {
          const stream = c.openStream();
          assert.ok(stream instanceof Duplex, 'a Duplex');
          const payload = Buffer.from('x'.repeat(2500) + 'the end');
          assert.deepEqual(await roundTrip(stream, payload), payload, 'written at once, echoed, then ended');
        }));

      it('keeps several streams independent', caseOptions('streams-independent', known), () =>
        withHarness(async (c) => {
          const streams = [c.openStream(), c.openStream(), c.openStream()];
          const backs = streams.map((s) => readAll(s));
          for (let round = 0; round < 3; round += 1) {
            streams.forEach((s, i) => s.write(`stream ${i} round ${round};`));
          }
          streams.forEach((s) => s.end());
          const got = (await Promise.all(backs)).map((b) => b.toString());
          assert.deepEqual(got, [0, 1, 2].map((i) => `stream ${i} round 0;stream ${i} round 1;stream ${i} round 2;`));
        }));

      it('lets destroy() reset one stream while the connection keeps accepting', caseOptions('destroy-resets-one-stream', known), () =>
        withHarness(async (c) => {
          const doomed = c.openStream();
          const done = closed(doomed);
          doomed.write('half a request');
          doomed.destroy();
          await done;
          await turns();
          assert.equal(c.accepting, true);
          const payload = Buffer.from('still works');
          assert.deepEqual(await roundTrip(c.openStream(), payload), payload);
        }));
    });

    describe('goAway', () => {
      it('stops accepting at once: openStream throws UpstreamGoneError', caseOptions('goaway-stops-accepting', known), () =>
        withHarness(async (c) => {
          c.goAway();
          assertGone(c);
        }));

      it('calls every onStopAccepting listener exactly once, even when close follows', caseOptions('goaway-notifies-once', known), () =>
        withHarness(async (c) => {
          const calls = [0, 0];
          c.onStopAccepting(() => (calls[0] as number) += 1);
          c.onStopAccepting(() => (calls[1] as number) += 1);
          assert.deepEqual(calls, [0, 0], 'not before');
          c.goAway();
          await turns();
          assert.deepEqual(calls, [1, 1]);
          c.goAway();
          c.close();
          await turns();
          assert.deepEqual(calls, [1, 1], 'once only');
        }));

      it('lets a stream opened before it finish both ways', caseOptions('goaway-keeps-in-flight', known), () =>
        withHarness(async (c) => {
          const stream = c.openStream();
          const back = readAll(stream);
          stream.write('before go-away;');
          c.goAway();
          await turns();
          stream.write('after go-away');
          stream.end();
          assert.equal((await back).toString(), 'before go-away;after go-away');
        }));

      needs('goaway-tells-peer', 'peerToldGoAway', 'tells the agent to stop using the connection', async (c, h) => {
        c.goAway();
        await turns();
        assert.equal(await h.hooks?.peerToldGoAway?.(), true);
      });
    });

    describe('close', () => {
      it('stops accepting at once: openStream throws UpstreamGoneError', caseOptions('close-stops-accepting', known), () =>
        withHarness(async (c) => {
          c.close();
          assertGone(c);
        }));

      it('closes every stream on the connection', caseOptions('close-ends-streams', known), () =>
        withHarness(async (c) => {
          const streams = [c.openStream(), c.openStream()];
          streams[0]?.write('in flight');
          const done = streams.map((s) => closed(s));
          c.close();
          await Promise.all(done);
          for (const s of streams) assert.equal(s.destroyed, true);
        }));

      it('calls every onStopAccepting listener exactly once', caseOptions('close-notifies-once', known), () =>
        withHarness(async (c) => {
          const calls = [0, 0];
          c.onStopAccepting(() => (calls[0] as number) += 1);
          c.onStopAccepting(() => (calls[1] as number) += 1);
          c.close();
          await turns();
          c.close();
          c.goAway();
          await turns();
          assert.deepEqual(calls, [1, 1]);
        }));

      needs('close-tells-peer', 'peerSawClose', 'ends the connection for the agent too', async (c, h) => {
        c.close();
        await turns();
        assert.equal(await h.hooks?.peerSawClose?.(), true);
      });
    });

    describe('onStopAccepting', () => {
      it('calls a listener added after the connection stopped accepting, once', caseOptions('listener-after-stop', known), () =>
        withHarness(async (c) => {
          c.goAway();
          await turns();
          let calls = 0;
          c.onStopAccepting(() => (calls += 1));
          await turns();
          c.close();
          await turns();
          assert.equal(calls, 1);
        }));
    });

    describe('the agent', () => {
      needs('peer-goaway', 'peerGoAway', 'sending go-away stops accepting, notifies once and lets in-flight streams finish', async (c, h) => {
        let calls = 0;
        c.onStopAccepting(() => (calls += 1));
        const stream = c.openStream();
        const first = echoed(stream, 'before;');
        stream.write('before;');
        await first; // the agent has taken the stream: it is in flight
        const back = readAll(stream);
        await h.hooks?.peerGoAway?.();
        await turns();
        assertGone(c);
        assert.equal(calls, 1);
        stream.write('after');
        stream.end();
        assert.equal((await back).toString(), 'after');
        c.close();
        await turns();
        assert.equal(calls, 1, 'once only');
      });

      needs('peer-disconnect', 'peerDisconnect', 'dropping the connection stops accepting and notifies once', async (c, h) => {
        let calls = 0;
        c.onStopAccepting(() => (calls += 1));
        const stream = c.openStream();
        const done = closed(stream);
        await h.hooks?.peerDisconnect?.();
        await turns();
        assertGone(c);
        assert.equal(calls, 1);
        await done;
      });
    });
  });
}
