import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConverged, startCluster } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/*
 * No false positives: with 5% of datagrams lost (and, separately, duplicated and reordered), no live node is
 * ever declared unreachable. Suspicions happen (a probe and all its indirect paths can fail together) and must
 * be refuted before they time out.
 */

function falsePositives(options: { seed: number; lossRate: number; duplicateRate?: number; latencyMs?: [number, number] }, n: number, ms: number) {
  const net = new SimNetwork({ seed: options.seed, duplicateRate: options.duplicateRate ?? 0, latencyMs: options.latencyMs ?? [0.2, 2] });
  startCluster(net, n);
  assert.ok(net.runUntil(() => membershipConverged(net), 20_000, 10) !== undefined);
  net.drop(options.lossRate);
  const start = net.now;
  net.run(ms);
  let dead = 0;
  let suspected = 0;
  let refuted = 0;
  for (const node of net.nodes) {
    for (const { at, event } of node.events) {
      if (at < start) continue;
      if (event.type === 'member-status' && event.member.status === 'dead') dead += 1;
      if (event.type === 'member-status' && event.member.status === 'suspect') suspected += 1;
      if (event.type === 'refuted') refuted += 1;
    }
  }
  return { dead, suspected, refuted, converged: membershipConverged(net), stats: net.stats };
}

describe('simulated gossip cluster: packet loss', () => {
  it('declares no live node unreachable at 50 nodes with 5% loss over 60 simulated seconds', (t) => {
    const r = falsePositives({ seed: 61, lossRate: 0.05 }, 50, 60_000);
    t.diagnostic(`suspicions ${r.suspected}, refutations ${r.refuted}, deaths ${r.dead}; ${r.stats.sent} datagrams`);
    assert.equal(r.dead, 0);
    assert.ok(r.suspected > 0, 'the loss did cause suspicions, which were all refuted');
    assert.ok(r.converged);
  });

  it('declares no live node unreachable at 10 nodes with 5% loss, 5% duplicates and reordering', () => {
    const r = falsePositives({ seed: 62, lossRate: 0.05, duplicateRate: 0.05, latencyMs: [0.2, 40] }, 10, 60_000);
    assert.equal(r.dead, 0);
    assert.ok(r.converged);
  });
});
