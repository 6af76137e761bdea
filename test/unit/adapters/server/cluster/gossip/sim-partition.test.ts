import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSee, membershipConverged, startCluster, stateConverged } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/* Partitions and heals: each side declares the other unreachable, and everyone comes back after the heal. */

function split(net: SimNetwork, a: readonly string[], b: readonly string[]): void {
  for (const x of a) for (const y of b) net.cut(x, y);
}

describe('simulated gossip cluster: partitions', () => {
  it('splits into two sides that each mark the other unreachable, then merge again after the heal', (t) => {
    const net = new SimNetwork({ seed: 31 });
    const ids = startCluster(net, 10);
    for (const id of ids) net.setLocal(id, 'proxy_addr', `${id}:8000`);
    assert.ok(net.runUntil(() => membershipConverged(net) && stateConverged(net), 10_000, 10) !== undefined);
    const left = ids.slice(0, 4);
    const right = ids.slice(4);
    split(net, left, right);
    const cutAt = net.now;
    const separated = net.runUntil(
      () => left.every((a) => right.every((b) => net.statusOf(a, b) === 'dead' && net.statusOf(b, a) === 'dead')),
      10_000,
      5,
    );
    // Each side sees several failures at once, so ring probing helps less than for one failure.
    assert.ok(separated !== undefined && separated - cutAt <= 5000, `separated after ${separated === undefined ? '∞' : separated - cutAt} ms`);
    for (const a of left) for (const b of left) if (a !== b) assert.equal(net.statusOf(a, b), 'alive');
    net.run(5000);
    net.heal();
    const healAt = net.now;
    const merged = net.runUntil(() => membershipConverged(net), 30_000, 10);
    assert.ok(merged !== undefined, 'merged');
    t.diagnostic(`separated in ${Math.round(separated - cutAt)} ms; merged ${Math.round(merged - healAt)} ms after the heal`);
    assert.ok(merged - healAt < 10_000);
    for (const id of ids) assert.ok(net.node(id).machine.incarnation >= 1, `${id} refuted its death`);
    assert.ok(stateConverged(net), 'the state held across the partition is still there');
  });

  it('brings an isolated node back with a higher incarnation', () => {
    const net = new SimNetwork({ seed: 32 });
    startCluster(net, 5);
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    net.isolate('n02');
    assert.ok(net.runUntil(() => allSee(net, 'n02', 'dead'), 5000) !== undefined);
    net.heal();
    assert.ok(net.runUntil(() => membershipConverged(net), 10_000, 10) !== undefined);
    assert.ok((net.viewOf('n00', 'n02')?.incarnation ?? 0) >= 1);
    const statuses = net.node('n00').events.filter((e) => e.event.type === 'member-status' && e.event.member.id === 'n02');
    assert.deepEqual(
      statuses.map((e) => (e.event.type === 'member-status' ? e.event.member.status : '')),
      ['suspect', 'dead', 'alive'],
    );
  });

  it('merges after a partition longer than the member expiry, through the seeds', (t) => {
    const net = new SimNetwork({ seed: 33, config: { memberExpiryMs: 10_000 } });
    const ids = startCluster(net, 6);
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    split(net, ids.slice(0, 3), ids.slice(3));
    net.run(15_000);
    assert.equal(net.statusOf('n00', 'n05'), undefined, 'the other side was removed');
    net.heal();
    const healAt = net.now;
    const merged = net.runUntil(() => membershipConverged(net), 60_000, 10);
    assert.ok(merged !== undefined, 'merged');
    t.diagnostic(`merged ${Math.round(merged - healAt)} ms after the heal (seed sync every 6 × 5 s)`);
  });
});
