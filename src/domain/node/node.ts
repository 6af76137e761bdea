import type { EndpointId } from '../endpoint/endpoint-id.js';

/** A node's ID: unique per process start (prefix plus random suffix), as in Piko. */
export type NodeId = string & { readonly __brand: 'NodeId' };

/** Marks a string as a node ID. Node IDs are generated or configured, so there is nothing to validate. */
export const asNodeId = (raw: string): NodeId => raw as NodeId;

/**
 * A node's status as seen from here. `unreachable` is a local opinion; `left` is replicated.
 * Only `active` nodes are routed to.
 */
export type NodeStatus = 'active' | 'unreachable' | 'left';

/** A server node of the cluster and the endpoints it holds upstreams for (ID → listener count). */
export interface Node {
  readonly id: NodeId;
  readonly status: NodeStatus;
  readonly proxyAddr: string;
  readonly adminAddr: string;
  readonly endpoints: ReadonlyMap<EndpointId, number>;
}
