import { Container } from 'inversify';
import type { ClusterMembership } from '../application/ports/cluster-membership.port.js';
import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { Metrics } from '../application/ports/metrics.port.js';
import type { RebalanceLoop } from '../application/services/rebalance-loop.js';
import type { UpstreamDirectory } from '../application/services/upstream-directory.js';
import type { ServerConfig } from '../adapters/platform/config/types.js';
import type { ServerTls } from '../adapters/platform/tls/server-tls.js';
import type { ClusterStatusSource } from '../adapters/server/admin/cluster-status.js';
import type { ProxyServer } from '../adapters/server/proxy/proxy-server.js';
import type { WsUpstreamServer } from '../adapters/server/upstream/ws-upstream-server.js';
import { GossipClusterMembership } from '../adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { SingleNodeClusterStatus } from '../adapters/server/admin/cluster-status.js';
import { clusterModule } from './modules/cluster.module.js';
import { coreModule } from './modules/core.module.js';
import { platformModule, type PlatformOverrides } from './modules/platform.module.js';
import { proxyModule } from './modules/proxy.module.js';
import { tlsModule } from './modules/tls.module.js';
import { rebalanceModule, upstreamModule } from './modules/upstream.module.js';
import { ServerNode } from './server-node.js';
import { authModule, SERVER_AUTH, type ServerAuth } from './modules/auth.module.js';
import { TOKENS, type ClosableForwarder, type MetricsRegistry } from './tokens.js';

/** Adapters a test swaps when it starts a node in-process (a fake membership shared by two nodes, a fake clock...). */
export interface ServerOverrides extends PlatformOverrides {
  readonly membership?: ClusterMembership;
  readonly clusterStatus?: ClusterStatusSource;
}

/** Builds the server's container from `config`: every part of a node, wired by modules. */
export function buildServerContainer(config: ServerConfig, overrides: ServerOverrides = {}): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(TOKENS.ServerConfig).toConstantValue(config);
  container.load(platformModule(config.log, overrides), clusterModule, coreModule, tlsModule, authModule, upstreamModule, proxyModule);
  if (config.upstream.rebalance.threshold > 0) container.load(rebalanceModule);
  if (overrides.membership !== undefined) {
    container.rebind(TOKENS.ClusterMembership).toConstantValue(overrides.membership);
    // Without gossip, the status pages read the swapped membership's snapshot.
    container.rebind(TOKENS.ClusterStatus).toConstantValue(overrides.clusterStatus ?? new SingleNodeClusterStatus(overrides.membership));
  } else if (overrides.clusterStatus !== undefined) container.rebind(TOKENS.ClusterStatus).toConstantValue(overrides.clusterStatus);
  container
    .bind(TOKENS.ServerNode)
    .toResolvedValue(
      (
        cfg: ServerConfig,
        log: Logger,
        clock: Clock,
        metrics: MetricsRegistry,
        membership: ClusterMembership,
        clusterStatus: ClusterStatusSource,
        directory: UpstreamDirectory,
        upstream: WsUpstreamServer,
        proxy: ProxyServer,
        forwarder: ClosableForwarder,
        tls: ServerTls,
        rebalancer: RebalanceLoop | undefined,
        auth: ServerAuth,
      ) =>
        new ServerNode({
          config: cfg,
          log,
          clock,
          metrics,
          membership,
          clusterStatus,
          directory,
          upstream,
          proxy,
          forwarder,
          tls,
          ...(rebalancer !== undefined ? { rebalancer } : {}),
          auth,
        }),
      [
        TOKENS.ServerConfig,
        TOKENS.Logger,
        TOKENS.Clock,
        TOKENS.Metrics,
        TOKENS.ClusterMembership,
        TOKENS.ClusterStatus,
        TOKENS.UpstreamDirectory,
        TOKENS.UpstreamServer,
        TOKENS.ProxyServer,
        TOKENS.Forwarder,
        TOKENS.ServerTls,
        { serviceIdentifier: TOKENS.Rebalancer, optional: true },
        SERVER_AUTH,
      ],
    )
    .inSingletonScope();
  return container;
}

/**
 * The server's composition root: builds the container, resolves the node (the only `get`), starts it and returns
 * it. Tests use it to run real nodes in-process, with adapters swapped through `overrides`.
 */
export async function startServerNode(config: ServerConfig, overrides: ServerOverrides = {}): Promise<ServerNode> {
  const container = buildServerContainer(config, overrides);
  const node = container.get(TOKENS.ServerNode);
  await node.start();
  // With members to join, wait for the join (retried with backoff within cluster.join_timeout, as Piko) and,
  // when it fails and cluster.abort_if_join_fails is set, stop: a node that cannot reach its cluster would
  // serve a partial view of it.
  if (overrides.membership === undefined && config.cluster.join.length > 0) {
    const result = await container.get(GossipClusterMembership).joined;
    if (!result.joined && config.cluster.abortIfJoinFails) {
      await node.stop();
      throw new Error(`could not join the cluster (${config.cluster.join.join(', ')}) within ${config.cluster.joinTimeoutMs} ms; cluster.abort_if_join_fails is set`);
    }
  }
  return node;
}

export type { ServerNode } from './server-node.js';
export type { Metrics };
