import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ClusterSnapshot } from '../../../../src/domain/cluster/cluster-snapshot.js';
import { describeEndpoint, isServed } from '../../../../src/domain/endpoint/endpoint.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

describe('ClusterSnapshot', () => {
  describe('.remoteCandidates', () => {
    it('indexes active remote nodes holding the endpoint, with their listener counts as weights', () => {
      const snap = ClusterSnapshot.of(3, NodeFixtures.localId, [
        NodeFixtures.holding(NodeFixtures.localId, ep, 9),
        NodeFixtures.holding('node-c', ep, 2),
        NodeFixtures.holding('node-b', ep, 1),
        NodeFixtures.holding('node-d', other, 4),
        NodeFixtures.holding('node-zero', ep, 0),
      ]);
      assert.deepEqual(
        snap.remoteCandidates(ep).map((c) => [c.node.id, c.weight]),
        [['node-b', 1], ['node-c', 2]],
        'sorted by node ID, local and zero-listener nodes left out',
      );
      assert.deepEqual(snap.remoteCandidates(EndpointFixtures.unknown), []);
      assert.equal(snap.remoteCandidates(ep), snap.remoteCandidates(ep), 'built once, not per call');
    });

    it('leaves out unreachable and left nodes', () => {
      const snap = ClusterSnapshot.of(1, NodeFixtures.localId, [
        NodeFixtures.build({ id: 'node-u', status: 'unreachable', endpoints: [[ep, 1]] }),
        NodeFixtures.build({ id: 'node-l', status: 'left', endpoints: [[ep, 1]] }),
      ]);
      assert.deepEqual(snap.remoteCandidates(ep), []);
      assert.equal(snap.nodes.length, 2, 'but lists them');
    });
  });

  it('finds nodes by ID and knows the local node', () => {
    const snap = ClusterSnapshot.of(1, NodeFixtures.localId, [NodeFixtures.any, NodeFixtures.holding('node-b', ep, 1)]);
    assert.equal(snap.node(NodeFixtures.any.id)?.id, NodeFixtures.any.id);
    assert.equal(snap.local?.id === NodeFixtures.localId || snap.local === undefined, true);
    assert.ok(Object.isFrozen(snap.nodes));
  });
});

describe('describeEndpoint', () => {
  it('combines local listeners and the remote nodes holding the endpoint', () => {
    const snap = ClusterSnapshot.of(1, NodeFixtures.localId, [NodeFixtures.holding('node-b', ep, 2)]);
    const e = describeEndpoint(ep, 1, snap);
    assert.equal(e.localListeners, 1);
    assert.deepEqual([...e.remoteListeners], [['node-b', 2]]);
    assert.equal(isServed(e), true);
    assert.equal(isServed(describeEndpoint(other, 0, snap)), false);
  });
});
