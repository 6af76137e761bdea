import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSee, membershipConverged, startCluster, stateConverged } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/*
 * A process that restarts under the same node ID is a new life: it must end up with an incarnation and a state
 * epoch above its previous life's, so that peers accept it as alive and drop the old life's state (an
 * endpoint the old process held must not survive). Piko cannot do this: it keeps the old version counter and
 * discards the new process's state.
 */

function cluster(seed: number, config = {}): SimNetwork {
  const net = new SimNetwork({ seed, config });
  const ids = startCluster(net, 5);
  for (const id of ids) net.setLocal(id, 'proxy_addr', `${id}:8000`);
  net.setLocal('n03', 'endpoint:old-life', '2');
  assert.ok(net.runUntil(() => membershipConverged(net) && stateConverged(net), 10_000, 10) !== undefined);
  return net;
}

/** The new life republishes its state; waits until every node holds exactly it. */
function restartAndConverge(net: SimNetwork, options: { incarnation?: number } = {}): number | undefined {
  net.restart('n03', options);
  net.setLocal('n03', 'proxy_addr', 'n03:9000');
  net.setLocal('n03', 'endpoint:new-life', '1');
  net.join('n03', ['n00']);
  return net.runUntil(() => membershipConverged(net) && stateConverged(net), 20_000, 5);
}

function assertNewLifeEverywhere(net: SimNetwork): void {
  for (const node of net.running(['n03'])) {
    const state = node.machine.state('n03');
    assert.equal(state?.get('proxy_addr'), 'n03:9000', node.id);
    assert.equal(state?.has('endpoint:old-life'), false, `${node.id} dropped the old life's endpoint`);
    assert.equal(state?.get('endpoint:new-life'), '1');
  }
}

describe('simulated gossip cluster: restarts under the same ID', () => {
  it('a quick restart with the same incarnation is noticed and becomes a new life', () => {
    // Seeds 51 and 57 draw a new epoch below the old one (a peer's notice lifts it); 56 and 58 draw one above.
    for (const seed of [51, 56, 57, 58]) {
      const net = cluster(seed);
      const oldEpoch = net.viewOf('n00', 'n03')?.stateEpoch;
      net.kill('n03');
      net.run(100);
      assert.equal(net.statusOf('n00', 'n03'), 'alive', 'not yet detected');
      assert.ok(restartAndConverge(net, { incarnation: 0 }) !== undefined, 'converged on the new life');
      const newEpoch = net.node('n03').machine.member('n03')?.stateEpoch;
      assert.notEqual(newEpoch, oldEpoch);
      for (const node of net.running(['n03'])) assert.equal(node.machine.member('n03')?.stateEpoch, newEpoch);
      assertNewLifeEverywhere(net);
    }
  });

  it('a restart after being declared dead comes back alive with a higher incarnation', () => {
    const net = cluster(52);
    net.kill('n03');
    assert.ok(net.runUntil(() => allSee(net, 'n03', 'dead'), 3000) !== undefined);
    net.run(2000);
    assert.ok(restartAndConverge(net, { incarnation: 0 }) !== undefined);
    assert.ok((net.viewOf('n00', 'n03')?.incarnation ?? 0) >= 1);
    assertNewLifeEverywhere(net);
  });

  it('a restart after its removal is accepted again, above the tombstone', () => {
    const net = cluster(53, { memberExpiryMs: 5000 });
    net.kill('n03');
    assert.ok(net.runUntil(() => allSee(net, 'n03', undefined), 20_000, 10) !== undefined);
    assert.ok(restartAndConverge(net, { incarnation: 0 }) !== undefined);
    assertNewLifeEverywhere(net);
  });

  it('a restart with a larger initial incarnation (time-based) is accepted at once', () => {
    const net = cluster(54);
    net.kill('n03');
    net.run(100);
    const at = restartAndConverge(net, { incarnation: 1_700_000_000 });
    assert.ok(at !== undefined);
    assert.equal(net.node('n03').machine.incarnation, 1_700_000_000, 'no refutation needed');
    assertNewLifeEverywhere(net);
  });

  it('a restart after a graceful leave rejoins (a left node stays left only for its own incarnation)', () => {
    const net = cluster(55);
    net.leave('n03');
    net.run(500);
    net.kill('n03');
    assert.ok(allSee(net, 'n03', 'left'));
    assert.ok(restartAndConverge(net, { incarnation: 0 }) !== undefined);
    assertNewLifeEverywhere(net);
  });
});
