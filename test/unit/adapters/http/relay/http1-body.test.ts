import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BodyTracker, requestFraming, responseFraming, wantsClose, type BodyFraming } from '../../../../../src/adapters/http/relay/http1-body.js';
import { HttpFramingError, type HeaderField, type RequestHead, type ResponseHead } from '../../../../../src/adapters/http/relay/http1-head.js';
import { FUZZ_RUNS, fuzzParameters } from '../../../../support/fuzz.js';

const req = (headers: HeaderField[], method = 'POST'): RequestHead => ({ method, target: '/', version: '1.1', headers });
const res = (status: number, headers: HeaderField[] = []): ResponseHead => ({ version: '1.1', status, headers });

function refused(fn: () => unknown, status: number): void {
  assert.throws(fn, (err: unknown) => err instanceof HttpFramingError && err.status === status);
}

describe('requestFraming', () => {
  it('none without framing headers or with Content-Length 0; a length; chunked', () => {
    assert.deepEqual(requestFraming(req([])), { kind: 'none' });
    assert.deepEqual(requestFraming(req([['content-length', '0']])), { kind: 'none' });
    assert.deepEqual(requestFraming(req([['content-length', '12']])), { kind: 'length', length: 12 });
    assert.deepEqual(requestFraming(req([['transfer-encoding', 'Chunked']])), { kind: 'chunked' });
  });

  it('accepts repeats of Content-Length that agree, in one header or several', () => {
    assert.deepEqual(requestFraming(req([['content-length', '5, 5']])), { kind: 'length', length: 5 });
    assert.deepEqual(requestFraming(req([['content-length', '5'], ['content-length', '5']])), { kind: 'length', length: 5 });
  });

  const bad: ReadonlyArray<readonly [string, HeaderField[]]> = [
    ['Transfer-Encoding with Content-Length', [['transfer-encoding', 'chunked'], ['content-length', '3']]],
    ['a coding before chunked', [['transfer-encoding', 'gzip, chunked']]],
    ['chunked twice', [['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']]],
    ['a coding other than chunked', [['transfer-encoding', 'gzip']]],
    ['an empty Transfer-Encoding', [['transfer-encoding', '']]],
    ['Content-Length repeats that disagree', [['content-length', '5'], ['content-length', '6']]],
    ['a signed Content-Length', [['content-length', '+5']]],
    ['a hex Content-Length', [['content-length', '0x5']]],
    ['an empty Content-Length', [['content-length', '']]],
    ['a Content-Length with an empty repeat', [['content-length', '5,,5']]],
    ['a Content-Length of 16 digits', [['content-length', '1234567890123456']]],
  ];
  for (const [what, headers] of bad) {
    it(`refuses ${what} with 400`, () => refused(() => requestFraming(req(headers)), 400));
  }
});

describe('responseFraming', () => {
  it('no body after HEAD, for 204 and for 304, whatever the headers say', () => {
    assert.deepEqual(responseFraming(res(200, [['content-length', '10']]), 'HEAD', false), { kind: 'none' });
    assert.deepEqual(responseFraming(res(204, [['transfer-encoding', 'chunked']]), 'GET', false), { kind: 'none' });
    assert.deepEqual(responseFraming(res(304, [['content-length', '10']]), 'GET', false), { kind: 'none' });
  });

  it('1xx other than 101 is interim; 101 is a switch only when an upgrade was asked', () => {
    assert.deepEqual(responseFraming(res(100), 'POST', false), { kind: 'interim' });
    assert.deepEqual(responseFraming(res(103), 'GET', true), { kind: 'interim' });
    assert.deepEqual(responseFraming(res(101), 'GET', true), { kind: 'switch' });
    refused(() => responseFraming(res(101), 'GET', false), 502);
  });

  it('chunked when chunked is the last coding, else the close; a length; the close without one', () => {
    assert.deepEqual(responseFraming(res(200, [['transfer-encoding', 'gzip, chunked']]), 'GET', false), { kind: 'chunked' });
    assert.deepEqual(responseFraming(res(200, [['transfer-encoding', 'chunked, gzip']]), 'GET', false), { kind: 'close' });
    assert.deepEqual(responseFraming(res(200, [['content-length', '7']]), 'GET', false), { kind: 'length', length: 7 });
    assert.deepEqual(responseFraming(res(200, [['content-length', '0']]), 'GET', false), { kind: 'none' });
    assert.deepEqual(responseFraming(res(200), 'GET', false), { kind: 'close' });
  });

  it('refuses both framing headers or a bad Content-Length with 502', () => {
    refused(() => responseFraming(res(200, [['transfer-encoding', 'chunked'], ['content-length', '1']]), 'GET', false), 502);
    refused(() => responseFraming(res(200, [['content-length', '1, 2']]), 'GET', false), 502);
    refused(() => responseFraming(res(200, [['content-length', 'x']]), 'GET', false), 502);
  });
});

