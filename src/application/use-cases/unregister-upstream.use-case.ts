import type { ClusterMembership } from '../ports/cluster-membership.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { UpstreamConnection } from '../ports/upstream-transport.port.js';
import type { UpstreamDirectory } from '../services/upstream-directory.js';
import type { UpstreamMetrics } from '../services/upstream-metrics.js';

/**
 * Removes an upstream from the routing table. Idempotent: a go-away followed by the session closing, or
 * several failed requests at once, remove it once (Piko decrements twice: its §15 #4).
 */
export class UnregisterUpstream {
  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly membership: ClusterMembership,
    private readonly metrics: UpstreamMetrics,
    private readonly log: Logger,
  ) {}

  /** Unregisters `connection`; `reason` is logged. Returns false if it was not registered. */
  execute(connection: UpstreamConnection, reason: string): boolean {
    if (!this.directory.table.removeLocal(connection)) return false;
    const listeners = this.directory.listeners(connection.endpointId);
    this.membership.setLocalEndpoint(connection.endpointId, listeners);
    this.metrics.connectedUpstreams.dec();
    if (listeners === 0) this.metrics.registeredEndpoints.dec();
    this.log.info('upstream disconnected', {
      'endpoint-id': connection.endpointId,
      'client-ip': connection.remoteAddress,
      'upstream-id': connection.id,
      reason,
    });
    return true;
  }
}
