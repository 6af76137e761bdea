import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SingleNodeMembership } from '../../../../../src/adapters/server/cluster/single-node-membership.adapter.js';
import type { ClusterSnapshot } from '../../../../../src/domain/cluster/cluster-snapshot.js';
import { EndpointFixtures } from '../../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../../support/fixtures/node.fixtures.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;
const self = { id: NodeFixtures.localId, proxyAddr: '127.0.0.1:8000', adminAddr: '127.0.0.1:8002' };

async function started(): Promise<SingleNodeMembership> {
  const m = new SingleNodeMembership(NodeFixtures.localId);
  await m.start(self);
  return m;
}

describe('SingleNodeMembership', () => {
  describe('.snapshot', () => {
    it('holds no node before start, then only the local node, active, with its advertised addresses', async () => {
      const m = new SingleNodeMembership(NodeFixtures.localId);
      assert.deepEqual(m.snapshot().nodes, []);
      await m.start(self);
      assert.deepEqual(m.snapshot().nodes, [{ ...self, status: 'active', endpoints: new Map() }]);
      assert.equal(m.localNodeId, NodeFixtures.localId);
      assert.equal(m.snapshot().local?.id, NodeFixtures.localId);
    });

    it('returns the same object until something changes, then a new one with a higher version', async () => {
      const m = await started();
      const a = m.snapshot();
      assert.equal(m.snapshot(), a);
      m.setLocalEndpoint(ep, 1);
      const b = m.snapshot();
      assert.notEqual(b, a);
      assert.ok(b.version > a.version);
      m.setLocalEndpoint(ep, 1);
      assert.equal(m.snapshot(), b, 'an unchanged count publishes nothing');
    });

    it('keeps an earlier snapshot unchanged by later updates', async () => {
      const m = await started();
      m.setLocalEndpoint(ep, 1);
      const before = m.snapshot();
      m.setLocalEndpoint(ep, 5);
      assert.equal(before.local?.endpoints.get(ep), 1);
      assert.equal(m.snapshot().local?.endpoints.get(ep), 5);
    });

    it('never lists the local node as a remote candidate', async () => {
      const m = await started();
      m.setLocalEndpoint(ep, 3);
      assert.deepEqual(m.snapshot().remoteCandidates(ep), []);
    });
  });

  describe('.setLocalEndpoint', () => {
    it('publishes the latest listener count per endpoint, counts set before start included', async () => {
      const m = new SingleNodeMembership(NodeFixtures.localId);
      m.setLocalEndpoint(ep, 1);
      await m.start(self);
      m.setLocalEndpoint(ep, 2);
      m.setLocalEndpoint(other, 3);
      assert.deepEqual(m.snapshot().local?.endpoints, new Map([[ep, 2], [other, 3]]));
    });

    it('removes the endpoint when the count drops to 0, and ignores a 0 for an unknown endpoint', async () => {
      const m = await started();
      m.setLocalEndpoint(ep, 2);
      m.setLocalEndpoint(other, 1);
      m.setLocalEndpoint(ep, 0);
      m.setLocalEndpoint(EndpointFixtures.unknown, 0);
      assert.deepEqual(m.snapshot().local?.endpoints, new Map([[other, 1]]));
    });
  });

  describe('.onChange', () => {
    it('tells subscribers each new snapshot, until they unsubscribe', async () => {
      const m = new SingleNodeMembership(NodeFixtures.localId);
      const seen: ClusterSnapshot[] = [];
      const stop = m.onChange((s) => seen.push(s));
      await m.start(self);
      m.setLocalEndpoint(ep, 1);
      stop();
      m.setLocalEndpoint(ep, 2);
      assert.equal(seen.length, 2);
      assert.equal(seen[1]?.local?.endpoints.get(ep), 1);
    });
  });

  describe('.leave', () => {
    it('marks the local node left and publishes nothing more', async () => {
      const m = await started();
      m.setLocalEndpoint(ep, 1);
      await m.leave();
      assert.equal(m.snapshot().local?.status, 'left');
      const after = m.snapshot();
      m.setLocalEndpoint(ep, 4);
      assert.equal(m.snapshot(), after);
    });
  });
});
