import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { UpstreamDirectory } from '../../application/services/upstream-directory.js';
import { declareUpstreamMetrics, type UpstreamMetrics } from '../../application/services/upstream-metrics.js';
import { DispatchRequest } from '../../application/use-cases/dispatch-request.use-case.js';
import { RegisterUpstream } from '../../application/use-cases/register-upstream.use-case.js';
import { RouteRequest } from '../../application/use-cases/route-request.use-case.js';
import { UnregisterUpstream } from '../../application/use-cases/unregister-upstream.use-case.js';
import type { PromMetrics } from '../../adapters/platform/metrics/prom-metrics.adapter.js';
import { TOKENS } from '../tokens.js';

/** Use cases and the state they share. */
export const coreModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.UpstreamDirectory).toConstantValue(new UpstreamDirectory());
  bind(TOKENS.UpstreamMetrics)
    .toResolvedValue((m: PromMetrics) => declareUpstreamMetrics(m), [TOKENS.Metrics])
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
  bind(TOKENS.DispatchRequest)
    .toResolvedValue(
      (r: RouteRequest, u: UnregisterUpstream, l: Logger) => new DispatchRequest(r, u, l.child('proxy')),
      [TOKENS.RouteRequest, TOKENS.UnregisterUpstream, TOKENS.Logger],
    )
    .inSingletonScope();
});

/** Clock and randomness of the process. */
export const runtimeModule = (clock: Clock) =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.Clock).toConstantValue(clock);
    bind(TOKENS.Random).toConstantValue(Math.random);
  });
