/**
 * Property-based fuzzing of MuxSession (fast-check): random frame sequences from the peer (valid and broken),
 * interleaved with local actions, transport backpressure and timers. Whatever happens, nothing may escape the
 * transport's event handlers, everything the session writes must be well-formed yamux, what waits in the transport
 * must stay bounded, and a closed session must hold no stream. `FUZZ_SCALE` and `FUZZ_SEED` as in codec-fuzz.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import {
  MuxGoAwayError,
  MuxProtocolError,
  MuxSessionClosedError,
  MuxStreamLimitError,
  MuxTimeoutError,
} from '../../../../../src/adapters/wire/mux/errors.js';
import { Flag, FrameType, GoAwayCode, HEADER_LENGTH, MAX_UINT32 } from '../../../../../src/adapters/wire/mux/frame.js';
import { MuxSession } from '../../../../../src/adapters/wire/mux/session.js';
import type { MuxStream } from '../../../../../src/adapters/wire/mux/stream.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const HWM = 256;
const MAX_STREAMS = 8;
const MAX_QUEUED = 8;
const MAX_FRAME_PAYLOAD = 1024;

/**
 * A transport that records everything the session hands to `write()` (in order, whether or not it got through
 * before the transport was destroyed) and can stop completing writes (backpressure).
 */
class FakeTransport extends Duplex {
  readonly out: Buffer[] = [];
  #held: Array<() => void> = [];
  stalled = false;

  constructor() {
    super({ highWaterMark: HWM });
    const write = this.write.bind(this) as (chunk: Buffer, callback?: (error?: Error | null) => void) => boolean;
    this.write = ((chunk: Buffer, callback?: (error?: Error | null) => void) => {
      this.out.push(chunk);
      return write(chunk, callback);
    }) as typeof this.write;
  }

  override _read(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.stalled) this.#held.push(callback);
    else callback();
  }

  /** Completes every held write (emitting 'drain' when the session waits for it). */
  release(): void {
    this.stalled = false;
    const held = this.#held;
    this.#held = [];
    for (const callback of held) callback();
  }
}

type Action =
  | { kind: 'frames'; bytes: Buffer; cut: number }
  | { kind: 'open' }
  | { kind: 'write'; which: number; size: number }
  | { kind: 'end'; which: number }
  | { kind: 'destroy'; which: number }
  | { kind: 'read'; which: number }
  | { kind: 'stall' }
  | { kind: 'release' }
  | { kind: 'ping' }
  | { kind: 'goaway' }
  | { kind: 'advance'; ms: number }
  | { kind: 'tick' };

const streamId = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: MAX_UINT32 }));
const peerFrame = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant(FrameType.WindowUpdate), flags: fc.integer({ min: 0, max: 15 }), streamId, length: fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.constant(MAX_UINT32)) }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant(FrameType.Data), flags: fc.integer({ min: 0, max: 15 }), streamId, payload: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 300_000 })) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant(FrameType.Ping), flags: fc.integer({ min: 0, max: 3 }), streamId: fc.constant(0), length: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(FrameType.GoAway), flags: fc.constant(0), streamId: fc.constant(0), length: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => ({ raw: Buffer.from(b) })) },
);
const encodePeerFrame = (f: fc.Arbitrary<unknown> extends never ? never : Record<string, unknown>): Buffer => {
  if ('raw' in f) return f.raw as Buffer;
  if (f.type === FrameType.Data) {
    const payload = Buffer.alloc(f.payload as number, 0x5a);
    return encodeFrame({ type: FrameType.Data, flags: f.flags as number, streamId: f.streamId as number, length: payload.length }, payload);
  }
  return encodeFrame(f as never);
};
const which = fc.nat({ max: 15 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('frames' as const), bytes: fc.array(peerFrame, { minLength: 1, maxLength: 6 }).map((fs) => Buffer.concat(fs.map(encodePeerFrame))), cut: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), which, size: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 600_000 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const), which }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy' as const), which }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), which }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stall' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ping' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'goaway' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 400_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
);

const EXPECTED_CLOSE = [MuxProtocolError, MuxGoAwayError, MuxTimeoutError, MuxSessionClosedError];
const EXPECTED_OPEN_ERRORS = [MuxSessionClosedError, MuxGoAwayError, MuxStreamLimitError];

