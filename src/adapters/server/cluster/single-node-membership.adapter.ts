import type { ClusterMembership, LocalNodeInfo, Unsubscribe } from '../../../application/ports/cluster-membership.port.js';
import { ClusterSnapshot } from '../../../domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import type { Node, NodeId, NodeStatus } from '../../../domain/node/node.js';

/**
 * ClusterMembership for a node that runs alone: it knows only itself and never forwards. It still keeps the
 * port's whole contract (versioned snapshots, change events), so the status API, the metrics and the tests
 * see one behaviour whichever membership runs. Mutated only on the event loop.
 */
export class SingleNodeMembership implements ClusterMembership {
  readonly #endpoints = new Map<EndpointId, number>();
  readonly #listeners = new Set<(snapshot: ClusterSnapshot) => void>();
  #self: LocalNodeInfo | undefined;
  #status: NodeStatus = 'active';
  #snapshot: ClusterSnapshot;
  #version = 0;

  constructor(readonly localNodeId: NodeId) {
    this.#snapshot = ClusterSnapshot.of(0, localNodeId, []);
  }

  async start(self: LocalNodeInfo): Promise<void> {
    this.#self = self;
    this.#publish();
  }

  snapshot(): ClusterSnapshot {
    return this.#snapshot;
  }

  onChange(listener: (snapshot: ClusterSnapshot) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setLocalEndpoint(endpointId: EndpointId, listeners: number): void {
    const before = this.#endpoints.get(endpointId) ?? 0;
    const after = Math.max(0, listeners);
    if (before === after) return;
    if (after > 0) this.#endpoints.set(endpointId, after);
    else this.#endpoints.delete(endpointId);
    if (this.#self !== undefined && this.#status !== 'left') this.#publish();
  }

  async leave(): Promise<void> {
    if (this.#status === 'left') return;
    this.#status = 'left';
    if (this.#self !== undefined) this.#publish();
  }

  #publish(): void {
    const self = this.#self as LocalNodeInfo;
    const node: Node = {
      id: this.localNodeId,
      status: this.#status,
      proxyAddr: self.proxyAddr,
      adminAddr: self.adminAddr,
      endpoints: new Map(this.#endpoints),
    };
    this.#snapshot = ClusterSnapshot.of(++this.#version, this.localNodeId, [node]);
    for (const listener of [...this.#listeners]) listener(this.#snapshot);
  }
}
