import type { ClusterMembership, LocalNodeInfo, Unsubscribe } from '../../../src/application/ports/cluster-membership.port.js';
import { ClusterSnapshot } from '../../../src/domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../src/domain/endpoint/endpoint-id.js';
import { asNodeId, type Node, type NodeId } from '../../../src/domain/node/node.js';

/** One recorded `setLocalEndpoint` call. */
export interface PublishedCount {
  readonly endpointId: EndpointId;
  readonly listeners: number;
}

/**
 * A `ClusterMembership` held in memory. It records every published local count, keeps the resulting local
 * endpoint table (0 removes, as the port says), and lists configurable remote nodes beside the local one.
 * Several in-process nodes can share a {@link FakeCluster} so that each sees the others' endpoints.
 */
export class FakeClusterMembership implements ClusterMembership {
  /** Every `setLocalEndpoint` call, in order. */
  readonly published: PublishedCount[] = [];
  /** How many times `snapshot()` was called (a route that hits locally should not need the cluster). */
  snapshotCalls = 0;
  started = false;
  left = false;
  readonly #local = new Map<EndpointId, number>();
  readonly #listeners = new Set<(s: ClusterSnapshot) => void>();
  #remote: Node[];
  #self: LocalNodeInfo = { id: asNodeId('node-local'), proxyAddr: 'local.test:8000', adminAddr: 'local.test:8002' };
  #version = 0;
  #snapshot: ClusterSnapshot;

  constructor(
    readonly localNodeId: NodeId = asNodeId('node-local'),
    remoteNodes: readonly Node[] = [],
  ) {
    this.#self = { ...this.#self, id: localNodeId };
    this.#remote = [...remoteNodes];
    this.#snapshot = this.#build();
  }

  /** The remote nodes listed beside the local one; setting them publishes a new snapshot. */
  get remoteNodes(): readonly Node[] {
    return this.#remote;
  }

  set remoteNodes(nodes: readonly Node[]) {
    this.#remote = [...nodes];
    this.#changed();
  }

  /** The local endpoint counts as published so far. */
  get localEndpoints(): ReadonlyMap<EndpointId, number> {
    return new Map(this.#local);
  }

  /** This node as the cluster sees it (what a peer sharing the cluster would list). */
  get localNode(): Node {
    return { id: this.localNodeId, status: this.left ? 'left' : 'active', proxyAddr: this.#self.proxyAddr, adminAddr: this.#self.adminAddr, endpoints: new Map(this.#local) };
  }

  async start(self: LocalNodeInfo): Promise<void> {
    this.started = true;
    this.#self = self;
    this.#changed();
  }

  snapshot(): ClusterSnapshot {
    this.snapshotCalls += 1;
    return this.#snapshot;
  }

  onChange(listener: (snapshot: ClusterSnapshot) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setLocalEndpoint(endpointId: EndpointId, listeners: number): void {
    this.published.push({ endpointId, listeners });
    const before = this.#local.get(endpointId) ?? 0;
    const after = Math.max(0, listeners);
    if (before === after) return;
    if (after > 0) this.#local.set(endpointId, after);
    else this.#local.delete(endpointId);
    if (!this.left) this.#changed();
  }

  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    this.#changed();
  }

  #build(): ClusterSnapshot {
    // Like the real memberships, the local node is listed from start on; remote nodes are listed at once.
    return ClusterSnapshot.of(this.#version, this.localNodeId, this.started ? [this.localNode, ...this.#remote] : [...this.#remote]);
  }

  #changed(): void {
    this.#version += 1;
    this.#snapshot = this.#build();
    for (const l of [...this.#listeners]) l(this.#snapshot);
  }
}

/**
 * Joins two fake memberships as a two-node cluster whose gossip is faked and routing real: each lists the other
 * node as it publishes itself (address, status, endpoints). Only a change of a node's own entry is copied, so a
 * change of its view of the other never echoes back and forth.
 */
export function mirrorMemberships(a: FakeClusterMembership, b: FakeClusterMembership): void {
  const key = (m: FakeClusterMembership): string => JSON.stringify([m.localNode.proxyAddr, m.localNode.status, [...m.localNode.endpoints]]);
  const copy = (from: FakeClusterMembership, to: FakeClusterMembership): void => {
    let last = '';
    from.onChange(() => {
      if (from.snapshot().local === undefined || key(from) === last) return;
      last = key(from);
      to.remoteNodes = [from.localNode];
    });
  };
  copy(a, b);
  copy(b, a);
}
