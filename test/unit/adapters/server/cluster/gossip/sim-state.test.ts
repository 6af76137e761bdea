import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConverged, startCluster, stateConverged } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/* Replication of each node's versioned key/value state (proxy address, admin address, endpoint counts). */

function cluster(n: number, seed: number, lossRate = 0): { net: SimNetwork; ids: string[] } {
  const net = new SimNetwork({ seed, lossRate });
  const ids = startCluster(net, n);
  assert.ok(net.runUntil(() => membershipConverged(net), 20_000, 10) !== undefined, 'membership converged');
  return { net, ids };
}

describe('simulated gossip cluster: state', () => {
  it('spreads endpoint updates (set, change, delete) to every node', (t) => {
    const { net, ids } = cluster(10, 21);
    net.setLocal('n02', 'endpoint:billing', '1');
    net.setLocal('n07', 'endpoint:billing', '2');
    const t0 = net.now;
    const reached = net.runUntil(() => ids.every((id) => net.node(id).machine.state('n07')?.get('endpoint:billing') === '2'), 5000);
    assert.ok(reached !== undefined);
    t.diagnostic(`one update reached 10 nodes in ${Math.round(reached - t0)} ms`);
    assert.ok(reached - t0 < 1000);
    net.setLocal('n02', 'endpoint:billing', '3');
    net.setLocal('n07', 'endpoint:billing', undefined);
    assert.ok(net.runUntil(() => stateConverged(net), 5000, 5) !== undefined);
    for (const id of ids) {
      assert.equal(net.node(id).machine.state('n02')?.get('endpoint:billing'), '3');
      assert.equal(net.node(id).machine.state('n07')?.has('endpoint:billing'), false);
    }
    const changes = net.node('n00').events.flatMap((e) => (e.event.type === 'state-changed' && e.event.id === 'n07' ? e.event.changes : []));
    assert.deepEqual(changes, [
      { key: 'endpoint:billing', value: '2' },
      { key: 'endpoint:billing', value: undefined },
    ]);
  });

  it('converges a state far larger than one datagram, also on a node that joins later', (t) => {
    const { net } = cluster(10, 22);
    for (let i = 0; i < 300; i++) net.setLocal('n04', `endpoint:service-number-${i}`, String(1 + (i % 5)));
    const t0 = net.now;
    const at = net.runUntil(() => stateConverged(net), 20_000, 5);
    assert.ok(at !== undefined, 'converged');
    const size = [...(net.node('n04').machine.state('n04') ?? [])].reduce((n, [k, v]) => n + k.length + v.length, 0);
    t.diagnostic(`${size} bytes of state reached 9 nodes in ${Math.round(at - t0)} ms`);
    assert.ok(size > 3 * 1400);
    net.addNode('late');
    net.join('late', ['n09']);
    assert.ok(net.runUntil(() => membershipConverged(net) && stateConverged(net), 20_000, 5) !== undefined);
    assert.equal(net.node('late').machine.state('n04')?.size, 300);
  });

  it('converges with 5% loss, duplicates and reordering', () => {
    const net = new SimNetwork({ seed: 23, lossRate: 0.05, duplicateRate: 0.05, latencyMs: [0.2, 30] });
    const ids = startCluster(net, 20);
    assert.ok(net.runUntil(() => membershipConverged(net), 20_000, 10) !== undefined);
    for (const [i, id] of ids.entries()) for (let e = 0; e < 20; e++) net.setLocal(id, `endpoint:e${e}`, String(i + e));
    assert.ok(net.runUntil(() => stateConverged(net), 30_000, 10) !== undefined);
  });

  it('keeps replicas bounded and equal under endpoint churn (owner compaction)', () => {
    const { net, ids } = cluster(5, 24);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) net.setLocal('n01', `endpoint:churn-${round}-${i}`, '1');
      net.run(50);
      for (let i = 0; i < 10; i++) net.setLocal('n01', `endpoint:churn-${round}-${i}`, undefined);
      net.setLocal('n01', 'endpoint:stable', String(round));
      net.run(50);
    }
    assert.ok(net.runUntil(() => stateConverged(net), 10_000, 5) !== undefined);
    for (const id of ids) {
      const entries = net.node(id).machine.stateEntries('n01') ?? [];
      assert.ok(entries.length <= 1 + 100 + 20, `${id} holds ${entries.length} entries of n01`);
      assert.equal(net.node(id).machine.state('n01')?.get('endpoint:stable'), '39');
    }
  });
});
