import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HttpFramingError,
  headLength,
  headerRecord,
  headerTokens,
  headerValue,
  parseRequestHead,
  parseResponseHead,
} from '../../../../../src/adapters/http/relay/http1-head.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(text: string) {
  const buf = b(text);
  return parseRequestHead(buf, headLength(buf, 64 * 1024));
}

function response(text: string) {
  const buf = b(text);
  return parseResponseHead(buf, headLength(buf, 64 * 1024, 0, 502));
}

function refused(fn: () => unknown, status: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpFramingError, `expected HttpFramingError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    return true;
  });
}

describe('headLength', () => {
  it('is -1 until the blank line, then the length through it', () => {
    assert.equal(headLength(b('GET / HTTP/1.1\r\nHost: a\r\n'), 100), -1);
    assert.equal(headLength(b('GET / HTTP/1.1\r\nHost: a\r\n\r\nbody'), 100), 27);
  });

  it('refuses a head that does not end within the limit with 431, or 502 for a response', () => {
    refused(() => headLength(b('GET / HTTP/1.1\r\nHost: aaaaaaaa'), 20), 431);
    refused(() => headLength(b('GET / HTTP/1.1\r\nHost: aaaaaaaa\r\n\r\n'), 20), 431);
    refused(() => headLength(b('HTTP/1.1 200 OK\r\nX: aaaaaaaaaa'), 20, 0, 502), 502);
    assert.equal(headLength(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 27), 27, 'a head of exactly the limit is accepted');
    refused(() => headLength(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 26), 431);
  });

  it('finds a head split across reads at every byte position exactly once, resuming at the previous length less 3', () => {
    const text = b('POST /p?q=1 HTTP/1.1\r\nHost: example\r\nContent-Length: 2\r\n\r\nhi');
    const headEnd = text.indexOf('\r\n\r\n') + 4;
    for (let split = 1; split < text.length; split++) {
      const first = text.subarray(0, split);
      const reports: number[] = [];
      const a = headLength(first, 1024, -3);
      if (a >= 0) reports.push(a);
      else {
        const joined = Buffer.concat([first, text.subarray(split)]);
        const c = headLength(joined, 1024, first.length - 3);
        if (c >= 0) reports.push(c);
      }
      assert.deepEqual(reports, [headEnd], `split at ${split}`);
    }
  });

  it('finds a head fed one byte at a time', () => {
    const text = b('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    let buf = Buffer.alloc(0);
    let found = -1;
    for (let i = 0; i < text.length && found < 0; i++) {
      const before = buf.length;
      buf = Buffer.concat([buf, text.subarray(i, i + 1)]);
      found = headLength(buf, 1024, before - 3);
      if (found >= 0) assert.equal(i, text.length - 1);
    }
    assert.equal(found, text.length);
  });
});

describe('parseRequestHead', () => {
  it('reads the request line and headers, names lower-cased, values trimmed', () => {
    const head = request('GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-Multi:  one \t\r\nx-multi: two\r\nEmpty:\r\n\r\n');
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/a/b?c=d');
    assert.equal(head.version, '1.1');
    assert.deepEqual(head.headers, [
      ['host', 'example.com'],
      ['x-multi', 'one'],
      ['x-multi', 'two'],
      ['empty', ''],
    ]);
    assert.equal(request('OPTIONS * HTTP/1.0\r\n\r\n').version, '1.0');
  });

  it('keeps obs-text (bytes 0x80-0xff) in values as latin1', () => {
    const head = request('GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n');
    assert.equal(headerValue(head.headers, 'x'), 'caf\xe9');
  });

  const bad: ReadonlyArray<readonly [string, string]> = [
    ['bare LF ending a header line', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n'],
    ['bare LF in the request line', 'GET /\n HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n'],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nX: a\r\n\tfolded\r\n\r\n'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a non-token name', 'GET / HTTP/1.1\r\nX(y): a\r\n\r\n'],
    ['NUL in a name', 'GET / HTTP/1.1\r\nX\0: a\r\n\r\n'],
    ['an empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['a line without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\n\r\n'],
    ['a missing version', 'GET /\r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n'],
    ['a method that is no token', 'G(T / HTTP/1.1\r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['a NUL in the target', 'GET /a\0 HTTP/1.1\r\n\r\n'],
    ['a status line where a request line is due', 'HTTP/1.1 200 OK\r\n\r\n'],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what} with 400`, () => refused(() => request(text), 400));
  }

  it('refuses more than 1000 header lines', () => {
    refused(() => request(`GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(1001)}\r\n`), 400);
    assert.equal(request(`GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(1000)}\r\n`).headers.length, 1000);
  });

  it('names the problem in the message, quoted and cut short', () => {
    assert.throws(() => request(`GET / HTTP/1.1\r\n${'N'.repeat(200)}\r\n\r\n`), (err: Error) => err.message.includes('malformed header line') && err.message.includes('…'));
  });
});

describe('parseResponseHead', () => {
  it('reads the status line with or without a reason, and the headers', () => {
    const head = response('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(head, { version: '1.1', status: 404, reason: 'Not Found', headers: [['content-length', '0']] });
    assert.equal(response('HTTP/1.0 200\r\n\r\n').status, 200);
    assert.equal(response('HTTP/1.0 200\r\n\r\n').reason, '');
    assert.equal(response('HTTP/1.1 200 \r\n\r\n').status, 200);
    assert.equal(response('HTTP/1.1 599 Odd\txx \xff\r\n\r\n').status, 599);
  });

  const bad: ReadonlyArray<readonly [string, string]> = [
    ['bare LF', 'HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n'],
    ['bare CR in a value', 'HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n'],
    ['NUL in a value', 'HTTP/1.1 200 OK\r\nX: \0\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'],
    ['whitespace before the colon', 'HTTP/1.1 200 OK\r\nX\t: a\r\n\r\n'],
    ['a non-token name', 'HTTP/1.1 200 OK\r\nX"y: a\r\n\r\n'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a status from 0', 'HTTP/1.1 099 OK\r\n\r\n'],
    ['a missing space', 'HTTP/1.1 200OK\r\n\r\n'],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n'],
    ['a NUL in the reason', 'HTTP/1.1 200 O\0K\r\n\r\n'],
    ['bare CR in the reason', 'HTTP/1.1 200 O\rK\r\n\r\n'],
    ['a request line', 'GET / HTTP/1.1\r\n\r\n'],
    ['garbage', 'hello\r\n\r\n'],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what} with 502`, () => refused(() => response(text), 502));
  }
});

describe('header helpers', () => {
  const headers = [
    ['connection', 'keep-alive, Upgrade'],
    ['set-cookie', 'a=1'],
    ['x', 'one'],
    ['set-cookie', 'b=2'],
    ['connection', ' ,close'],
    ['x', 'two'],
  ] as const;

  it('headerValue joins repeats with ", " and is undefined when absent', () => {
    assert.equal(headerValue(headers, 'x'), 'one, two');
    assert.equal(headerValue(headers, 'y'), undefined);
  });

  it('headerTokens lower-cases and drops empty tokens', () => {
    assert.deepEqual(headerTokens(headers, 'connection'), ['keep-alive', 'upgrade', 'close']);
    assert.deepEqual(headerTokens(headers, 'nothing'), []);
  });

  it('headerRecord keeps set-cookie as a list and joins the rest', () => {
    assert.deepEqual(headerRecord(headers), { connection: 'keep-alive, Upgrade,  ,close', 'set-cookie': ['a=1', 'b=2'], x: 'one, two' });
  });
});
