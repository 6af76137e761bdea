import type { ClusterSnapshot } from '../cluster/cluster-snapshot.js';
import type { NodeId } from '../node/node.js';
import type { EndpointId } from './endpoint-id.js';

/**
 * What this node knows of one endpoint: how many upstreams serve it here, and which other active nodes hold
 * upstreams for it (node ID → listener count). An endpoint exists while any of these is non-zero; its ID rules
 * are those of {@link EndpointId}.
 */
export interface Endpoint {
  readonly id: EndpointId;
  readonly localListeners: number;
  readonly remoteListeners: ReadonlyMap<NodeId, number>;
}

/** Describes `id` from the local upstream count and a cluster snapshot. */
export function describeEndpoint(id: EndpointId, localListeners: number, cluster: ClusterSnapshot): Endpoint {
  const remoteListeners = new Map<NodeId, number>();
  for (const { node, weight } of cluster.remoteCandidates(id)) remoteListeners.set(node.id, weight);
  return { id, localListeners, remoteListeners };
}

/** True when some node (this one or another active one) can serve the endpoint. */
export const isServed = (endpoint: Endpoint): boolean => endpoint.localListeners > 0 || endpoint.remoteListeners.size > 0;
