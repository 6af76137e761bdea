import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ZERO_TIME } from '../../../../../../src/adapters/server/admin/cluster-status.js';
import { clusterMetricsHook } from '../../../../../../src/adapters/server/admin/cluster-metrics.js';
import type { GossipClusterMembership } from '../../../../../../src/adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { asNodeId } from '../../../../../../src/domain/node/node.js';
import { EndpointFixtures } from '../../../../../support/fixtures/endpoint.fixtures.js';
import { GossipHarness, WALL_MS } from '../../../../../support/sim/gossip-harness.js';

/* The admin status source of a gossiping node: Piko's gossip node shapes from the machine's members and state. */

const ep = EndpointFixtures.any;
let h: GossipHarness;
beforeEach(() => {
  h = new GossipHarness(31);
});
afterEach(() => h.close());

async function started(id: string, join: string[] = []): Promise<GossipClusterMembership> {
  const { membership } = h.membership(id, { join, shell: { config: { memberExpiryMs: 30_000 } } });
  await h.settle(membership.start({ id: asNodeId(id), proxyAddr: `${id}.test:8000`, adminAddr: `${id}.test:8002` }));
  return membership;
}

describe('GossipClusterStatus', () => {
  it('lists nothing before start', () => {
    const { membership } = h.membership('a');
    const status = membership.statusSource(() => WALL_MS);
    assert.equal(status.localNodeId, 'a');
    assert.deepEqual(status.gossipNodes(), []);
    assert.deepEqual(status.nodes(), []);
  });

  it("reports every gossip node with Piko's fields: address, version, flags, expiry and entries with deletions", async () => {
    const a = await started('a');
    const b = await started('b', [`127.0.0.1:${a.boundAddress?.port}`]);
    b.setLocalEndpoint(ep, 2);
    b.setLocalEndpoint(EndpointFixtures.other, 1);
    b.setLocalEndpoint(ep, 0);
    await h.until(() => a.snapshot().node(asNodeId('b'))?.endpoints.size === 1);
    const status = a.statusSource(() => WALL_MS);
    const nodes = status.gossipNodes();
    assert.deepEqual(nodes.map((n) => n.id).sort(), ['a', 'b']);
    const nb = nodes.find((n) => n.id === 'b');
    assert.ok(nb);
    assert.equal(nb.addr, `127.0.0.1:${b.boundAddress?.port}`);
    assert.deepEqual([nb.left, nb.unreachable, nb.expiry], [false, false, ZERO_TIME]);
    assert.deepEqual(
      nb.entries.map((e) => [e.key, e.value, e.deleted, e.internal]),
      [
        ['proxy_addr', 'b.test:8000', false, false],
        ['admin_addr', 'b.test:8002', false, false],
        ['endpoint:other-endpoint', '1', false, false],
        ['endpoint:my-endpoint', '', true, false],
      ],
    );
    const versions = nb.entries.map((e) => e.version);
    assert.deepEqual(versions, [...versions].sort((x, y) => x - y), 'entries in version order');
    assert.equal(nb.version, Math.max(...versions));
    assert.deepEqual(status.nodes(), a.snapshot().nodes);
  });

  it('flags an unreachable node and gives the wall time of its removal; flags a node that left', async () => {
    const a = await started('a');
    const seed = [`127.0.0.1:${a.boundAddress?.port}`];
    const b = await started('b', seed);
    const c = await started('c', seed);
    await h.until(() => a.snapshot().nodes.length === 3);
    h.net.block(`127.0.0.1:${b.boundAddress?.port}`);
    await h.until(() => a.gossip?.member('b')?.status === 'dead', 10_000);
    await h.settle(c.leave());
    await h.until(() => a.gossip?.member('c')?.status === 'left');
    const status = a.statusSource(() => WALL_MS);
    const byId = new Map(status.gossipNodes().map((n) => [n.id, n]));
    const removeAt = a.gossip?.member('b')?.removeAt as number;
    assert.equal(byId.get('b')?.unreachable, true);
    assert.equal(byId.get('b')?.left, false);
    assert.equal(byId.get('b')?.expiry, new Date(WALL_MS + removeAt - h.clock.now()).toISOString());
    assert.match(byId.get('b')?.expiry ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(byId.get('c')?.left, true);
    assert.notEqual(byId.get('c')?.expiry, ZERO_TIME);
    assert.equal(byId.get('a')?.expiry, ZERO_TIME);
  });

  it('feeds the cluster metrics hook (piko_cluster_nodes by status, piko_gossip_entries per node)', async () => {
    const { membership: a, metrics } = h.membership('a');
    await h.settle(a.start({ id: asNodeId('a'), proxyAddr: 'a:1', adminAddr: 'a:2' }));
    const b = await started('b', [`127.0.0.1:${a.boundAddress?.port}`]);
    b.setLocalEndpoint(ep, 1);
    await h.until(() => a.snapshot().remoteCandidates(ep).length === 1);
    const hook = clusterMetricsHook(metrics, a.statusSource(() => WALL_MS));
    hook();
    assert.equal(metrics.value('piko_cluster_nodes', { status: 'active' }), 2);
    assert.equal(metrics.value('piko_gossip_entries', { node_id: 'b', deleted: 'false', internal: 'false' }), 3);
    assert.ok(metrics.value('piko_gossip_packet_bytes_inbound_total') > 0, 'the shell feeds the same families the hook declares');
  });
});
