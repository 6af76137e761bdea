import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { Metrics } from '../../application/ports/metrics.port.js';
import { RebalanceLoop } from '../../application/services/rebalance-loop.js';
import type { UpstreamDirectory } from '../../application/services/upstream-directory.js';
import { RebalanceUpstreams } from '../../application/use-cases/rebalance-upstreams.use-case.js';
import type { RegisterUpstream } from '../../application/use-cases/register-upstream.use-case.js';
import type { UnregisterUpstream } from '../../application/use-cases/unregister-upstream.use-case.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import type { ServerTls } from '../../adapters/platform/tls/server-tls.js';
import { WsUpstreamServer } from '../../adapters/server/upstream/ws-upstream-server.js';
import { TOKENS } from '../tokens.js';
import { SERVER_AUTH, type ServerAuth } from './auth.module.js';

/** The upstream port: WebSocket + yamux sessions from agents. */
export const upstreamModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.UpstreamServer)
    .toResolvedValue(
      (cfg: ServerConfig, register: RegisterUpstream, unregister: UnregisterUpstream, clock: Clock, log: Logger, tls: ServerTls, auth: ServerAuth) =>
        new WsUpstreamServer(
          {
            maxStreamsPerSession: cfg.upstream.maxStreamsPerSession,
            keepaliveIntervalMs: cfg.upstream.keepaliveIntervalMs,
            keepaliveTimeoutMs: cfg.upstream.keepaliveTimeoutMs,
            maxQueuedControlFrames: cfg.upstream.maxQueuedControlFrames,
            maxMessageBytes: cfg.upstream.maxMessageBytes,
            ...(tls.upstream !== undefined && { tls: tls.upstream }),
            // A shed connection's in-flight requests get the same time as at shutdown.
            shedDrainTimeoutMs: cfg.gracePeriodMs,
          },
          { register, unregister, clock, log: log.child('upstream'), ...(auth.upstream !== undefined && { auth: auth.upstream }) },
        ),
      [TOKENS.ServerConfig, TOKENS.RegisterUpstream, TOKENS.UnregisterUpstream, TOKENS.Clock, TOKENS.Logger, TOKENS.ServerTls, SERVER_AUTH],
    )
    .inSingletonScope();
});

/**
 * Rebalancing of upstream connections across the cluster (`upstream.rebalance.*`): a round a second that sheds
 * this node's surplus connections by go-away. Loaded only when `upstream.rebalance.threshold` > 0, as Piko
 * starts its rebalancer only then; the server node starts it once serving and stops it first at shutdown.
 */
export const rebalanceModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.Rebalancer)
    .toResolvedValue(
      (
        cfg: ServerConfig,
        membership: ClusterMembership,
        directory: UpstreamDirectory,
        transport: WsUpstreamServer,
        clock: Clock,
        metrics: Metrics,
        log: Logger,
      ) =>
        new RebalanceLoop({
          rebalance: new RebalanceUpstreams(cfg.upstream.rebalance),
          membership,
          directory,
          transport,
          clock,
          metrics,
          log: log.child('upstream'),
        }),
      [TOKENS.ServerConfig, TOKENS.ClusterMembership, TOKENS.UpstreamDirectory, TOKENS.UpstreamServer, TOKENS.Clock, TOKENS.Metrics, TOKENS.Logger],
    )
    .inSingletonScope();
});