describe('wantsClose', () => {
  it('Connection: close, or HTTP/1.0 without keep-alive', () => {
    assert.equal(wantsClose('1.1', []), false);
    assert.equal(wantsClose('1.1', [['connection', 'keep-alive, Close']]), true);
    assert.equal(wantsClose('1.0', []), true);
    assert.equal(wantsClose('1.0', [['connection', 'Keep-Alive']]), false);
  });
});

/** Feeds `reads` one after the other; returns the bytes the tracker took and whether it stopped early. */
function track(tracker: BodyTracker, reads: readonly Buffer[]): number {
  let taken = 0;
  for (const read of reads) {
    const end = tracker.feed(read, 0);
    assert.ok(end >= 0 && end <= read.length);
    taken += end;
    if (end < read.length) {
      assert.ok(tracker.done, 'the tracker stops inside a read only at the end of the body');
      assert.equal(tracker.feed(read, end), end, 'a done tracker takes nothing more');
      break;
    }
  }
  return taken;
}

function splitAt(bytes: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, z) => a - z);
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(at, cut));
    at = cut;
  }
  return out;
}

const token = fc.string({ unit: fc.constantFrom(...'abcXYZ09-_!'), minLength: 1, maxLength: 8 });
const extension = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.constantFrom('', ' ', '\t '), token, fc.option(fc.oneof(token, token.map((t) => `"${t} ;x"`)))).map(([ws, name, value]) => `${ws};${name}${value === null ? '' : `=${value}`}`),
);
const chunkedBody = fc.record({
  chunks: fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), extension, fc.boolean()), { maxLength: 8 }),
  lastExt: extension,
  trailers: fc.array(fc.tuple(token, fc.string({ unit: fc.constantFrom(...'ab :\t\x80\xff'), maxLength: 20 })), { maxLength: 3 }),
});
const extra = fc.uint8Array({ maxLength: 40 });
const points = fc.array(fc.nat(), { maxLength: 12 });

