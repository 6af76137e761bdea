import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, encodeHeader, FrameDecoder, writeHeader } from '../../../../../src/adapters/wire/mux/codec.js';
import { MuxProtocolError } from '../../../../../src/adapters/wire/mux/errors.js';
import {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  type Frame,
  type FrameHeader,
} from '../../../../../src/adapters/wire/mux/frame.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A deterministic PRNG (mulberry32), so random tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) for (const f of decoder.push(c)) out.push(f);
  return out;
}

/** Plain view of a frame for deep comparison (payload as hex). */
function view(f: Frame): object {
  return { type: f.type, flags: f.flags, streamId: f.streamId, length: f.length, payload: f.payload && hex(f.payload) };
}

describe('codec', () => {
  describe('encodeHeader', () => {
    const table: Array<[string, FrameHeader, string]> = [
      ['data SYN on stream 1', { type: FrameType.Data, flags: Flag.SYN, streamId: 1, length: 5 }, '000000010000000100000005'],
      [
        'window update SYN|ACK with a 256 KiB delta',
        { type: FrameType.WindowUpdate, flags: Flag.SYN | Flag.ACK, streamId: 2, length: 262144 },
        '000100030000000200040000',
      ],
      ['window update FIN', { type: FrameType.WindowUpdate, flags: Flag.FIN, streamId: 7, length: 0 }, '000100040000000700000000'],
      ['window update RST', { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 0x01020304, length: 0 }, '000100080102030400000000'],
      ['ping request', { type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0xdeadbeef }, '00020001000000' + '00deadbeef'],
      ['ping response', { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 42 }, '00020002000000000000002a'],
      ['go-away normal', { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.Normal }, '000300000000000000000000'],
      [
        'go-away protocol error',
        { type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.ProtocolError },
        '000300000000000000000001',
      ],
      [
        'maximum field values',
        { type: FrameType.Data, flags: 0xffff, streamId: 0xffffffff, length: 0xffffffff },
        '0000ffffffffffffffffffff',
      ],
    ];
    for (const [name, header, bytes] of table) {
      it(`encodes ${name}`, () => {
        assert.equal(hex(encodeHeader(header)), bytes);
      });
      it(`decodes ${name}`, () => {
        const decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });
        const frames = decodeAll(decoder, [Buffer.from(bytes, 'hex')]);
        if (header.type === FrameType.Data) {
          assert.equal(frames.length, 0, 'a data header waits for its payload');
          assert.equal(decoder.bufferedBytes, HEADER_LENGTH);
        } else {
          assert.deepEqual(frames.map(view), [{ ...header, payload: undefined }]);
        }
      });
    }
  });

  describe('writeHeader', () => {
    it('writes at an offset without touching other bytes', () => {
      const buf = Buffer.alloc(16, 0xaa);
      writeHeader(buf, 2, FrameType.WindowUpdate, Flag.ACK, 3, 4);
      assert.equal(hex(buf), 'aaaa' + '000100020000000300000004' + 'aaaa');
    });
  });

  describe('encodeFrame', () => {
    it('puts the payload right after the header', () => {
      const f = encodeFrame({ type: FrameType.Data, flags: 0, streamId: 9, length: 3 }, Buffer.from('abc'));
      assert.equal(hex(f), '000000000000000900000003' + '616263');
    });
    it('ignores a payload on a non-data frame', () => {
      const f = encodeFrame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 1 }, Buffer.from('x'));
      assert.equal(f.length, HEADER_LENGTH);
    });
    it('rejects a length that does not match the payload', () => {
      assert.throws(() => encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1, length: 4 }, Buffer.from('abc')), RangeError);
    });
  });

  describe('FrameDecoder', () => {
    const frames: Array<[FrameHeader, Buffer | undefined]> = [
      [{ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 1, length: 0 }, undefined],
      [{ type: FrameType.Data, flags: 0, streamId: 1, length: 11 }, Buffer.from('hello world')],
      [{ type: FrameType.Data, flags: Flag.FIN, streamId: 1, length: 0 }, Buffer.alloc(0)],
      [{ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 7 }, undefined],
      [{ type: FrameType.Data, flags: Flag.ACK, streamId: 2, length: 300 }, Buffer.alloc(300, 0x5a)],
      [{ type: FrameType.GoAway, flags: 0, streamId: 0, length: 0 }, undefined],
    ];
    const wire = Buffer.concat(frames.map(([h, p]) => encodeFrame(h, p)));
    const expected = frames.map(([h, p]) => ({ ...h, payload: p && hex(p) }));

    it('decodes several frames from one chunk', () => {
      assert.deepEqual(decodeAll(new FrameDecoder(), [wire]).map(view), expected);
    });

    it('decodes the same frames whatever the split point', () => {
      for (let i = 0; i <= wire.length; i++) {
        const got = decodeAll(new FrameDecoder(), [wire.subarray(0, i), wire.subarray(i)]).map(view);
        assert.deepEqual(got, expected, `split at ${i}`);
      }
    });

    it('decodes the same frames fed one byte at a time', () => {
      const chunks = [...wire].map((b) => Buffer.of(b));
      assert.deepEqual(decodeAll(new FrameDecoder(), chunks).map(view), expected);
    });

    it('decodes the same frames from random chunkings', () => {
      const random = rng(1);
      for (let round = 0; round < 200; round++) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < wire.length; ) {
          const n = 1 + Math.floor(random() * 40);
          chunks.push(wire.subarray(at, at + n));
          at += n;
        }
        assert.deepEqual(decodeAll(new FrameDecoder(), chunks).map(view), expected, `round ${round}`);
      }
    });

    it('returns a payload inside one chunk as a view, without copying', () => {
      const bytes = encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1, length: 4 }, Buffer.from('wxyz'));
      const [frame] = decodeAll(new FrameDecoder(), [bytes]);
      assert.ok(frame?.payload);
      assert.equal(frame.payload.buffer, bytes.buffer);
      assert.equal(frame.payload.byteOffset, bytes.byteOffset + HEADER_LENGTH);
    });

    it('accepts a Uint8Array that is not a Buffer', () => {
      const bytes = new Uint8Array(encodeFrame({ type: FrameType.Data, flags: 0, streamId: 3, length: 2 }, Buffer.from('hi')));
      const [frame] = decodeAll(new FrameDecoder(), [bytes]);
      assert.equal(frame?.payload?.toString(), 'hi');
    });

    it('holds a truncated frame without yielding it', () => {
      const decoder = new FrameDecoder();
      const bytes = encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1, length: 10 }, Buffer.alloc(10));
      assert.deepEqual(decodeAll(decoder, [bytes.subarray(0, 5)]), []);
      assert.equal(decoder.bufferedBytes, 5);
      assert.deepEqual(decodeAll(decoder, [bytes.subarray(5, 15)]), []);
      assert.equal(decoder.bufferedBytes, 15);
      assert.equal(decodeAll(decoder, [bytes.subarray(15)]).length, 1);
      assert.equal(decoder.bufferedBytes, 0);
    });

    it('ignores an empty chunk', () => {
      assert.deepEqual(decodeAll(new FrameDecoder(), [Buffer.alloc(0)]), []);
    });

    it('accepts a data frame of exactly the limit, and rejects one byte more', () => {
      const limit = 1024;
      const ok = encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1, length: limit }, Buffer.alloc(limit));
      assert.equal(decodeAll(new FrameDecoder({ maxDataPayload: limit }), [ok]).length, 1);
      const tooBig = encodeHeader({ type: FrameType.Data, flags: 0, streamId: 1, length: limit + 1 });
      assert.throws(
        () => decodeAll(new FrameDecoder({ maxDataPayload: limit }), [tooBig]),
        (e: unknown) => e instanceof MuxProtocolError && e.reason === 'frame-too-large',
      );
    });

    it('limits data frames to the initial window by default, but not other frame types', () => {
      const header = (type: FrameType): Buffer =>
        encodeHeader({ type, flags: 0, streamId: 1, length: INITIAL_STREAM_WINDOW + 1 });
      assert.throws(() => decodeAll(new FrameDecoder(), [header(FrameType.Data)]), MuxProtocolError);
      assert.equal(decodeAll(new FrameDecoder(), [header(FrameType.WindowUpdate)]).length, 1);
    });

    it('rejects a bad version', () => {
      const bytes = Buffer.from('010000000000000100000000', 'hex');
      assert.throws(
        () => decodeAll(new FrameDecoder(), [bytes]),
        (e: unknown) =>
          e instanceof MuxProtocolError &&
          e.reason === 'invalid-version' &&
          e.code === 'TUN_ERR_MUX_PROTOCOL' &&
          e.goAwayCode === GoAwayCode.ProtocolError,
      );
    });

    it('rejects an unknown type, even when the header arrives split', () => {
      const bytes = Buffer.from('000400000000000100000000', 'hex');
      assert.throws(
        () => decodeAll(new FrameDecoder(), [bytes.subarray(0, 3), bytes.subarray(3)]),
        (e: unknown) => e instanceof MuxProtocolError && e.reason === 'invalid-type',
      );
    });

    it('throws nothing but MuxProtocolError on random input', () => {
      const random = rng(42);
      let protocolErrors = 0;
      for (let round = 0; round < 2000; round++) {
        const length = Math.floor(random() * 200);
        const bytes = Buffer.alloc(length);
        for (let i = 0; i < length; i++) {
          // Bias towards valid-looking headers so the decoder gets past the first checks.
          bytes[i] = random() < 0.6 ? 0 : Math.floor(random() * 256);
        }
        const decoder = new FrameDecoder({ maxDataPayload: 64 });
        try {
          for (let at = 0; at < length; ) {
            const n = 1 + Math.floor(random() * 30);
            for (const _frame of decoder.push(bytes.subarray(at, at + n))) {
              // drain
            }
            at += n;
          }
        } catch (e) {
          assert.ok(e instanceof MuxProtocolError, `round ${round}: unexpected ${String(e)}`);
          protocolErrors++;
        }
      }
      assert.ok(protocolErrors > 0);
    });

    it('throws nothing but MuxProtocolError on truncated and corrupted valid streams', () => {
      const random = rng(7);
      for (let round = 0; round < 500; round++) {
        const bytes = Buffer.from(wire);
        const flips = Math.floor(random() * 4);
        for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        const cut = Math.floor(random() * bytes.length);
        try {
          decodeAll(new FrameDecoder({ maxDataPayload: 1024 }), [bytes.subarray(0, cut)]);
        } catch (e) {
          assert.ok(e instanceof MuxProtocolError, `round ${round}: unexpected ${String(e)}`);
        }
      }
    });
  });
});