describe('MuxSession fuzzing', () => {
  it('survives arbitrary peer input and local actions with its invariants intact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('client' as const, 'server' as const), fc.boolean(), fc.array(action, { maxLength: 30 }), async (role, listen, actions) => {
        const clock = new FakeClock();
        const transport = new FakeTransport();
        const session = new MuxSession(transport, {
          role,
          clock,
          maxStreams: MAX_STREAMS,
          acceptBacklog: 4,
          maxQueuedControlFrames: MAX_QUEUED,
          maxFramePayload: MAX_FRAME_PAYLOAD,
          keepAliveIntervalMs: 30_000,
          keepAliveTimeoutMs: 10_000,
        });
        const closes: Array<Error | undefined> = [];
        session.on('close', (e) => closes.push(e));
        session.on('goaway', () => {});
        const streams: MuxStream[] = [];
        const own = (s: MuxStream): MuxStream => {
          s.on('error', () => {});
          streams.push(s);
          return s;
        };
        if (listen) session.on('stream', own);
        const pick = (i: number): MuxStream | undefined => streams[i % Math.max(1, streams.length)];

        for (const a of actions) {
          switch (a.kind) {
            case 'frames': {
              const at = a.cut % (a.bytes.length + 1);
              transport.emit('data', a.bytes.subarray(0, at));
              transport.emit('data', a.bytes.subarray(at));
              break;
            }
            case 'open':
              try {
                own(session.openStream());
              } catch (error) {
                assert.ok(EXPECTED_OPEN_ERRORS.some((c) => error instanceof c), String(error));
              }
              break;
            case 'write':
              pick(a.which)?.write(Buffer.alloc(a.size, 0x33), () => {});
              break;
            case 'end':
              pick(a.which)?.end();
              break;
            case 'destroy':
              pick(a.which)?.destroy();
              break;
            case 'read':
              pick(a.which)?.read();
              break;
            case 'stall':
              transport.stalled = true;
              break;
            case 'release':
              transport.release();
              break;
            case 'ping':
              session.ping().catch(() => {});
              break;
            case 'goaway':
              session.goAway();
              break;
            case 'advance':
              clock.advance(a.ms);
              break;
            case 'tick':
              await new Promise<void>((resolve) => setImmediate(resolve));
              break;
          }
          // Bounded: what waits in the transport is its buffer plus one data frame plus one batch of control
          // frames (one per stream and the session queue) plus the go-away of a protocol error.
          const bound = HWM + HEADER_LENGTH + MAX_FRAME_PAYLOAD + (MAX_STREAMS + MAX_QUEUED + 2) * HEADER_LENGTH;
          assert.ok(transport.writableLength <= bound, `${transport.writableLength} bytes wait in the transport`);
        }

        // Everything we wrote is well-formed yamux, and our SYNs use our parity.
        const decoder = new FrameDecoder({ maxDataPayload: MAX_UINT32 });
        const written = [...decoder.push(Buffer.concat(transport.out))];
        assert.equal(decoder.bufferedBytes, 0, 'a frame was cut short');
        const ourParity = role === 'server' ? 0 : 1;
        for (const f of written) {
          if (f.type === FrameType.Data || f.type === FrameType.WindowUpdate) {
            assert.notEqual(f.streamId, 0);
            if (f.flags & Flag.SYN) assert.equal(f.streamId & 1, ourParity, `SYN for ${f.streamId}`);
          } else {
            assert.equal(f.streamId, 0);
          }
        }
        assert.ok(closes.length <= 1, 'closed more than once');
        if (session.closed) {
          assert.equal(session.streamCount, 0);
          const error = closes[0];
          if (error !== undefined) assert.ok(EXPECTED_CLOSE.some((c) => error instanceof c), String(error));
          if (error instanceof MuxProtocolError) {
            assert.ok(written.some((f) => f.type === FrameType.GoAway && f.length === GoAwayCode.ProtocolError), 'no go-away(1) sent');
          }
        }
        assert.ok(session.streamCount <= MAX_STREAMS);
        session.close();
        transport.release();
      }),
      { numRuns: Math.round(2_500 * SCALE), ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  });
});