function encode(body: { chunks: [Uint8Array, string, boolean][]; lastExt: string; trailers: [string, string][] }): { wire: Buffer; payload: number } {
  const parts: Buffer[] = [];
  let payload = 0;
  for (const [data, ext, upper] of body.chunks) {
    const size = data.length.toString(16);
    parts.push(Buffer.from(`${upper ? size.toUpperCase() : size}${ext}\r\n`, 'latin1'), Buffer.from(data), Buffer.from('\r\n'));
    payload += data.length;
  }
  parts.push(Buffer.from(`0${body.lastExt}\r\n${body.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1'));
  return { wire: Buffer.concat(parts), payload };
}

describe('BodyTracker', () => {
  it('is done at once with no body or a zero length; a close-delimited body takes everything', () => {
    assert.equal(new BodyTracker({ kind: 'none' }, 400).done, true);
    assert.equal(new BodyTracker({ kind: 'length', length: 0 }, 400).done, true);
    const close = new BodyTracker({ kind: 'close' }, 502);
    assert.equal(close.closeDelimited, true);
    assert.equal(close.feed(Buffer.from('abcdef'), 2), 6);
    assert.equal(close.payload, 4);
    assert.equal(close.done, false);
  });

  it('stops exactly at the end of a chunked body fed in random reads, payload = decoded length', () => {
    fc.assert(
      fc.property(chunkedBody, extra, points, (body, more, cuts) => {
        const { wire, payload } = encode(body);
        const tracker = new BodyTracker({ kind: 'chunked' }, 502);
        const taken = track(tracker, splitAt(Buffer.concat([wire, more]), cuts));
        assert.equal(taken, wire.length);
        assert.equal(tracker.done, true);
        assert.equal(tracker.payload, payload);
      }),
      fuzzParameters(Math.ceil(FUZZ_RUNS / 10)),
    );
  });

  it('stops exactly at the end of a Content-Length body fed in random reads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), extra, points, (data, more, cuts) => {
        const tracker = new BodyTracker({ kind: 'length', length: data.length }, 400);
        const taken = track(tracker, splitAt(Buffer.concat([data, more]), cuts));
        assert.equal(taken, data.length);
        assert.equal(tracker.done, true);
        assert.equal(tracker.payload, data.length);
      }),
      fuzzParameters(Math.ceil(FUZZ_RUNS / 10)),
    );
  });

  it('throws nothing but HttpFramingError on random bytes', () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF;= \t\r\n\0x"'), maxLength: 64 }).map((s) => Buffer.from(s, 'latin1')));
    fc.assert(
      fc.property(bytes, points, fc.constantFrom<400 | 502>(400, 502), (garbage, cuts, status) => {
        const tracker = new BodyTracker({ kind: 'chunked' }, status);
        try {
          track(tracker, splitAt(Buffer.from(garbage), cuts));
        } catch (err) {
          if (!(err instanceof HttpFramingError) || err.status !== status) throw err;
        }
      }),
      fuzzParameters(),
    );
  });

  const broken: ReadonlyArray<readonly [string, string | Buffer]> = [
    ['no CRLF after chunk data', '3\r\nabcX\r\n0\r\n\r\n'],
    ['CR without LF after chunk data', '3\r\nabc\rX0\r\n\r\n'],
    ['a bad hex digit', '3g\r\nabc\r\n'],
    ['a missing size', '\r\nabc\r\n'],
    ['a size starting with whitespace', ' 3\r\nabc\r\n'],
    ['whitespace then more digits in a size', '3 3\r\nabc\r\n'],
    ['whitespace then an extension without a semicolon', '3 a=b\r\nabc\r\n'],
    ['a size too large', 'fffffffffffffff\r\n'],
    ['a size line longer than 4096 bytes', `3;${'x'.repeat(5000)}\r\n`],
    ['a size line ended by a bare LF', '3\nabc\r\n'],
    ['a size line with CR not followed by LF', '3\rabc\r\n'],
    ['a bare LF in an extension', '3;a\nb\r\nabc\r\n'],
    ['a NUL in an extension', '3;a\0\r\nabc\r\n'],
    ['a bare CR in a trailer', '0\r\nX: a\rb\r\n\r\n'],
    ['a bare LF in a trailer', '0\r\nX: a\n\r\n'],
    ['a trailer section ended by a bare LF', '0\r\n\n'],
    ['a NUL in a trailer', '0\r\nX: \0\r\n\r\n'],
    ['trailers longer than 64 KiB', `0\r\n${`X: ${'y'.repeat(1000)}\r\n`.repeat(70)}\r\n`],
  ];
  for (const [what, text] of broken) {
    it(`refuses ${what}`, () => {
      for (const status of [400, 502] as const) {
        const tracker = new BodyTracker({ kind: 'chunked' }, status);
        refused(() => tracker.feed(Buffer.from(text as string, 'latin1'), 0), status);
      }
      // Fed byte by byte, the same refusal.
      const tracker = new BodyTracker({ kind: 'chunked' }, 400);
      const bytes = Buffer.from(text as string, 'latin1');
      refused(() => {
        for (let i = 0; i < bytes.length; i++) tracker.feed(bytes, i) === i && assert.fail('no progress');
      }, 400);
    });
  }

  it('counts only chunk data as payload and resumes from an offset inside a read', () => {
    const tracker = new BodyTracker({ kind: 'chunked' } satisfies BodyFraming, 400);
    assert.equal(new BodyTracker({ kind: 'chunked' }, 400).feed(Buffer.from('3 \t\r\nabc\r\n0 ;a\r\n\r\n'), 0), 18, 'whitespace alone before the CRLF is accepted');
    const wire = Buffer.from('HEAD4;x=y\r\nabcd\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nNEXT', 'latin1');
    assert.equal(tracker.feed(wire, 4), wire.length - 4);
    assert.equal(tracker.payload, 14);
    assert.equal(tracker.done, true);
  });
});
