import type { ClusterMembership } from '../ports/cluster-membership.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { UpstreamConnection } from '../ports/upstream-transport.port.js';
import type { UpstreamDirectory } from '../services/upstream-directory.js';
import type { UpstreamMetrics } from '../services/upstream-metrics.js';

/** Adds a newly connected upstream to the routing table and tells the cluster. */
export class RegisterUpstream {
  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly membership: ClusterMembership,
    private readonly metrics: UpstreamMetrics,
    private readonly log: Logger,
  ) {}

  /** Registers `connection`; registering the same connection twice changes nothing. */
  execute(connection: UpstreamConnection): void {
    if (!this.directory.table.addLocal(connection)) return;
    const listeners = this.directory.listeners(connection.endpointId);
    this.membership.setLocalEndpoint(connection.endpointId, listeners);
    this.metrics.connectedUpstreams.inc();
    if (listeners === 1) this.metrics.registeredEndpoints.inc();
    this.log.info('upstream connected', {
      'endpoint-id': connection.endpointId,
      'client-ip': connection.remoteAddress,
      'upstream-id': connection.id,
    });
    this.directory.announce(connection.endpointId);
  }
}
