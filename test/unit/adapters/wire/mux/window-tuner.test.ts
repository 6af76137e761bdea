import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { Flag, FrameType, type Frame } from '../../../../../src/adapters/wire/mux/frame.js';
import { MuxSession, type MuxSessionOptions } from '../../../../../src/adapters/wire/mux/session.js';
import { resolveSessionOptions } from '../../../../../src/adapters/wire/mux/session-options.js';
import type { MuxStream } from '../../../../../src/adapters/wire/mux/stream.js';
import { ReceiveWindowTuner, WINDOW_GROWTH_INTERVAL_MS, WindowBudget } from '../../../../../src/adapters/wire/mux/window-tuner.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

const KiB = 1024;
const BASE = 256 * KiB;

async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('WindowBudget', () => {
  it('gives what is left, refuses more, and takes back what was given', () => {
    const budget = new WindowBudget(100);
    assert.equal(budget.take(60), true);
    assert.equal(budget.take(50), false, 'only 40 left');
    assert.equal(budget.left, 40);
    budget.give(60);
    assert.equal(budget.left, 100);
    budget.give(10);
    assert.equal(budget.left, 100, 'never more than the total');
  });
});

describe('ReceiveWindowTuner', () => {
  it('doubles the window while updates fall due within the interval and nothing waits unread, up to the cap', () => {
    const clock = new FakeClock();
    const budget = new WindowBudget(64 * 1024 * KiB);
    const tuner = new ReceiveWindowTuner(BASE, 2048 * KiB, budget, clock);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.advance(WINDOW_GROWTH_INTERVAL_MS);
      seen.push(tuner.due(0));
    }
    assert.deepEqual(seen, [512 * KiB, 1024 * KiB, 2048 * KiB, 2048 * KiB, 2048 * KiB, 2048 * KiB]);
    assert.equal(budget.left, 64 * 1024 * KiB - (2048 * KiB - BASE));
    tuner.release();
    tuner.release();
    assert.equal(budget.left, 64 * 1024 * KiB, 'the extra goes back once');
  });

  it('does not grow for a reader that is slow (updates far apart) or behind (bytes unread)', () => {
    const clock = new FakeClock();
    const tuner = new ReceiveWindowTuner(BASE, 2048 * KiB, new WindowBudget(64 * 1024 * KiB), clock);
    clock.advance(WINDOW_GROWTH_INTERVAL_MS + 1);
    assert.equal(tuner.due(0), BASE, 'slow');
    clock.advance(1);
    assert.equal(tuner.due(1), BASE, 'bytes still unread');
    clock.advance(1);
    assert.equal(tuner.due(0), 2 * BASE, 'fast and drained');
  });

  it('grows only as far as the session budget allows, shared by its streams', () => {
    const clock = new FakeClock();
    const budget = new WindowBudget(BASE);
    const a = new ReceiveWindowTuner(BASE, 2048 * KiB, budget, clock);
    const b = new ReceiveWindowTuner(BASE, 2048 * KiB, budget, clock);
    clock.advance(1);
    assert.equal(a.due(0), 2 * BASE);
    assert.equal(b.due(0), BASE, 'budget spent by a');
    a.release();
    clock.advance(1);
    assert.equal(b.due(0), 2 * BASE, 'a gave it back');
    clock.advance(1);
    assert.equal(b.due(0), 2 * BASE, 'no more budget for a second doubling');
  });
});

/** Our session against raw frames written by the test, with what it sends decoded. */
function session(options: Partial<MuxSessionOptions> = {}) {
  const clock = new FakeClock();
  const [ours, theirs] = duplexPair();
  const s = new MuxSession(ours, { role: 'server', clock, keepAliveIntervalMs: 0, ...options });
  const received: Frame[] = [];
  const decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });
  theirs.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) received.push(f);
  });
  const closes: Array<Error | undefined> = [];
  s.on('close', (e) => closes.push(e));
  return { clock, session: s, theirs, received, closes };
}

describe('MuxSession receive windows', () => {
  /** The peer sends `total` bytes in 32 KiB frames, never beyond the window granted; the reader drains each. */
  async function transfer(options: Partial<MuxSessionOptions>, total: number, msPerFrame: number) {
    const t = session(options);
    const streams: MuxStream[] = [];
    t.session.on('stream', (st) => streams.push(st));
    t.theirs.write(encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 }));
    await settle();
    const stream = streams[0]!;
    let read = 0;
    stream.on('data', (c: Buffer) => (read += c.length));
    let credit = BASE;
    let seen = 0;
    const chunk = Buffer.alloc(32 * KiB);
    for (let sent = 0; sent < total; ) {
      for (const f of t.received.slice(seen)) if (f.type === FrameType.WindowUpdate && f.streamId === 1) credit += f.length;
      seen = t.received.length;
      if (credit < chunk.length) {
        await settle();
        assert.ok(t.received.length > seen, 'the peer waits for a window update that never comes');
        continue;
      }
      t.theirs.write(encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1, length: chunk.length }, chunk));
      credit -= chunk.length;
      sent += chunk.length;
      t.clock.advance(msPerFrame);
      await settle(3);
    }
    await settle();
    const grants = t.received.filter((f) => f.type === FrameType.WindowUpdate && f.streamId === 1).map((f) => f.length);
    return { read, grants, closes: t.closes };
  }

  it('grows the window of a stream whose reader keeps up, never past the cap, with no window violation', async () => {
    const { read, grants, closes } = await transfer({ windowCap: 2048 * KiB }, 16 * 1024 * KiB, 1);
    assert.equal(read, 16 * 1024 * KiB);
    assert.deepEqual(closes, []);
    assert.ok(Math.max(...grants) > BASE, `grants grew past 256 KiB: ${grants.join(', ')}`);
    assert.ok(Math.max(...grants) <= 2048 * KiB, `never past the 2 MiB cap: ${grants.join(', ')}`);
  });

  it('keeps the window at 256 KiB on the server side by default, with windowCap equal to the initial window, or for a slow reader', async () => {
    const cases = [[{}, 1], [{ windowCap: BASE }, 1], [{ windowCap: 2048 * KiB }, 10 * WINDOW_GROWTH_INTERVAL_MS]] as const;
    for (const [options, ms] of cases) {
      const { read, grants, closes } = await transfer(options, 4 * 1024 * KiB, ms);
      assert.equal(read, 4 * 1024 * KiB);
      assert.deepEqual(closes, []);
      assert.ok(Math.max(...grants) <= BASE, `fixed window: ${grants.join(', ')}`);
    }
  });

  it('grows windows by default on the client side (2 MiB) and not on the server side', () => {
    const clock = new FakeClock();
    assert.equal(resolveSessionOptions({ role: 'client', clock }).windowCap, 2048 * KiB);
    assert.equal(resolveSessionOptions({ role: 'server', clock }).windowCap, BASE);
    assert.equal(resolveSessionOptions({ role: 'server', clock, initialWindow: 4096 * KiB }).windowCap, 4096 * KiB);
  });

  it('refuses a windowCap below the initial window, naming the option', () => {
    const clock = new FakeClock();
    const [ours] = duplexPair();
    assert.throws(() => new MuxSession(ours, { role: 'server', clock, windowCap: BASE - 1 }), /windowCap must be an integer from initialWindow/);
  });
});
