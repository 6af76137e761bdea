import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSee, membershipConverged, startCluster } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork, type SimDatagram } from '../../../../../support/sim/sim-network.js';

/*
 * Departures are final for a node's incarnation: a node that left or died is removed after the expiry and is
 * never brought back by stale gossip, whatever is replayed (Piko issue #314, "ghost nodes").
 */

/** Delivers every recorded datagram again to every running node, as if the network had kept them all. */
function replayAll(net: SimNetwork, recorded: readonly SimDatagram[]): number {
  let n = 0;
  for (const node of net.running()) {
    for (const d of recorded) {
      if (d.from === node.addr) continue;
      net.inject(node.id, d.from, d.bytes);
      n += 1;
    }
  }
  return n;
}

/** True when no running node but `id` itself lists `id` as alive or suspect. */
const nobodyRoutesTo = (net: SimNetwork, id: string): boolean =>
  net.running([id]).every((n) => {
    const s = n.machine.member(id)?.status;
    return s !== 'alive' && s !== 'suspect';
  });

describe('simulated gossip cluster: leave and ghosts', () => {
  it('spreads a graceful leave at once, removes the node after the expiry, and never brings it back', (t) => {
    const net = new SimNetwork({ seed: 41, record: true, config: { memberExpiryMs: 10_000 } });
    startCluster(net, 8);
    net.setLocal('n05', 'endpoint:a', '1');
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    net.run(2000);
    const leftAt = net.now;
    net.leave('n05');
    const seen = net.runUntil(() => allSee(net, 'n05', 'left'), 2000);
    assert.ok(seen !== undefined, 'every node knows it left');
    t.diagnostic(`every node knew of the leave ${Math.round(seen - leftAt)} ms later`);
    assert.ok(seen - leftAt < 100, 'sent directly to every member');
    assert.ok(net.runUntil(() => net.node('n05').machine.leaveSettled(net.now + net.node('n05').clockOffset), 2000) !== undefined);
    net.kill('n05');
    assert.ok(net.runUntil(() => allSee(net, 'n05', undefined), 20_000, 10) !== undefined, 'removed after the expiry');

    const replayed = replayAll(net, net.recorded);
    net.run(5000);
    replayAll(net, net.recorded.filter((d) => d.at < leftAt));
    net.run(30_000);
    t.diagnostic(`${replayed} stale datagrams replayed`);
    assert.ok(nobodyRoutesTo(net, 'n05'));
    for (const node of net.running()) {
      const added = node.events.filter((e) => e.at > leftAt && e.event.type === 'member-added' && e.event.member.id === 'n05');
      assert.deepEqual(added, [], `${node.id} never re-added it`);
      assert.equal(node.machine.state('n05'), undefined, `${node.id} holds none of its state`);
    }
  });

  it('never resurrects a killed node after its removal, even when every old datagram is replayed (#314)', () => {
    const net = new SimNetwork({ seed: 42, record: true, config: { memberExpiryMs: 5000 } });
    startCluster(net, 5);
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    net.run(3000);
    const killedAt = net.now;
    net.kill('n03');
    assert.ok(net.runUntil(() => allSee(net, 'n03', 'dead'), 3000) !== undefined);
    assert.ok(net.runUntil(() => allSee(net, 'n03', undefined), 20_000, 10) !== undefined);
    for (let round = 0; round < 3; round++) {
      replayAll(net, net.recorded.filter((d) => d.at < killedAt));
      net.run(20_000);
      assert.ok(nobodyRoutesTo(net, 'n03'), `round ${round}`);
    }
    for (const node of net.running()) {
      const statuses = node.events.filter((e) => e.at > killedAt && e.event.type === 'member-added' && e.event.member.id === 'n03');
      assert.equal(statuses.length, 0);
      assert.equal(node.machine.member('n03'), undefined);
    }
  });

  it('lets a node that learns of an old departure only from gossip never add it', () => {
    const net = new SimNetwork({ seed: 43, record: true });
    startCluster(net, 4);
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    const before = net.now;
    net.leave('n02');
    net.run(1000);
    net.kill('n02');
    net.addNode('late');
    net.join('late', ['n00']);
    net.run(2000);
    // A datagram from before the leave that still lists n02 as alive reaches the newcomer late.
    const stale = net.recorded.filter((x) => x.at < before && x.from === 'n02:7946');
    assert.ok(stale.length > 0);
    for (const d of stale) net.inject('late', d.from, d.bytes);
    assert.equal(net.statusOf('late', 'n02'), undefined, 'known only as a tombstone');
    net.run(2000);
    const added = net.node('late').events.filter((e) => e.event.type === 'member-added' && e.event.member.id === 'n02');
    assert.deepEqual(added, []);
  });
});
