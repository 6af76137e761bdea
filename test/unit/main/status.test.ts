import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable, statusPath, table } from '../../../src/main/status.js';

describe('piko-ts status', () => {
  it('maps each command to its admin route, and refuses others', () => {
    assert.equal(statusPath(['upstream', 'endpoints']), '/status/upstream/endpoints');
    assert.equal(statusPath(['cluster', 'nodes']), '/status/cluster/nodes');
    assert.equal(statusPath(['cluster', 'node', 'local']), '/status/cluster/nodes/local');
    assert.equal(statusPath(['gossip', 'nodes']), '/status/gossip/nodes');
    assert.equal(statusPath(['gossip', 'node', 'a/b']), '/status/gossip/nodes/a%2Fb');
    for (const bad of [[], ['cluster'], ['cluster', 'node'], ['cluster', 'nodes', 'x'], ['upstream', 'endpoints', 'x'], ['nodes']]) {
      assert.equal(statusPath(bad), undefined, bad.join(' '));
    }
  });

  it('aligns table columns under their headers', () => {
    assert.equal(table(['A', 'LONGER'], [['xx', 1], ['y', null]]), 'A   LONGER\nxx  1\ny   -\n');
  });

  it('renders cluster nodes, one row per node with its status and counts', () => {
    const text = renderTable(['cluster', 'nodes'], [
      { id: 'node-a', status: 'active', proxy_addr: '10.0.0.1:8000', admin_addr: '10.0.0.1:8002', endpoints: 2, upstreams: 3 },
      { id: 'node-b', status: 'unreachable', proxy_addr: '10.0.0.2:8000', admin_addr: '10.0.0.2:8002', endpoints: 0, upstreams: 0 },
    ]);
    const lines = text.trim().split('\n');
    assert.match(lines[0] ?? '', /^ID\s+STATUS\s+PROXY\s+ADMIN\s+ENDPOINTS\s+UPSTREAMS$/);
    assert.match(lines[2] ?? '', /^node-b\s+unreachable\s+10\.0\.0\.2:8000/);
    assert.equal(lines.length, 3);
  });

  it('renders endpoints, and says so when there are none', () => {
    assert.equal(renderTable(['upstream', 'endpoints'], {}), 'no endpoints\n');
    assert.match(renderTable(['upstream', 'endpoints'], { b: 1, a: 2 }), /^ENDPOINT\s+LISTENERS\na\s+2\nb\s+1\n$/);
  });
});
