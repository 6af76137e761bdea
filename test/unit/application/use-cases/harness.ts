import { UpstreamDirectory } from '../../../../src/application/services/upstream-directory.js';
import { declareUpstreamMetrics, type UpstreamMetrics } from '../../../../src/application/services/upstream-metrics.js';
import { RegisterUpstream } from '../../../../src/application/use-cases/register-upstream.use-case.js';
import { RouteRequest } from '../../../../src/application/use-cases/route-request.use-case.js';
import { UnregisterUpstream } from '../../../../src/application/use-cases/unregister-upstream.use-case.js';
import type { Node } from '../../../../src/domain/node/node.js';
import { FakeClusterMembership } from '../../../support/fakes/fake-cluster-membership.js';
import { InMemoryLogger } from '../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../support/fakes/in-memory-metrics.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';

/** Metric names of Piko's upstream subsystem. */
export const CONNECTED = 'piko_upstreams_connected_upstreams';
export const REGISTERED = 'piko_upstreams_registered_endpoints';
export const UPSTREAM_REQUESTS = 'piko_upstreams_upstream_requests_total';
export const REMOTE_REQUESTS = 'piko_upstreams_remote_requests_total';

/** The three upstream use cases wired to one directory and to fakes, as the composition root wires them. */
export interface UseCaseHarness {
  readonly directory: UpstreamDirectory;
  readonly membership: FakeClusterMembership;
  readonly metrics: InMemoryMetrics;
  readonly upstreamMetrics: UpstreamMetrics;
  readonly log: InMemoryLogger;
  readonly register: RegisterUpstream;
  readonly unregister: UnregisterUpstream;
  readonly route: RouteRequest;
  /** What RouteRequest's random source returns; change it between calls. */
  random: number;
}

export function harness(remoteNodes: readonly Node[] = []): UseCaseHarness {
  const directory = new UpstreamDirectory();
  const membership = new FakeClusterMembership(NodeFixtures.localId, remoteNodes);
  const metrics = new InMemoryMetrics();
  const upstreamMetrics = declareUpstreamMetrics(metrics);
  const log = new InMemoryLogger();
  const h: UseCaseHarness = {
    directory,
    membership,
    metrics,
    upstreamMetrics,
    log,
    register: new RegisterUpstream(directory, membership, upstreamMetrics, log),
    unregister: new UnregisterUpstream(directory, membership, upstreamMetrics, log),
    route: new RouteRequest(directory, membership, upstreamMetrics, () => h.random),
    random: 0,
  };
  return h;
}
