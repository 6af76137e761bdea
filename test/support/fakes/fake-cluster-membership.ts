import type { ClusterMembership } from '../../../src/application/ports/cluster-membership.port.js';
import type { EndpointId } from '../../../src/domain/endpoint/endpoint-id.js';
import { asNodeId, type Node, type NodeId } from '../../../src/domain/node/node.js';

/** One recorded `setLocalEndpoint` call. */
export interface PublishedCount {
  readonly endpointId: EndpointId;
  readonly listeners: number;
}

/**
 * A `ClusterMembership` held in memory. It records every published local count, keeps the resulting local
 * endpoint table (0 removes, as the port says), and returns configurable remote nodes after the local one.
 */
export class FakeClusterMembership implements ClusterMembership {
  /** Every `setLocalEndpoint` call, in order. */
  readonly published: PublishedCount[] = [];
  /** The remote nodes `nodes()` returns after the local node; replace freely. */
  remoteNodes: Node[];
  /** How many times `nodes()` was called (a route that hits locally should not need the snapshot). */
  nodesCalls = 0;
  started = false;
  left = false;
  readonly #local = new Map<EndpointId, number>();

  constructor(
    readonly localNodeId: NodeId = asNodeId('node-local'),
    remoteNodes: readonly Node[] = [],
  ) {
    this.remoteNodes = [...remoteNodes];
  }

  /** The local endpoint counts as published so far. */
  get localEndpoints(): ReadonlyMap<EndpointId, number> {
    return new Map(this.#local);
  }

  nodes(): readonly Node[] {
    this.nodesCalls += 1;
    const self: Node = {
      id: this.localNodeId,
      status: 'active',
      proxyAddr: 'local.test:8000',
      adminAddr: 'local.test:8002',
      endpoints: new Map(this.#local),
    };
    return [self, ...this.remoteNodes];
  }

  setLocalEndpoint(endpointId: EndpointId, listeners: number): void {
    this.published.push({ endpointId, listeners });
    if (listeners > 0) this.#local.set(endpointId, listeners);
    else this.#local.delete(endpointId);
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async leave(): Promise<void> {
    this.left = true;
  }
}
