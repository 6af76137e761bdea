import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Route } from '../../domain/routing/routing-table.js';
import type { ClusterMembership } from '../ports/cluster-membership.port.js';
import type { UpstreamConnection } from '../ports/upstream-transport.port.js';
import type { UpstreamDirectory } from '../services/upstream-directory.js';
import type { UpstreamMetrics } from '../services/upstream-metrics.js';

/** Inputs of one routing decision. */
export interface RouteRequestInput {
  readonly endpointId: EndpointId;
  /** True when another node forwarded the request here: only local upstreams may serve it. */
  readonly forwarded: boolean;
  /** Upstreams and nodes that already failed for this request. */
  readonly exclude?: ReadonlySet<string>;
}

/**
 * Chooses the upstream (or peer node) for a request or TCP tunnel. Upstreams that have stopped accepting
 * (go-away) are skipped. Returns undefined when nothing can serve the endpoint.
 */
export class RouteRequest {
  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly membership: ClusterMembership,
    private readonly metrics: UpstreamMetrics,
    private readonly random: () => number,
  ) {}

  execute(input: RouteRequestInput): Route<UpstreamConnection> | undefined {
    const table = this.directory.table;
    const local = {
      allowRemote: false,
      ...(input.exclude !== undefined ? { exclude: input.exclude } : {}),
      isUsable: isAccepting,
    };
    let route = table.select(input.endpointId, local);
    if (route === undefined && !input.forwarded) {
      // Only a local miss looks at the cluster (a field read: the snapshot is built once per change).
      route = table.select(input.endpointId, {
        ...local,
        allowRemote: true,
        cluster: this.membership.snapshot(),
        random: this.random,
      });
    }
    if (route?.kind === 'local') this.metrics.upstreamRequests.inc();
    else if (route?.kind === 'remote') this.metrics.remoteRequests.inc({ node_id: route.node.id });
    return route;
  }
}

const isAccepting = (u: UpstreamConnection): boolean => u.accepting;
