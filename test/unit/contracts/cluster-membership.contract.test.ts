import { SingleNodeMembership } from '../../../src/adapters/server/cluster/single-node-membership.adapter.js';
import { clusterMembershipContract } from '../../support/contracts/cluster-membership.contract.js';
import { FakeClusterMembership } from '../../support/fakes/fake-cluster-membership.js';
import { NodeFixtures } from '../../support/fixtures/node.fixtures.js';

/*
 * The ClusterMembership contract against the in-memory fake (peers set directly) and the single-node adapter
 * (no peers: the peer cases are skipped). A gossip membership joins here with a harness whose addPeer starts a
 * second member.
 */

clusterMembershipContract('ClusterMembership contract: FakeClusterMembership', () => {
  const membership = new FakeClusterMembership(NodeFixtures.localId);
  return {
    membership,
    hooks: {
      addPeer: (peer) => {
        membership.remoteNodes = [...membership.remoteNodes, peer];
      },
    },
  };
});

clusterMembershipContract('ClusterMembership contract: SingleNodeMembership', () => ({
  membership: new SingleNodeMembership(NodeFixtures.localId),
}));
