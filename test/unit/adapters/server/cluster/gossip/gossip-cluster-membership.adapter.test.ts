import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { GossipClusterMembership } from '../../../../../../src/adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import type { ClusterSnapshot } from '../../../../../../src/domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../../../../src/domain/endpoint/endpoint-id.js';
import { asNodeId, type Node } from '../../../../../../src/domain/node/node.js';
import { clusterMembershipContract } from '../../../../../support/contracts/cluster-membership.contract.js';
import { EndpointFixtures } from '../../../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../../../support/fixtures/node.fixtures.js';
import { GossipHarness } from '../../../../../support/sim/gossip-harness.js';

/* The gossip ClusterMembership on an in-memory datagram network with a fake clock. */

const ep = EndpointFixtures.any;
const portOf = (m: GossipClusterMembership): number => m.boundAddress?.port as number;
const seedOf = (m: GossipClusterMembership): string => `127.0.0.1:${portOf(m)}`;

function sameEndpoints(node: Node | undefined, expected: Node): boolean {
  if (node === undefined || node.endpoints.size !== expected.endpoints.size) return false;
  for (const [k, v] of expected.endpoints) if (node.endpoints.get(k) !== v) return false;
  return true;
}

clusterMembershipContract('ClusterMembership contract: GossipClusterMembership (in-memory network, fake clock)', () => {
  const h = new GossipHarness(5);
  const { membership } = h.membership(NodeFixtures.localId);
  return {
    membership,
    hooks: {
      settle: () => h.run(20),
      addPeer: async (peer: Node) => {
        const p = h.membership(peer.id, { join: [seedOf(membership)] });
        for (const [id, n] of peer.endpoints) p.membership.setLocalEndpoint(id, n);
        await h.settle(p.membership.start({ id: peer.id, proxyAddr: peer.proxyAddr, adminAddr: peer.adminAddr }));
        await h.until(() => sameEndpoints(membership.snapshot().node(peer.id), peer));
      },
      close: () => h.close(),
    },
  };
});

let h: GossipHarness;
beforeEach(() => {
  h = new GossipHarness(21);
});
afterEach(() => h.close());

async function started(id: string, options: Parameters<GossipHarness['membership']>[1] = {}): Promise<GossipClusterMembership> {
  const { membership } = h.membership(id, options);
  await h.settle(membership.start({ id: asNodeId(id), proxyAddr: `${id}.test:8000`, adminAddr: `${id}.test:8002` }));
  return membership;
}

function record(m: GossipClusterMembership): ClusterSnapshot[] {
  const seen: ClusterSnapshot[] = [];
  m.onChange((s) => seen.push(s));
  return seen;
}

const statusIn = (m: GossipClusterMembership, id: string): string | undefined => m.snapshot().node(asNodeId(id))?.status;

