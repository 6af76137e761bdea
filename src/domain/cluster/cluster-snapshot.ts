import type { EndpointId } from '../endpoint/endpoint-id.js';
import type { Node, NodeId } from '../node/node.js';

/** A remote node that holds upstreams for an endpoint, and how many (its weight in the remote choice). */
export interface RemoteCandidate {
  readonly node: Node;
  readonly weight: number;
}

const NONE: readonly RemoteCandidate[] = Object.freeze([]);

/**
 * The cluster as this node knew it at one moment: every node (the local one included) and, built once per
 * snapshot, the index endpoint → active remote nodes holding it. Immutable: membership publishes a new snapshot
 * with a higher `version` on every change, so a routing miss reads a ready index instead of rebuilding arrays
 * and maps per request.
 */
export class ClusterSnapshot {
  readonly #byEndpoint: ReadonlyMap<EndpointId, readonly RemoteCandidate[]>;
  readonly #byId: ReadonlyMap<NodeId, Node>;

  private constructor(
    /** Grows by at least one on every change of any node; equal versions mean equal snapshots. */
    readonly version: number,
    readonly localNodeId: NodeId,
    /** Every known node, the local one included, in a stable order (by ID). */
    readonly nodes: readonly Node[],
  ) {
    const byEndpoint = new Map<EndpointId, RemoteCandidate[]>();
    const byId = new Map<NodeId, Node>();
    for (const node of nodes) {
      byId.set(node.id, node);
      if (node.id === localNodeId || node.status !== 'active') continue;
      for (const [endpointId, listeners] of node.endpoints) {
        if (listeners <= 0) continue;
        let list = byEndpoint.get(endpointId);
        if (list === undefined) byEndpoint.set(endpointId, (list = []));
        list.push({ node, weight: listeners });
      }
    }
    this.#byEndpoint = byEndpoint;
    this.#byId = byId;
  }

  /** Builds a snapshot; `nodes` are copied and sorted by ID. */
  static of(version: number, localNodeId: NodeId, nodes: readonly Node[]): ClusterSnapshot {
    const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return new ClusterSnapshot(version, localNodeId, Object.freeze(sorted));
  }

  /** Active remote nodes holding `endpointId`, with their listener counts; empty when none. */
  remoteCandidates(endpointId: EndpointId): readonly RemoteCandidate[] {
    return this.#byEndpoint.get(endpointId) ?? NONE;
  }

  /** The node with `id`, if known. */
  node(id: NodeId): Node | undefined {
    return this.#byId.get(id);
  }

  /** The local node, once membership has started. */
  get local(): Node | undefined {
    return this.#byId.get(this.localNodeId);
  }
}
