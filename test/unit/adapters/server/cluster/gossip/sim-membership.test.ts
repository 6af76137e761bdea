import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allSee, firstStatusTimes, membershipConverged, startCluster, stateConverged } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/*
 * Simulated clusters with the default configuration: joins converge, and a killed node is marked unreachable
 * (dead) by every survivor within 3 s of simulated time, at 3 and at 50 nodes. Times are read from the
 * simulated clock, so the assertions do not depend on the machine's speed.
 */

/** Starts `n` nodes, waits for convergence, then kills one and returns when each survivor declared it dead. */
function detection(n: number, seed: number, lossRate = 0): { first: number; last: number; everyone: boolean } {
  const net = new SimNetwork({ seed });
  const ids = startCluster(net, n);
  assert.ok(net.runUntil(() => membershipConverged(net), 20_000, 10) !== undefined, 'cluster converged');
  net.drop(lossRate);
  net.run(1000 + (seed % 7) * 37);
  const victim = ids[seed % n] as string;
  const killedAt = net.now;
  net.kill(victim);
  const doneAt = net.runUntil(() => allSee(net, victim, 'dead'), 10_000);
  const times = firstStatusTimes(net, victim, 'dead', killedAt).map((t) => t - killedAt);
  return {
    first: Math.min(...times),
    last: doneAt === undefined ? Number.POSITIVE_INFINITY : doneAt - killedAt,
    everyone: times.length === n - 1,
  };
}

describe('simulated gossip cluster: membership', () => {
  for (const n of [3, 50]) {
    it(`converges after a join of ${n} nodes, membership and state`, (t) => {
      const net = new SimNetwork({ seed: n });
      const ids = startCluster(net, n);
      const joinedAt = net.now;
      for (const id of ids) {
        net.setLocal(id, 'proxy_addr', `${id}:8000`);
        net.setLocal(id, 'admin_addr', `${id}:8002`);
      }
      const at = net.runUntil(() => membershipConverged(net) && stateConverged(net), 20_000, 5);
      assert.ok(at !== undefined, 'converged');
      t.diagnostic(`${n} nodes converged ${Math.round(at - joinedAt)} ms after the last join`);
      assert.ok(at - joinedAt < 3000);
      assert.equal(net.node(ids[n - 1] as string).machine.state(ids[0] as string)?.get('admin_addr'), `${ids[0]}:8002`);
    });
  }

  for (const [n, seeds] of [
    [3, [1, 2, 3, 4, 5, 6]],
    [10, [1, 2, 3]],
    [50, [1, 2, 3, 4]],
  ] as const) {
    it(`marks a killed node unreachable everywhere within 3 s at ${n} nodes`, (t) => {
      const results = seeds.map((seed) => detection(n, seed));
      for (const r of results) {
        assert.ok(r.everyone, 'every survivor declared it dead');
        assert.ok(r.last <= 3000, `detected by all after ${r.last} ms`);
      }
      const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
      t.diagnostic(`${n} nodes, seeds ${seeds.join(',')}: first ${fmt(results.map((r) => r.first))} ms; all ${fmt(results.map((r) => r.last))} ms`);
    });
  }

  it('still detects within 3 s at 50 nodes with 5% packet loss', (t) => {
    const r = detection(50, 11, 0.05);
    t.diagnostic(`first ${Math.round(r.first)} ms, all ${Math.round(r.last)} ms`);
    assert.ok(r.everyone && r.last <= 3000, `detected by all after ${r.last} ms`);
  });

  it('marks 5 of 50 nodes killed at once unreachable everywhere within 3 s', (t) => {
    for (const seed of [1, 2]) {
      const net = new SimNetwork({ seed });
      const ids = startCluster(net, 50);
      assert.ok(net.runUntil(() => membershipConverged(net), 20_000, 10) !== undefined);
      net.run(1000);
      const victims = ids.slice(10, 15);
      const killedAt = net.now;
      for (const v of victims) net.kill(v);
      const at = net.runUntil(() => victims.every((v) => allSee(net, v, 'dead')), 10_000, 1);
      assert.ok(at !== undefined && at - killedAt <= 3000, `seed ${seed}: ${at === undefined ? 'never' : at - killedAt} ms`);
      t.diagnostic(`seed ${seed}: all five detected by all after ${Math.round(at - killedAt)} ms`);
    }
  });

  it('costs a bounded number of datagrams per node when idle, at 3 and at 50 nodes', (t) => {
    for (const n of [3, 50]) {
      const net = new SimNetwork({ seed: 9 });
      const ids = startCluster(net, n);
      for (const id of ids) net.setLocal(id, 'proxy_addr', `${id}:8000`);
      assert.ok(net.runUntil(() => membershipConverged(net) && stateConverged(net), 20_000, 10) !== undefined);
      net.run(2000);
      const before = { ...net.stats };
      net.run(10_000);
      const perNodePerSecond = (net.stats.sent - before.sent) / n / 10;
      const meanBytes = (net.stats.bytes - before.bytes) / (net.stats.sent - before.sent);
      t.diagnostic(`${n} nodes: ${perNodePerSecond.toFixed(1)} datagrams/s per node, ${Math.round(meanBytes)} bytes each`);
      // Two probes (ping + ack) per 200 ms period each way, plus anti-entropy every 5 s.
      assert.ok(perNodePerSecond <= 25, `${perNodePerSecond} datagrams/s per node`);
    }
  });

  it('removes a dead node after the member expiry and keeps it out', () => {
    const net = new SimNetwork({ seed: 5, config: { memberExpiryMs: 5000 } });
    const ids = startCluster(net, 5);
    net.runUntil(() => membershipConverged(net), 10_000, 10);
    net.kill('n03');
    assert.ok(net.runUntil(() => allSee(net, 'n03', 'dead'), 5000) !== undefined);
    assert.ok(net.runUntil(() => allSee(net, 'n03', undefined), 10_000) !== undefined, 'removed everywhere');
    net.run(30_000);
    assert.ok(allSee(net, 'n03', undefined));
    for (const id of ids) {
      const removed = net.node(id).events.filter((e) => e.event.type === 'member-removed');
      assert.ok(id === 'n03' || removed.length === 1, `${id} removed it once`);
    }
  });
});
