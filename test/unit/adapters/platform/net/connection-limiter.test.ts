import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey, ConnectionLimiter } from '../../../../../src/adapters/platform/net/connection-limiter.js';

describe('ConnectionLimiter', () => {
  it('admits up to the limit per key and refuses one more', () => {
    const limiter = new ConnectionLimiter(2);
    assert.equal(limiter.acquire('10.0.0.1'), true);
    assert.equal(limiter.acquire('10.0.0.1'), true);
    assert.equal(limiter.acquire('10.0.0.1'), false);
    assert.equal(limiter.acquire('10.0.0.2'), true, 'another key has its own slots');
    assert.equal(limiter.count('10.0.0.1'), 2);
  });

  it('frees a slot on release and forgets keys with no connection left', () => {
    const limiter = new ConnectionLimiter(1);
    assert.equal(limiter.acquire('a'), true);
    assert.equal(limiter.acquire('a'), false);
    limiter.release('a');
    assert.equal(limiter.keys, 0);
    assert.equal(limiter.acquire('a'), true);
  });

  it('never refuses when the limit is 0 (off) and keeps no state', () => {
    const limiter = new ConnectionLimiter(0);
    assert.equal(limiter.enabled, false);
    for (let i = 0; i < 1000; i++) assert.equal(limiter.acquire('a'), true);
    assert.equal(limiter.keys, 0);
  });
});

describe('clientKey', () => {
  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('2001:db8::1'), '2001:db8::1');
    assert.equal(clientKey(undefined), '');
  });
});
