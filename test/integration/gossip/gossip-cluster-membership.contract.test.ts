import type { Node } from '../../../src/domain/node/node.js';
import { clusterMembershipContract } from '../../support/contracts/cluster-membership.contract.js';
import { NodeFixtures } from '../../support/fixtures/node.fixtures.js';
import { UdpCluster, waitFor } from './udp-cluster.js';

/*
 * The ClusterMembership contract against the gossip membership on real UDP sockets of 127.0.0.1. addPeer starts a
 * second membership that joins the one under test through its bound port and publishes the peer's addresses and
 * endpoints; it resolves once the membership under test lists the peer with them.
 */

function sameEndpoints(node: Node | undefined, expected: Node): boolean {
  if (node === undefined || node.endpoints.size !== expected.endpoints.size) return false;
  for (const [k, v] of expected.endpoints) if (node.endpoints.get(k) !== v) return false;
  return node.proxyAddr === expected.proxyAddr && node.adminAddr === expected.adminAddr;
}

clusterMembershipContract('ClusterMembership contract: GossipClusterMembership (UDP on 127.0.0.1)', () => {
  const cluster = new UdpCluster();
  const { membership } = cluster.make(NodeFixtures.localId);
  return {
    membership,
    hooks: {
      addPeer: async (peer: Node) => {
        const p = cluster.make(peer.id, { join: [`127.0.0.1:${membership.boundAddress?.port}`] });
        for (const [id, n] of peer.endpoints) p.membership.setLocalEndpoint(id, n);
        await p.membership.start({ id: peer.id, proxyAddr: peer.proxyAddr, adminAddr: peer.adminAddr });
        await waitFor('the peer is listed with its endpoints', () => sameEndpoints(membership.snapshot().node(peer.id), peer));
      },
      close: () => cluster.close(),
    },
  };
});
