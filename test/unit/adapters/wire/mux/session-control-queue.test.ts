/**
 * Control frames under transport backpressure: a peer that stops reading must not grow our memory without bound,
 * whatever it sends (pings, SYNs, data that earns window updates), on either side (server or agent role), while a
 * peer that reads slowly but honestly keeps its session however many streams come and go meanwhile.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { MuxProtocolError } from '../../../../../src/adapters/wire/mux/errors.js';
import {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  type Frame,
  type FrameHeader,
} from '../../../../../src/adapters/wire/mux/frame.js';
import { MuxSession, type MuxSessionOptions } from '../../../../../src/adapters/wire/mux/session.js';
import type { MuxStream } from '../../../../../src/adapters/wire/mux/stream.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

/** High-water mark of the in-memory pipe: our writes report backpressure once this much is unread. */
const HWM = 1024;

/** Lets in-memory I/O settle. Not a timer: no wall-clock waiting. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const frame = (h: FrameHeader, payload?: Buffer): Buffer => encodeFrame(h, payload);
const ping = (opaque: number): Buffer => frame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: opaque });
const syn = (id: number): Buffer => frame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: id, length: 0 });

/**
 * Our session on one end of a pipe; the test writes raw frames on the other end and reads nothing until
 * `startReading()`, so our transport fills up and then reports backpressure, as a socket to a peer that stopped
 * reading does.
 */
function stalledPeer(options: Partial<MuxSessionOptions> = {}) {
  const clock = new FakeClock();
  const [ours, theirs] = duplexPair({ highWaterMark: HWM });
  theirs.on('error', () => {});
  const session = new MuxSession(ours, { role: 'server', clock, keepAliveIntervalMs: 0, ...options });
  const closes: Array<Error | undefined> = [];
  session.on('close', (e) => closes.push(e));
  const received: Frame[] = [];
  const startReading = (): void => {
    const decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });
    theirs.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) received.push(f);
    });
  };
  return { clock, session, ours, theirs: theirs as Duplex, closes, received, startReading };
}

function assertControlQueueFull(closes: Array<Error | undefined>): void {
  assert.equal(closes.length, 1);
  const error = closes[0];
  assert.ok(error instanceof MuxProtocolError, `closed with ${String(error)}`);
  assert.equal(error.reason, 'control-queue-full');
  assert.equal(error.goAwayCode, GoAwayCode.ProtocolError);
}

describe('MuxSession control frames under backpressure', () => {
  for (const role of ['server', 'client'] as const) {
    it(`(${role}) closes with a protocol error when a peer pings without reading, and stays bounded`, async () => {
      const { session, ours, theirs, closes } = stalledPeer({ role, maxQueuedControlFrames: 64 });
      const pings = 20_000;
      const batch = Buffer.concat(Array.from({ length: pings }, (_, i) => ping(i)));
      let peak = 0;
      for (let at = 0; at < batch.length && !session.closed; at += 1200) {
        theirs.write(batch.subarray(at, at + 1200));
        await settle(1);
        peak = Math.max(peak, ours.writableLength);
      }
      await settle();
      assert.equal(session.closed, true, `session still open with ${ours.writableLength} bytes queued`);
      assertControlQueueFull(closes);
      // What waits in the transport: its buffer up to the high-water mark, plus one frame (the go-away).
      assert.ok(peak <= HWM + 2 * HEADER_LENGTH, `peak ${peak} bytes queued in the transport`);
    });
  }

  it('answers every ping once the peer reads again, when the backlog stayed under the bound', async () => {
    const { session, theirs, closes, received, startReading } = stalledPeer({ maxQueuedControlFrames: 1024 });
    const count = 300; // 300 replies = 3600 bytes: more than the pipe holds, fewer than the bound
    theirs.write(Buffer.concat(Array.from({ length: count }, (_, i) => ping(i))));
    await settle();
    assert.equal(session.closed, false);
    startReading();
    await settle();
    assert.deepEqual(closes, []);
    const acks = received.filter((f) => f.type === FrameType.Ping);
    assert.deepEqual(
      acks.map((f) => f.length),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.ok(acks.every((f) => f.flags === Flag.ACK));
  });

  it('bounds a SYN flood from a peer that does not read: refused streams count toward the bound', async () => {
    // The upstream server refuses (destroys) every stream an agent opens; each refusal is an RST.
    const { session, theirs, closes } = stalledPeer({ maxStreams: 32, maxQueuedControlFrames: 64 });
    session.on('stream', (s: MuxStream) => s.destroy());
    for (let id = 1; id < 2 * 20_000 && !session.closed; id += 2 * 100) {
      theirs.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => syn(id + 2 * i))));
      await settle(1);
    }
    await settle();
    assertControlQueueFull(closes);
  });

  it('keeps the session of a slow reader while many streams open and close meanwhile', async () => {
    const { session, ours, closes, received, startReading } = stalledPeer({ maxQueuedControlFrames: 8 });
    // Fill the transport so that it reports backpressure.
    session.openStream().write(Buffer.alloc(4 * HWM));
    await settle();
    assert.ok(ours.writableNeedDrain, 'the transport should be under backpressure');
    const opened: MuxStream[] = [];
    for (let i = 0; i < 2000; i++) opened.push(session.openStream().on('error', () => {}));
    // Half of them are reset before the peer heard of them: nothing needs to be sent for those.
    for (let i = 0; i < opened.length; i += 2) opened[i]!.destroy();
    await settle();
    assert.equal(session.closed, false);
    assert.deepEqual(closes, []);
    startReading();
    await settle(50);
    const synIds = received.filter((f) => f.type === FrameType.WindowUpdate && f.flags & Flag.SYN).map((f) => f.streamId);
    const kept = opened.filter((_, i) => i % 2 === 1).map((s) => s.id);
    assert.deepEqual(synIds.slice(1), kept);
    assert.equal(
      received.some((f) => f.flags & Flag.RST),
      false,
      'a stream the peer never heard of needs no RST',
    );
  });

  it('merges the window updates of a stream while the transport is blocked into one frame', async () => {
    // Fixed windows: a window that grows with the reader would make the merged update larger (tested elsewhere).
    const { session, ours, theirs, received, startReading } = stalledPeer({ role: 'client', windowCap: 256 * 1024 });
    const streams: MuxStream[] = [];
    session.on('stream', (s) => streams.push(s));
    theirs.write(syn(2));
    await settle();
    const stream = streams[0]!;
    stream.write(Buffer.alloc(4 * HWM)); // blocks the transport
    await settle();
    assert.ok(ours.writableNeedDrain);
    // The peer sends a whole window in small frames; we consume each as it comes, earning a window update for
    // every half window consumed: two of them, which wait for the transport and go out as one frame.
    const chunk = Buffer.alloc(4096);
    for (let i = 0; i < 64; i++) {
      theirs.write(frame({ type: FrameType.Data, flags: 0, streamId: 2, length: chunk.length }, chunk));
      await settle(2);
      while (stream.read() !== null);
    }
    await settle();
    startReading();
    await settle(50);
    const updates = received.filter((f) => f.type === FrameType.WindowUpdate && f.streamId === 2 && f.flags === 0);
    assert.equal(updates.length, 1, `window updates: ${updates.map((f) => f.length).join(', ')}`);
    assert.equal(updates[0]?.length, 64 * 4096);
    assert.equal(session.closed, false);
  });
});
