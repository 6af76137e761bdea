/**
 * Property-based fuzzing of the yamux frame decoder and encoder (fast-check). Inside `npm test` the run is bounded
 * (over 10^5 generated inputs in all, a few seconds); `FUZZ_SCALE=<n>` multiplies every run count for a long
 * run, and `FUZZ_SEED=<seed>` replays the seed a failure reports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, encodeHeader, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { MuxProtocolError } from '../../../../../src/adapters/wire/mux/errors.js';
import { FrameType, HEADER_LENGTH, MAX_UINT32, type Frame, type FrameHeader } from '../../../../../src/adapters/wire/mux/frame.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runs = (n: number): fc.Parameters<unknown> => ({ numRuns: Math.round(n * SCALE), ...(SEED === undefined ? {} : { seed: SEED }) });

/** What a decode produced: the frames (payloads copied, since they may be views) and the error, if any. */
interface Outcome {
  readonly frames: Array<FrameHeader & { payload: string | undefined }>;
  readonly error: string | undefined;
  readonly buffered: number | undefined;
}

const snapshot = (f: Frame) => ({
  type: f.type,
  flags: f.flags,
  streamId: f.streamId,
  length: f.length,
  payload: f.payload === undefined ? undefined : f.payload.toString('hex'),
});

/**
 * Feeds `chunks` to a new decoder. Any exception other than a MuxProtocolError fails the property; a
 * MuxProtocolError ends the decode (the decoder is not used after an error, as the session does).
 */
function decode(chunks: readonly Uint8Array[], maxDataPayload?: number): Outcome {
  const decoder = new FrameDecoder(maxDataPayload === undefined ? {} : { maxDataPayload });
  const frames: Outcome['frames'] = [];
  try {
    for (const chunk of chunks) for (const f of decoder.push(chunk)) frames.push(snapshot(f));
  } catch (error) {
    if (!(error instanceof MuxProtocolError)) throw error;
    assert.equal(error.code, 'TUN_ERR_MUX_PROTOCOL');
    return { frames, error: error.reason, buffered: undefined };
  }
  return { frames, error: undefined, buffered: decoder.bufferedBytes };
}

/** Splits `bytes` at the given cut points (any values: they are reduced modulo the length and sorted). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

const u32 = fc.integer({ min: 0, max: MAX_UINT32 });
const flags = fc.oneof(fc.integer({ min: 0, max: 0xf }), fc.integer({ min: 0, max: 0xffff }));

/** A valid frame: any header fields, and for a data frame a payload of exactly `length` bytes. */
const validFrame: fc.Arbitrary<{ header: FrameHeader; payload: Uint8Array | undefined }> = fc.oneof(
  fc
    .record({ flags, streamId: u32, payload: fc.uint8Array({ maxLength: 300 }) })
    .map(({ flags: f, streamId, payload }) => ({
      header: { type: FrameType.Data, flags: f, streamId, length: payload.length },
      payload,
    })),
  fc
    .record({ type: fc.constantFrom(FrameType.WindowUpdate, FrameType.Ping, FrameType.GoAway), flags, streamId: u32, length: u32 })
    .map((header) => ({ header: header as FrameHeader, payload: undefined })),
);

/**
 * Bytes that look like frames often enough to reach every branch: headers with version 0 most of the time, types
 * around the valid range, lengths around the payload limit, then random payload bytes that may or may not match
 * the length.
 */
const frameLike = fc
  .array(
    fc.record({
      version: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
      type: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
      flags,
      streamId: u32,
      length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 2048 }), u32),
      tail: fc.uint8Array({ maxLength: 96 }),
    }),
    { maxLength: 8 },
  )
  .map((parts) =>
    Buffer.concat(
      parts.flatMap((p) => {
        const h = Buffer.alloc(HEADER_LENGTH);
        h[0] = p.version;
        h[1] = p.type;
        h.writeUInt16BE(p.flags, 2);
        h.writeUInt32BE(p.streamId, 4);
        h.writeUInt32BE(p.length, 8);
        return [h, Buffer.from(p.tail)];
      }),
    ),
  );

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), frameLike);
const maxPayload = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 4096 }));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe('FrameDecoder fuzzing', () => {
  it('throws nothing but its own MuxProtocolError on arbitrary bytes in arbitrary chunks', () => {
    fc.assert(
      fc.property(anyBytes, cuts, maxPayload, (bytes, at, max) => {
        decode(split(bytes, at), max);
      }),
      runs(40_000),
    );
  });

  it('decodes the same frames and fails the same way however the input is chunked', () => {
    fc.assert(
      fc.property(anyBytes, cuts, maxPayload, (bytes, at, max) => {
        assert.deepEqual(decode(split(bytes, at), max), decode([bytes], max));
      }),
      runs(30_000),
    );
  });

  it('gives back every valid frame it encoded (encode then decode is the identity)', () => {
    fc.assert(
      fc.property(validFrame, ({ header, payload }) => {
        const bytes = encodeFrame(header, payload);
        assert.equal(bytes.length, HEADER_LENGTH + (payload?.length ?? 0));
        const out = decode([bytes], MAX_UINT32);
        assert.equal(out.error, undefined);
        assert.equal(out.buffered, 0);
        assert.deepEqual(out.frames, [snapshot({ ...header, payload: payload === undefined ? undefined : Buffer.from(payload) } as Frame)]);
        assert.deepEqual(encodeHeader(header), bytes.subarray(0, HEADER_LENGTH));
      }),
      runs(20_000),
    );
  });

  it('decodes a stream of valid frames cut at arbitrary points into exactly those frames', () => {
    fc.assert(
      fc.property(fc.array(validFrame, { maxLength: 12 }), cuts, (frames, at) => {
        const bytes = Buffer.concat(frames.map(({ header, payload }) => encodeFrame(header, payload)));
        const out = decode(split(bytes, at), MAX_UINT32);
        assert.equal(out.error, undefined);
        assert.equal(out.buffered, 0);
        assert.deepEqual(
          out.frames,
          frames.map(({ header, payload }) => snapshot({ ...header, payload: payload === undefined ? undefined : Buffer.from(payload) } as Frame)),
        );
      }),
      runs(20_000),
    );
  });

  it('holds every byte of an incomplete frame, and no more, between chunks', () => {
    fc.assert(
      fc.property(validFrame, fc.nat(), ({ header, payload }, cut) => {
        const bytes = encodeFrame(header, payload);
        const at = cut % bytes.length; // strictly inside the frame
        const decoder = new FrameDecoder({ maxDataPayload: MAX_UINT32 });
        assert.deepEqual([...decoder.push(bytes.subarray(0, at))], []);
        assert.equal(decoder.bufferedBytes, at);
        assert.equal([...decoder.push(bytes.subarray(at))].length, 1);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      runs(10_000),
    );
  });
});