describe('GossipClusterMembership', () => {
  it('hides a peer until both of its addresses are known, then lists it active with its endpoints', async () => {
    const a = await started('a');
    const { shell: p } = h.shell('p');
    await p.start();
    await h.settle(p.join([seedOf(a)], 5_000));
    await h.until(() => a.gossip?.member('p')?.status === 'alive');
    p.setLocal('proxy_addr', 'p.test:8000');
    await h.run(500);
    assert.equal(a.gossip?.state('p')?.get('proxy_addr'), 'p.test:8000', 'the key arrived');
    assert.equal(a.snapshot().node(asNodeId('p')), undefined, 'still pending without admin_addr');
    p.setLocal('admin_addr', 'p.test:8002');
    p.setLocal('endpoint:my-endpoint', '2');
    await h.until(() => a.snapshot().remoteCandidates(ep).length === 1);
    const node = a.snapshot().node(asNodeId('p'));
    assert.deepEqual(
      { status: node?.status, proxy: node?.proxyAddr, admin: node?.adminAddr, endpoints: [...(node?.endpoints ?? [])] },
      { status: 'active', proxy: 'p.test:8000', admin: 'p.test:8002', endpoints: [['my-endpoint', 2]] },
    );
  });

  it('marks a peer that stops answering unreachable (endpoints kept, not routed), active again when it answers, then removed after the expiry', async () => {
    const a = await started('a', { shell: { config: { memberExpiryMs: 5_000 } } });
    const b = await started('b', { join: [seedOf(a)] });
    b.setLocalEndpoint(ep, 2);
    await h.until(() => a.snapshot().remoteCandidates(ep).length === 1);
    h.net.block(seedOf(b));
    await h.until(() => statusIn(a, 'b') === 'unreachable', 10_000);
    assert.equal(a.snapshot().node(asNodeId('b'))?.endpoints.get(ep), 2, 'listeners of an unreachable node are kept');
    assert.deepEqual(a.snapshot().remoteCandidates(ep), [], 'but it is not routed to');
    h.net.unblock(seedOf(b));
    await h.until(() => statusIn(a, 'b') === 'active', 10_000);
    assert.equal(a.snapshot().remoteCandidates(ep)[0]?.weight, 2);
    h.net.block(seedOf(b));
    await h.until(() => statusIn(a, 'b') === 'unreachable', 10_000);
    await h.until(() => a.snapshot().node(asNodeId('b')) === undefined, 10_000, 20);
    assert.equal(a.gossip?.member('b'), undefined);
  });

  it('shows a graceful leave as left at once, and the node never comes back', async () => {
    const a = await started('a', { shell: { config: { memberExpiryMs: 3_000 } } });
    const b = await started('b', { join: [seedOf(a)] });
    b.setLocalEndpoint(ep, 1);
    await h.until(() => a.snapshot().remoteCandidates(ep).length === 1);
    const seen = record(a);
    const leaving = b.leave();
    const took = await h.until(() => statusIn(a, 'b') === 'left', 1_000, 1);
    assert.ok(took <= 10, `left after ${took} ms (one datagram)`);
    assert.deepEqual(a.snapshot().remoteCandidates(ep), []);
    await h.settle(leaving);
    await h.run(10_000, 20);
    const statuses = seen.map((s) => s.node(asNodeId('b'))?.status ?? 'gone');
    const firstLeft = statuses.indexOf('left');
    assert.ok(firstLeft >= 0);
    assert.ok(statuses.slice(firstLeft).every((s) => s === 'left' || s === 'gone'), `after left: ${statuses.slice(firstLeft).join(',')}`);
    assert.equal(statusIn(a, 'b'), undefined, 'removed after the expiry');
  });

  it('on leave: listeners hear left, later changes are ignored, the socket is closed', async () => {
    const a = await started('a');
    a.setLocalEndpoint(ep, 1);
    await h.run(10);
    const seen = record(a);
    await h.settle(a.leave());
    assert.equal(seen.at(-1)?.local?.status, 'left');
    const after = a.snapshot();
    a.setLocalEndpoint(ep, 5);
    await h.run(100);
    assert.equal(a.snapshot(), after);
    assert.equal(h.net.isBound('127.0.0.1', portOf(a)), false);
  });

  it('gives one snapshot (version + 1) for a burst of changes, delivered after the call returns', async () => {
    const a = await started('a');
    await h.run(10);
    const before = a.snapshot().version;
    const seen = record(a);
    for (let i = 1; i <= 50; i += 1) a.setLocalEndpoint(`ep-${i}` as EndpointId, i);
    assert.equal(seen.length, 0, 'not called synchronously');
    await h.run(1);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.version, before + 1);
    assert.equal(seen[0]?.local?.endpoints.size, 50);
  });

  it('publishes no new snapshot for a suspicion (still routable) that is refuted', async () => {
    const a = await started('a');
    const b = await started('b', { join: [seedOf(a)] });
    await h.until(() => statusIn(a, 'b') === 'active');
    await h.run(200);
    const before = a.snapshot();
    h.net.block(seedOf(b));
    await h.until(() => a.gossip?.member('b')?.status === 'suspect', 5_000, 1);
    h.net.unblock(seedOf(b));
    assert.equal(a.snapshot(), before, 'suspect maps to active: nothing to publish');
    await h.until(() => a.gossip?.member('b')?.status === 'alive', 5_000, 1);
    assert.equal(a.snapshot(), before);
  });

  it('propagates endpoint counts to peers, and 0 removes the endpoint there', async () => {
    const a = await started('a');
    const b = await started('b', { join: [seedOf(a)] });
    a.setLocalEndpoint(ep, 3);
    await h.until(() => b.snapshot().remoteCandidates(ep)[0]?.weight === 3);
    a.setLocalEndpoint(ep, 0);
    await h.until(() => b.snapshot().remoteCandidates(ep).length === 0);
    assert.equal(b.snapshot().node(asNodeId('a'))?.endpoints.has(ep), false);
  });

  it('start resolves after the first join attempt; joined says false after the timeout', async () => {
    const { membership: m } = h.membership('a', {
      join: ['127.0.0.1:47999'],
      joinTimeoutMs: 3_000,
      shell: { joinBackoff: { minMs: 1_000, maxMs: 1_000 } },
    });
    const t0 = h.clock.now();
    await h.settle(m.start({ id: asNodeId('a'), proxyAddr: 'a:1', adminAddr: 'a:2' }), 10_000, 10);
    const startedAfter = h.clock.now() - t0;
    assert.ok(startedAfter >= 1_000 && startedAfter < 1_200, `start waited out the first backoff: ${startedAfter}`);
    assert.equal(m.snapshot().local?.status, 'active', 'the node runs meanwhile');
    const result = await h.settle(m.joined, 10_000, 10);
    assert.equal(result.joined, false);
    assert.match(result.reason ?? '', /3000 ms/);
  });

  it('rejects start when the port is taken, and a second start', async () => {
    const a = await started('a');
    const { membership: b } = h.membership('b', { bindAddr: seedOf(a) });
    await assert.rejects(b.start({ id: asNodeId('b'), proxyAddr: 'b:1', adminAddr: 'b:2' }), /gossip bind .*EADDRINUSE/);
    await assert.rejects(a.start({ id: asNodeId('a'), proxyAddr: 'a:1', adminAddr: 'a:2' }), /already started/);
    await assert.rejects(h.membership('c').membership.joined, /not started/);
  });

  it('logs, and does not throw for, an endpoint ID too long to gossip', async () => {
    const { membership: a, logger } = h.membership('a');
    await h.settle(a.start({ id: asNodeId('a'), proxyAddr: 'a:1', adminAddr: 'a:2' }));
    a.setLocalEndpoint('x'.repeat(300) as EndpointId, 1);
    assert.equal(logger.filter({ level: 'error', message: 'cannot gossip this key; peers will not see it' }).length, 1);
  });
});
