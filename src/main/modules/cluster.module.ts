import { ContainerModule } from 'inversify';
import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { SingleNodeClusterStatus } from '../../adapters/server/admin/cluster-status.js';
import { SingleNodeMembership } from '../../adapters/server/cluster/single-node-membership.adapter.js';
import { asNodeId } from '../../domain/node/node.js';
import { TOKENS } from '../tokens.js';

/** Cluster membership and the status view of it the admin port serves. */
export const clusterModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.ClusterMembership)
    .toResolvedValue((cfg: ServerConfig) => new SingleNodeMembership(asNodeId(cfg.cluster.nodeId)), [TOKENS.ServerConfig])
    .inSingletonScope();
  bind(TOKENS.ClusterStatus)
    .toResolvedValue((m: ClusterMembership) => new SingleNodeClusterStatus(m), [TOKENS.ClusterMembership])
    .inSingletonScope();
});
