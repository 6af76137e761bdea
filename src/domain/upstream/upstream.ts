import type { EndpointId } from '../endpoint/endpoint-id.js';

/**
 * An upstream listener connected to this node: one registered connection (one WebSocket in Piko's
 * protocol) serving one endpoint. Several upstreams may serve the same endpoint.
 */
export interface Upstream {
  /** Unique on this node for the process lifetime. */
  readonly id: string;
  readonly endpointId: EndpointId;
}
