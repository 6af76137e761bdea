import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import { RoutingTable } from '../../domain/routing/routing-table.js';
import type { UpstreamConnection } from '../ports/upstream-transport.port.js';

/**
 * The node's table of local upstream connections, shared by the register, unregister and route use cases.
 * Mutated only by those use cases, on the event loop.
 */
export class UpstreamDirectory {
  readonly table = new RoutingTable<UpstreamConnection>();
  readonly #registered = new Set<(endpointId: EndpointId) => void>();

  /** Calls `listener` after each local registration, with its endpoint. Returns the unsubscribe function. */
  onRegistered(listener: (endpointId: EndpointId) => void): () => void {
    this.#registered.add(listener);
    return () => this.#registered.delete(listener);
  }

  /** Tells the listeners that `endpointId` has a new local upstream (called by RegisterUpstream). */
  announce(endpointId: EndpointId): void {
    for (const listener of [...this.#registered]) listener(endpointId);
  }

  /** Local listener count per endpoint, for the status API. */
  endpointCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, count] of this.table.localEndpoints()) out[id] = count;
    return out;
  }

  /** Number of connected upstreams. */
  connectionCount(): number {
    return this.table.localUpstreams().length;
  }

  /** Number of local listeners of one endpoint. */
  listeners(endpointId: EndpointId): number {
    return this.table.localCount(endpointId);
  }
}
