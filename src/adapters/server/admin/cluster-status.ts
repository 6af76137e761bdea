import type { ClusterMembership } from '../../../application/ports/cluster-membership.port.js';
import type { Node } from '../../../domain/node/node.js';

/** Go's zero `time.Time` in RFC 3339, which Piko reports as the expiry of a node that has none. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One versioned key of a node's gossip state (Piko `gossip.Entry`). */
export interface GossipEntry {
  readonly key: string;
  /** The value; `''` once deleted. */
  readonly value: string;
  /** The node's version counter when this entry last changed. */
  readonly version: number;
  /** Gossip-internal keys (Piko's own bookkeeping), hidden from the cluster state. */
  readonly internal: boolean;
  /** A tombstone: the key was removed and is kept so peers learn of the removal. */
  readonly deleted: boolean;
}

/** What the gossip layer knows of one node (Piko `gossip.NodeMetadata` plus its entries). */
export interface GossipNode {
  readonly id: string;
  /** The node's gossip address; `''` while this node binds no gossip port (single-node mode). */
  readonly addr: string;
  /** The highest entry version seen for the node. */
  readonly version: number;
  readonly left: boolean;
  readonly unreachable: boolean;
  /** When an unreachable or left node is forgotten, RFC 3339; {@link ZERO_TIME} when not set. */
  readonly expiry: string;
  readonly entries: readonly GossipEntry[];
}

/**
 * What the admin port's cluster and gossip status routes and the cluster metrics read. Every member is called
 * per request or scrape, on the event loop, and must answer from memory without blocking.
 */
export interface ClusterStatusSource {
  readonly localNodeId: string;
  /** Every node of the cluster state, the local one included (Piko `cluster.State.Nodes`). */
  nodes(): readonly Node[];
  /** Every node the gossip layer knows, with its entries. */
  gossipNodes(): readonly GossipNode[];
}

/**
 * The local node's gossip entries as Piko would publish them: `proxy_addr`, `admin_addr` and one
 * `endpoint:<id>` per endpoint with its listener count, each with the version at which it last changed, and a
 * tombstone (`deleted`, empty value) for an endpoint that has gone. It stands in for the gossip layer while a
 * node runs alone: {@link LocalGossipState.observe} compares the node with the entries and bumps the version for
 * each change it sees. Versions therefore count the changes observed at status requests and scrapes, not every
 * change in between; they only ever grow, as Piko's do.
 */
export class LocalGossipState {
  #version = 0;
  readonly #entries = new Map<string, GossipEntry>();

  /** The highest version given to an entry so far. */
  get version(): number {
    return this.#version;
  }

  /** Records the node's current addresses and endpoints as entries. */
  observe(node: Node): void {
    this.#set('proxy_addr', node.proxyAddr);
    this.#set('admin_addr', node.adminAddr);
    const live = new Set<string>();
    for (const [endpointId, listeners] of [...node.endpoints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const key = `endpoint:${endpointId}`;
      live.add(key);
      this.#set(key, String(listeners));
    }
    for (const entry of [...this.#entries.values()]) {
      if (entry.key.startsWith('endpoint:') && !entry.deleted && !live.has(entry.key)) {
        this.#entries.set(entry.key, { key: entry.key, value: '', version: ++this.#version, internal: false, deleted: true });
      }
    }
  }

  /** The entries sorted by version. */
  entries(): readonly GossipEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.version - b.version);
  }

  #set(key: string, value: string): void {
    const current = this.#entries.get(key);
    if (current !== undefined && !current.deleted && current.value === value) return;
    this.#entries.set(key, { key, value, version: ++this.#version, internal: false, deleted: false });
  }
}

/**
 * The status of a node that runs alone: the cluster is the local node from the membership port, and the gossip
 * view is that node's {@link LocalGossipState}. The gossip membership will replace it with the real gossip state
 * when clustering lands; the JSON shapes of the status routes do not change.
 */
export class SingleNodeClusterStatus implements ClusterStatusSource {
  readonly #gossip = new LocalGossipState();

  constructor(
    private readonly membership: Pick<ClusterMembership, 'localNodeId' | 'snapshot'>,
    /** The gossip address to report; no gossip port is bound yet, so `''` by default. */
    private readonly gossipAddr = '',
  ) {}

  get localNodeId(): string {
    return this.membership.localNodeId;
  }

  nodes(): readonly Node[] {
    return this.membership.snapshot().nodes;
  }

  gossipNodes(): readonly GossipNode[] {
    const local = this.membership.snapshot().local;
    if (local === undefined) return [];
    this.#gossip.observe(local);
    return [
      {
        id: local.id,
        addr: this.gossipAddr,
        version: this.#gossip.version,
        left: false,
        unreachable: false,
        expiry: ZERO_TIME,
        entries: this.#gossip.entries(),
      },
    ];
  }
}
