import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTestClusterConfig } from '../../../src/main/test-cluster-config.js';
import { summary } from '../../../src/main/test-cluster.js';

describe('summary', () => {
  it('shows each front with what to point at it, then one row per node', () => {
    const loaded = loadTestClusterConfig([], {});
    assert.equal(loaded.kind, 'config');
    if (loaded.kind !== 'config') return;
    const fronts = { proxy: '127.0.0.1:8000', upstream: '127.0.0.1:8001', admin: '127.0.0.1:8002' };
    const text = summary(loaded.config, (port) => fronts[port], [
      { id: 'node-1', proxy: '127.0.0.1:41001', upstream: '127.0.0.1:41002', admin: '127.0.0.1:41003', gossip: '127.0.0.1:41004' },
      { id: 'node-2', proxy: '127.0.0.1:42001', upstream: '127.0.0.1:42002', admin: '127.0.0.1:42003', gossip: '127.0.0.1:42004' },
    ]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'piko-ts test cluster: 2 nodes, round-robin (Ctrl-C stops them)');
    assert.match(text, /^proxy\s+127\.0\.0\.1:8000\s+clients: curl -H 'x-piko-endpoint: my-app' http:\/\/127\.0\.0\.1:8000\/$/m);
    assert.match(text, /^upstream\s+127\.0\.0\.1:8001\s+agents: piko-ts agent http my-app 3000 --connect\.url http:\/\/127\.0\.0\.1:8001$/m);
    assert.match(text, /^admin\s+127\.0\.0\.1:8002\s+status: piko-ts status cluster nodes --server\.url http:\/\/127\.0\.0\.1:8002$/m);
    assert.match(text, /^NODE\s+PROXY\s+UPSTREAM\s+ADMIN\s+GOSSIP$/m);
    assert.match(text, /^node-2\s+127\.0\.0\.1:42001\s+127\.0\.0\.1:42002\s+127\.0\.0\.1:42003\s+127\.0\.0\.1:42004$/m);
  });
});
