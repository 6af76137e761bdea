import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countBodyBytes } from '../../../../src/adapters/http/access-entry.js';

/** A fake request (fed through push, as Node's parser does) and response (write/end), recording calls. */
function fakes() {
  const pushed: unknown[] = [];
  const written: unknown[] = [];
  const req = {
    push(chunk: unknown): boolean {
      pushed.push(chunk);
      return true;
    },
  };
  const res = {
    write(chunk: unknown, ..._rest: unknown[]): boolean {
      written.push(chunk);
      return true;
    },
    end(chunk?: unknown, ..._rest: unknown[]): unknown {
      written.push(chunk);
      return this;
    },
  };
  return { req, res, pushed, written };
}

describe('countBodyBytes', () => {
  it('counts request body bytes as the parser pushes them, ignoring the end-of-body null', () => {
    const { req, res, pushed } = fakes();
    const count = countBodyBytes(req, res);
    req.push(Buffer.alloc(10));
    req.push(Buffer.alloc(5));
    req.push(null);
    assert.equal(count.bytesIn, 15);
    assert.equal(pushed.length, 3, 'every chunk still reaches the stream');
  });

  it('counts response body bytes through write and end, strings in their encoding', () => {
    const { req, res, written } = fakes();
    const count = countBodyBytes(req, res);
    res.write(Buffer.alloc(100));
    res.write('héllo'); // 6 bytes in UTF-8
    res.write('68656c6c6f', 'hex'); // 5 bytes
    res.end('!');
    assert.equal(count.bytesOut, 112);
    assert.equal(written.length, 4);
  });

  it('counts nothing for end() without a body or with only a callback', () => {
    const { req, res } = fakes();
    const count = countBodyBytes(req, res);
    res.end(() => {});
    res.end();
    assert.equal(count.bytesOut, 0);
    assert.equal(count.bytesIn, 0);
  });
});
