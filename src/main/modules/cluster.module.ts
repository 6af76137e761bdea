import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { Metrics } from '../../application/ports/metrics.port.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { GossipClusterMembership } from '../../adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { TOKENS } from '../tokens.js';

/**
 * Cluster membership over gossip (UDP on `cluster.gossip.bind_addr`, as Piko: a node alone is a cluster of
 * one), and the status view of it the admin port serves.
 */
export const clusterModule = new ContainerModule(({ bind }) => {
  bind(GossipClusterMembership)
    .toResolvedValue(
      (cfg: ServerConfig, clock: Clock, logger: Logger, metrics: Metrics) =>
        new GossipClusterMembership({
          nodeId: cfg.cluster.nodeId,
          bindAddr: cfg.cluster.gossip.bindAddr,
          advertiseAddr: cfg.cluster.gossip.advertiseAddr,
          intervalMs: cfg.cluster.gossip.intervalMs,
          maxPacketSize: cfg.cluster.gossip.maxPacketSize,
          secretKey: cfg.cluster.gossip.secretKey,
          join: cfg.cluster.join,
          joinTimeoutMs: cfg.cluster.joinTimeoutMs,
          clock,
          logger: logger.child('gossip'),
          metrics,
        }),
      [TOKENS.ServerConfig, TOKENS.Clock, TOKENS.Logger, TOKENS.Metrics],
    )
    .inSingletonScope();
  bind(TOKENS.ClusterMembership).toService(GossipClusterMembership);
  bind(TOKENS.ClusterStatus)
    .toResolvedValue((m: GossipClusterMembership) => m.statusSource(), [GossipClusterMembership])
    .inSingletonScope();
});
