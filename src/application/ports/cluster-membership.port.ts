import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Node, NodeId } from '../../domain/node/node.js';

/**
 * The cluster as this node sees it. The single-node implementation knows only itself; the gossip one learns
 * peers and their endpoints. Implementations publish local endpoint counts as they change.
 */
export interface ClusterMembership {
  readonly localNodeId: NodeId;
  /** Every known node, the local one included. */
  nodes(): readonly Node[];
  /** Publishes the local listener count for an endpoint (0 removes it). */
  setLocalEndpoint(endpointId: EndpointId, listeners: number): void;
  /** Joins the cluster (nothing to do for a single node). */
  start(): Promise<void>;
  /** Leaves the cluster gracefully so peers stop routing here at once. */
  leave(): Promise<void>;
}
