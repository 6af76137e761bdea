import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SingleNodeMembership } from '../../../../src/adapters/cluster/single-node-membership.adapter.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

function membership(addresses = { proxyAddr: '127.0.0.1:8000', adminAddr: '127.0.0.1:8002' }): SingleNodeMembership {
  return new SingleNodeMembership(NodeFixtures.localId, () => addresses);
}

describe('SingleNodeMembership', () => {
  describe('.nodes', () => {
    it('lists only the local node, active, with no endpoints at first', () => {
      const m = membership();
      assert.deepEqual(m.nodes(), [
        {
          id: NodeFixtures.localId,
          status: 'active',
          proxyAddr: '127.0.0.1:8000',
          adminAddr: '127.0.0.1:8002',
          endpoints: new Map(),
        },
      ]);
      assert.equal(m.localNodeId, NodeFixtures.localId);
    });

    it('reads the addresses each time, so ports bound after construction show', () => {
      let addresses = { proxyAddr: 'pending', adminAddr: 'pending' };
      const m = new SingleNodeMembership(NodeFixtures.localId, () => addresses);
      addresses = { proxyAddr: '127.0.0.1:40001', adminAddr: '127.0.0.1:40002' };
      const [node] = m.nodes();
      assert.equal(node?.proxyAddr, '127.0.0.1:40001');
      assert.equal(node?.adminAddr, '127.0.0.1:40002');
    });

    it('returns a snapshot of the endpoints that later updates do not change', () => {
      const m = membership();
      m.setLocalEndpoint(ep, 1);
      const before = m.nodes()[0]?.endpoints;
      m.setLocalEndpoint(ep, 5);
      assert.equal(before?.get(ep), 1);
    });
  });

  describe('.setLocalEndpoint', () => {
    it('publishes the latest listener count per endpoint', () => {
      const m = membership();
      m.setLocalEndpoint(ep, 1);
      m.setLocalEndpoint(ep, 2);
      m.setLocalEndpoint(other, 3);
      assert.deepEqual(m.nodes()[0]?.endpoints, new Map([[ep, 2], [other, 3]]));
    });

    it('removes the endpoint when the count drops to 0', () => {
      const m = membership();
      m.setLocalEndpoint(ep, 2);
      m.setLocalEndpoint(other, 1);
      m.setLocalEndpoint(ep, 0);
      assert.deepEqual(m.nodes()[0]?.endpoints, new Map([[other, 1]]));
    });

    it('ignores a 0 for an endpoint it does not hold', () => {
      const m = membership();
      m.setLocalEndpoint(ep, 0);
      assert.equal(m.nodes()[0]?.endpoints.size, 0);
    });
  });

  describe('.start and .leave', () => {
    it('resolve without changing the node list', async () => {
      const m = membership();
      m.setLocalEndpoint(ep, 1);
      await m.start();
      await m.leave();
      assert.equal(m.nodes().length, 1);
      assert.equal(m.nodes()[0]?.endpoints.get(ep), 1);
    });
  });
});
