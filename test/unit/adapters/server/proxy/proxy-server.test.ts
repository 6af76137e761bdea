import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionsCheckingIntervalMs } from '../../../../../src/adapters/server/proxy/proxy-server.js';

describe('connectionsCheckingIntervalMs', () => {
  it('checks the header timeout four times per timeout, between 100 ms and 1 s', () => {
    assert.equal(connectionsCheckingIntervalMs(10_000), 1_000);
    assert.equal(connectionsCheckingIntervalMs(2_000), 500);
    assert.equal(connectionsCheckingIntervalMs(100), 100);
    assert.equal(connectionsCheckingIntervalMs(0), 1_000);
  });
});
