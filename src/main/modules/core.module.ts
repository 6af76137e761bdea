import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { Metrics } from '../../application/ports/metrics.port.js';
import { RouteWaiter } from '../../application/services/route-waiter.js';
import { UpstreamDirectory } from '../../application/services/upstream-directory.js';
import { declareUpstreamMetrics, type UpstreamMetrics } from '../../application/services/upstream-metrics.js';
import { DispatchRequest } from '../../application/use-cases/dispatch-request.use-case.js';
import { RegisterUpstream } from '../../application/use-cases/register-upstream.use-case.js';
import { RouteRequest } from '../../application/use-cases/route-request.use-case.js';
import { UnregisterUpstream } from '../../application/use-cases/unregister-upstream.use-case.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { TOKENS } from '../tokens.js';

/** The server's use cases and the state they share. */
export const coreModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.UpstreamDirectory).toConstantValue(new UpstreamDirectory());
  bind(TOKENS.UpstreamMetrics)
    .toResolvedValue((m: Metrics) => declareUpstreamMetrics(m), [TOKENS.Metrics])
    .inSingletonScope();
  bind(TOKENS.RegisterUpstream)
    .toResolvedValue(
      (d: UpstreamDirectory, c: ClusterMembership, m: UpstreamMetrics, l: Logger) => new RegisterUpstream(d, c, m, l.child('upstream')),
      [TOKENS.UpstreamDirectory, TOKENS.ClusterMembership, TOKENS.UpstreamMetrics, TOKENS.Logger],
    )
    .inSingletonScope();
  bind(TOKENS.UnregisterUpstream)
    .toResolvedValue(
      (d: UpstreamDirectory, c: ClusterMembership, m: UpstreamMetrics, l: Logger) => new UnregisterUpstream(d, c, m, l.child('upstream')),
      [TOKENS.UpstreamDirectory, TOKENS.ClusterMembership, TOKENS.UpstreamMetrics, TOKENS.Logger],
    )
    .inSingletonScope();
  bind(TOKENS.RouteRequest)
    .toResolvedValue(
      (d: UpstreamDirectory, c: ClusterMembership, m: UpstreamMetrics, r: () => number) => new RouteRequest(d, c, m, r),
      [TOKENS.UpstreamDirectory, TOKENS.ClusterMembership, TOKENS.UpstreamMetrics, TOKENS.Random],
    )
    .inSingletonScope();
  bind(TOKENS.RouteWaiter)
    .toResolvedValue(
      (d: UpstreamDirectory, c: ClusterMembership, clock: Clock, cfg: ServerConfig) => new RouteWaiter(d, c, clock, cfg.proxy.upstreamWaitMs),
      [TOKENS.UpstreamDirectory, TOKENS.ClusterMembership, TOKENS.Clock, TOKENS.ServerConfig],
    )
    .inSingletonScope();
  bind(TOKENS.DispatchRequest)
    .toResolvedValue(
      (r: RouteRequest, u: UnregisterUpstream, l: Logger, w: RouteWaiter) => new DispatchRequest(r, u, l.child('proxy'), w),
      [TOKENS.RouteRequest, TOKENS.UnregisterUpstream, TOKENS.Logger, TOKENS.RouteWaiter],
    )
    .inSingletonScope();
});
