import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HttpFramingError, headLength, parseRequestHead } from '../../../../../src/adapters/http/relay/http1-head.js';
import { BodyTracker } from '../../../../../src/adapters/http/relay/http1-body.js';
import { chunkHeader, chunkTrailer, lastChunk, outgoingTarget, serializeRequestHead } from '../../../../../src/adapters/http/relay/request-head.js';

/** Parses bytes written by serializeRequestHead back with the relay's own reader. */
function reparse(bytes: Buffer) {
  const length = headLength(bytes, 64 * 1024);
  assert.equal(length, bytes.length, 'the head ends with exactly one blank line');
  return parseRequestHead(bytes, length);
}

describe('serializeRequestHead', () => {
  it('writes the request line and every header, in order, ending with a blank line', () => {
    const bytes = serializeRequestHead('POST', '/a?b=1', { host: 'svc', 'content-length': '5', connection: 'keep-alive' });
    assert.equal(bytes.toString('latin1'), 'POST /a?b=1 HTTP/1.1\r\nhost: svc\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\n');
    const head = reparse(bytes);
    assert.deepEqual([head.method, head.target, head.version], ['POST', '/a?b=1', '1.1']);
  });

  it('writes a header given as a list as one line per value, and skips undefined values', () => {
    const bytes = serializeRequestHead('GET', '/', { host: 'svc', 'x-multi': ['a', 'b'], 'x-none': undefined, 'x-num': 7 });
    assert.deepEqual(reparse(bytes).headers, [
      ['host', 'svc'],
      ['x-multi', 'a'],
      ['x-multi', 'b'],
      ['x-num', '7'],
    ]);
  });

  it('keeps latin1 bytes of a value as they are', () => {
    const bytes = serializeRequestHead('GET', '/', { host: 'svc', 'x-l1': 'caf\u00e9' });
    assert.ok(bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9])));
  });

  for (const bad of ['a\r\nx-injected: 1', 'a\nb', 'a\rb', 'a\0b']) {
    it(`refuses a value holding a CR, LF or NUL (${JSON.stringify(bad)}): it would split the request`, () => {
      assert.throws(() => serializeRequestHead('GET', '/', { host: 'svc', 'x-evil': bad }), (err) => err instanceof HttpFramingError && err.status === 400);
      assert.throws(() => serializeRequestHead('GET', '/', { host: 'svc', 'x-evil': ['ok', bad] }), HttpFramingError);
    });
  }

  it('refuses a header name, method or target that is not a token or holds whitespace', () => {
    assert.throws(() => serializeRequestHead('GET', '/', { 'bad name': 'x' }), HttpFramingError);
    assert.throws(() => serializeRequestHead('GET', '/', { 'bad:name': 'x' }), HttpFramingError);
    assert.throws(() => serializeRequestHead('G T', '/', {}), HttpFramingError);
    assert.throws(() => serializeRequestHead('GET', '/a b', {}), HttpFramingError);
    assert.throws(() => serializeRequestHead('GET', '/a\r\nb', {}), HttpFramingError);
  });
});

describe('outgoingTarget', () => {
  const cases: Array<[string, string]> = [
    ['/', '/'],
    ['/a/b?c=1&d=2', '/a/b?c=1&d=2'],
    ['/a/../b', '/b'],
    ['/a/./b', '/a/b'],
    ['/a/%2e%2e/b', '/b'],
    ['http://other.example/p?q=1', '/p?q=1'],
    ['/p?', '/p'],
    ['?q=1', '/?q=1'],
    ['', '/'],
    ['//double/slash', '//double/slash'],
    ['/with space'.replace(' ', '%20'), '/with%20space'],
    ["/q?a='b'", '/q?a=%27b%27'],
    ['/frag#x', '/frag'],
  ];
  for (const [url, expected] of cases) {
    it(`sends ${JSON.stringify(url)} as ${JSON.stringify(expected)}, as the general path does`, () => {
      assert.equal(outgoingTarget(url), expected);
    });
  }
});

describe('chunk framing', () => {
  it('frames chunks that the body reader reads back as the same payload', () => {
    const parts = [Buffer.from('hello '), Buffer.alloc(300, 0x61), Buffer.from('!')];
    const wire = Buffer.concat([...parts.flatMap((p) => [chunkHeader(p.length), p, chunkTrailer()]), lastChunk()]);
    assert.equal(chunkHeader(300).toString('latin1'), '12c\r\n');
    const tracker = new BodyTracker({ kind: 'chunked' }, 400);
    const payload: Buffer[] = [];
    const end = tracker.feed(wire, 0, (from, to) => payload.push(wire.subarray(from, to)));
    assert.equal(end, wire.length);
    assert.ok(tracker.done);
    assert.deepEqual(Buffer.concat(payload), Buffer.concat(parts));
    assert.equal(tracker.payload, 307);
  });
});
