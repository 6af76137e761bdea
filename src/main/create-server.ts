import { Container } from 'inversify';
import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import { createAdminApp } from '../adapters/server/admin/admin-router.js';
import { startAdminServer, type AdminServer } from '../adapters/server/admin/admin-server.js';
import { SingleNodeClusterStatus } from '../adapters/server/admin/cluster-status.js';
import { clusterMetricsHook } from '../adapters/server/admin/cluster-metrics.js';
import { SystemClock } from '../adapters/platform/clock/system-clock.js';
import { SingleNodeMembership } from '../adapters/server/cluster/single-node-membership.adapter.js';
import type { ServerConfig } from '../adapters/platform/config/types.js';
import { createWinstonLogger } from '../adapters/platform/logging/winston-logger.adapter.js';
import { PromMetrics } from '../adapters/platform/metrics/prom-metrics.adapter.js';
import { formatAddress, listen, type BoundAddress } from '../adapters/platform/net/listen.js';
import { parseHostPort } from '../adapters/platform/config/addresses.js';
import { asNodeId } from '../domain/node/node.js';
import { coreModule, runtimeModule } from './modules/core.module.js';
import { httpModule } from './modules/http.module.js';
import { transportModule } from './modules/transport.module.js';
import { TOKENS } from './tokens.js';

/** A running server node. */
export interface ServerNode {
  readonly nodeId: string;
  readonly addresses: { readonly proxy: BoundAddress; readonly upstream: BoundAddress; readonly admin: BoundAddress };
  readonly container: Container;
  isReady(): boolean;
  /**
   * Ordered, graceful stop within the grace period: not ready, stop accepting downstream connections, let
   * in-flight requests finish, go-away to agents, close sessions, leave the cluster, stop the admin port.
   */
  stop(): Promise<void>;
}

/** Test seams: a logger or clock other than the process's. */
export interface ServerOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** Builds the server's container from `config`. */
export function buildServerContainer(config: ServerConfig, overrides: ServerOverrides): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  const logger = overrides.logger ?? createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  container.bind(TOKENS.Config).toConstantValue(config);
  container.bind(TOKENS.Logger).toConstantValue(logger);
  container.bind(TOKENS.Metrics).toConstantValue(new PromMetrics({ collectDefaultMetrics: true }));
  container.bind(TOKENS.ClusterMembership).toConstantValue(new SingleNodeMembership(asNodeId(config.cluster.nodeId)));
  container.load(runtimeModule(overrides.clock ?? new SystemClock()), coreModule, transportModule, httpModule);
  return container;
}

/** Starts a server node: admin port first (not ready), then upstream and proxy ports, then ready. */
export async function startServerNode(config: ServerConfig, overrides: ServerOverrides = {}): Promise<ServerNode> {
  const container = buildServerContainer(config, overrides);
  const log = container.get(TOKENS.Logger).child('server');
  const clock = container.get(TOKENS.Clock);
  let ready = false;

  const directory = container.get(TOKENS.UpstreamDirectory);
  const adminBind = parseHostPort(config.admin.bindAddr);
  const metrics = container.get(TOKENS.Metrics);
  const adminLog = container.get(TOKENS.Logger).child('admin');
  const clusterStatus = new SingleNodeClusterStatus(container.get(TOKENS.ClusterMembership));
  metrics.beforeCollect(clusterMetricsHook(metrics, clusterStatus), (error) => adminLog.error('cluster metrics failed', { error }));
  const admin: AdminServer = await startAdminServer(
    createAdminApp({
      isReady: () => ready,
      metrics,
      upstreamEndpoints: () => directory.endpointCounts(),
      logger: adminLog,
      cluster: clusterStatus,
    }),
    adminBind?.host ?? '',
    adminBind?.port ?? 8002,
  );
  const upstream = container.get(TOKENS.UpstreamServer);
  const proxy = container.get(TOKENS.ProxyServer);
  const membership = container.get(TOKENS.ClusterMembership);
  let upstreamAddr: BoundAddress;
  let proxyAddr: BoundAddress;
  try {
    upstreamAddr = await listen(upstream.server, config.upstream.bindAddr);
    proxyAddr = await listen(proxy.server, config.proxy.bindAddr);
  } catch (err) {
    upstream.closeAll();
    proxy.server.close();
    await admin.stop();
    throw err;
  }
  await membership.start({
    id: asNodeId(config.cluster.nodeId),
    proxyAddr: config.proxy.advertiseAddr || formatAddress(proxyAddr),
    adminAddr: config.admin.advertiseAddr || formatAddress(admin.address),
  });
  ready = true;
  log.info('server started', {
    'node-id': config.cluster.nodeId,
    'proxy-addr': formatAddress(proxyAddr),
    'upstream-addr': formatAddress(upstreamAddr),
    'admin-addr': formatAddress(admin.address),
  });

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const deadline = clock.now() + config.gracePeriodMs;
    const remaining = (): number => Math.max(0, deadline - clock.now());
    ready = false;
    log.info('shutting down', { 'in-flight': proxy.requestsInFlight, upstreams: upstream.size });
    await proxy.drain(remaining());
    upstream.goAwayAll();
    upstream.closeAll();
    await membership.leave();
    container.get(TOKENS.Forwarder).close();
    await admin.stop();
    log.info('shutdown complete');
  };

  return {
    nodeId: config.cluster.nodeId,
    addresses: { proxy: proxyAddr, upstream: upstreamAddr, admin: admin.address },
    container,
    isReady: () => ready,
    stop: () => (stopping ??= stop()),
  };
}
