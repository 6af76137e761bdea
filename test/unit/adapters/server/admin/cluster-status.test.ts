import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LocalGossipState, SingleNodeClusterStatus, ZERO_TIME } from '../../../../../src/adapters/server/admin/cluster-status.js';
import { FakeClusterMembership } from '../../../../support/fakes/fake-cluster-membership.js';
import { EndpointFixtures } from '../../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../../support/fixtures/node.fixtures.js';

const entryTuples = (state: LocalGossipState): Array<[string, string, number, boolean]> =>
  state.entries().map((e) => [e.key, e.value, e.version, e.deleted]);

describe('LocalGossipState', () => {
  it('versions the addresses first, then each endpoint, as Piko publishes them', () => {
    const state = new LocalGossipState();
    state.observe(NodeFixtures.build({ id: 'n1', endpoints: [[EndpointFixtures.other, 2], [EndpointFixtures.any, 1]] }));

    assert.deepEqual(entryTuples(state), [
      ['proxy_addr', 'n1.test:8000', 1, false],
      ['admin_addr', 'n1.test:8002', 2, false],
      ['endpoint:my-endpoint', '1', 3, false],
      ['endpoint:other-endpoint', '2', 4, false],
    ]);
    assert.equal(state.version, 4);
    assert.ok(state.entries().every((e) => !e.internal));
  });

  it('keeps versions when nothing changed, and bumps only the entry that changed', () => {
    const state = new LocalGossipState();
    state.observe(NodeFixtures.holding('n1', EndpointFixtures.any, 1));
    state.observe(NodeFixtures.holding('n1', EndpointFixtures.any, 1));
    assert.equal(state.version, 3);

    state.observe(NodeFixtures.holding('n1', EndpointFixtures.any, 3));
    assert.deepEqual(entryTuples(state).at(-1), ['endpoint:my-endpoint', '3', 4, false]);
    assert.equal(state.version, 4);
  });

  it('leaves a tombstone with an empty value for an endpoint that has gone, and revives it if it returns', () => {
    const state = new LocalGossipState();
    state.observe(NodeFixtures.holding('n1', EndpointFixtures.any, 1));
    state.observe(NodeFixtures.build({ id: 'n1' }));

    assert.deepEqual(entryTuples(state).at(-1), ['endpoint:my-endpoint', '', 4, true]);
    state.observe(NodeFixtures.build({ id: 'n1' }));
    assert.equal(state.version, 4, 'a tombstone is not deleted again');

    state.observe(NodeFixtures.holding('n1', EndpointFixtures.any, 2));
    assert.deepEqual(entryTuples(state).at(-1), ['endpoint:my-endpoint', '2', 5, false]);
  });
});

/** A fake membership started as the local node, as the server starts it once its ports are bound. */
async function startedMembership(): Promise<FakeClusterMembership> {
  const membership = new FakeClusterMembership(NodeFixtures.localId);
  await membership.start({ id: NodeFixtures.localId, proxyAddr: 'local.test:8000', adminAddr: 'local.test:8002' });
  return membership;
}

describe('SingleNodeClusterStatus', () => {
  it('reports no node before the membership has started', () => {
    const status = new SingleNodeClusterStatus(new FakeClusterMembership(NodeFixtures.localId));

    assert.deepEqual(status.nodes(), []);
    assert.deepEqual(status.gossipNodes(), []);
  });

  it('reports the membership\'s nodes and the local node\'s gossip metadata', async () => {
    const membership = await startedMembership();
    membership.setLocalEndpoint(EndpointFixtures.any, 2);
    const status = new SingleNodeClusterStatus(membership);

    assert.equal(status.localNodeId, 'node-local');
    assert.deepEqual(status.nodes().map((n) => [n.id, n.status, [...n.endpoints]]), [['node-local', 'active', [['my-endpoint', 2]]]]);
    const [gossip, ...rest] = status.gossipNodes();
    assert.deepEqual(rest, []);
    assert.ok(gossip);
    assert.deepEqual(
      { id: gossip.id, addr: gossip.addr, version: gossip.version, left: gossip.left, unreachable: gossip.unreachable, expiry: gossip.expiry },
      { id: 'node-local', addr: '', version: 3, left: false, unreachable: false, expiry: ZERO_TIME },
    );
    assert.deepEqual(gossip.entries.map((e) => e.key), ['proxy_addr', 'admin_addr', 'endpoint:my-endpoint']);
  });

  it('follows the membership between calls (an endpoint removed becomes a tombstone)', async () => {
    const membership = await startedMembership();
    membership.setLocalEndpoint(EndpointFixtures.any, 1);
    const status = new SingleNodeClusterStatus(membership, '127.0.0.1:8003');
    status.gossipNodes();
    membership.setLocalEndpoint(EndpointFixtures.any, 0);

    const [gossip] = status.gossipNodes();
    assert.equal(gossip?.addr, '127.0.0.1:8003');
    assert.equal(gossip?.version, 4);
    assert.deepEqual(gossip?.entries.at(-1), { key: 'endpoint:my-endpoint', value: '', version: 4, internal: false, deleted: true });
  });
});
