import type { ClusterSnapshot } from '../../domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { NodeId } from '../../domain/node/node.js';

/** Stops a subscription. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/** What a node tells the cluster about itself when it starts: its ID and advertised addresses. */
export interface LocalNodeInfo {
  readonly id: NodeId;
  /** `host:port` other nodes forward requests to. */
  readonly proxyAddr: string;
  /** `host:port` of the admin port, for status. */
  readonly adminAddr: string;
}

/**
 * The cluster as this node sees it (Piko's `cluster.State` plus its gossip). The single-node implementation
 * knows only itself; the gossip one learns peers, their endpoints and their liveness.
 *
 * Contract, for every implementation (checked by the contract suite in test/support/contracts):
 * - `snapshot()` is cheap (a field read) and returns an immutable {@link ClusterSnapshot}; the same object until
 *   something changes, then a new one with a higher version. Before `start` it holds no node.
 * - `onChange` listeners run on the event loop after a change, with the new snapshot. They must not block and
 *   should not call back into the membership synchronously.
 * - `setLocalEndpoint` publishes the local listener count of an endpoint (0 removes it); it is idempotent and
 *   may be called before `start`, in which case the count is published at start.
 * - `leave` announces a graceful departure so peers stop routing here at once; afterwards the local node is
 *   marked `left` and no more changes are published.
 */
export interface ClusterMembership {
  readonly localNodeId: NodeId;
  /** Joins the cluster as `self` (for a single node: records its addresses). */
  start(self: LocalNodeInfo): Promise<void>;
  /** The current view of the cluster. */
  snapshot(): ClusterSnapshot;
  /** Calls `listener` with each new snapshot. */
  onChange(listener: (snapshot: ClusterSnapshot) => void): Unsubscribe;
  /** Publishes the local listener count for an endpoint (0 removes it). */
  setLocalEndpoint(endpointId: EndpointId, listeners: number): void;
  /** Leaves the cluster gracefully. */
  leave(): Promise<void>;
}
