import type { EndpointId } from '../endpoint/endpoint-id.js';
import type { ClusterSnapshot } from '../cluster/cluster-snapshot.js';
import type { Node } from '../node/node.js';
import type { Upstream } from '../upstream/upstream.js';
import { RoundRobin } from './round-robin.js';

/** Where a request for an endpoint goes: a local upstream, or a peer node that has one (one hop at most). */
export type Route<U extends Upstream> =
  | { readonly kind: 'local'; readonly upstream: U }
  | { readonly kind: 'remote'; readonly node: Node };

/** What a lookup needs besides the local table. */
export interface SelectOptions<U extends Upstream> {
  /**
   * False when the request was already forwarded by another node: a forwarded request may only go to a
   * local upstream, so there is never a second hop.
   */
  readonly allowRemote: boolean;
  /** The cluster as last known; only its active remote nodes holding the endpoint are candidates. */
  readonly cluster?: ClusterSnapshot;
  /** Upstream IDs and node IDs already tried for this request. */
  readonly exclude?: ReadonlySet<string>;
  /** False for a local upstream that must not take new traffic (it is draining). */
  readonly isUsable?: (upstream: U) => boolean;
  /** A number in [0, 1) used to pick a remote node; injected so the rule stays pure. */
  readonly random?: () => number;
}

/**
 * The routing rules of a node. Local upstreams always win and are taken round-robin. Without one, a remote
 * active node holding the endpoint is chosen at random weighted by its listener count (Piko takes the first
 * in map order, unweighted: its §15 #12). Mutated only on the event loop.
 */
export class RoutingTable<U extends Upstream> {
  private readonly local = new Map<EndpointId, RoundRobin<U>>();

  /** Adds a local upstream. Returns false (and changes nothing) if it was already present. */
  addLocal(upstream: U): boolean {
    let rr = this.local.get(upstream.endpointId);
    if (rr === undefined) {
      rr = new RoundRobin<U>();
      this.local.set(upstream.endpointId, rr);
    }
    return rr.add(upstream);
  }

  /** Removes a local upstream. Idempotent: returns false if it was not present. */
  removeLocal(upstream: Upstream): boolean {
    const rr = this.local.get(upstream.endpointId);
    if (rr === undefined || !rr.remove(upstream.id)) return false;
    if (rr.size === 0) this.local.delete(upstream.endpointId);
    return true;
  }

  /** Number of local upstreams for `endpointId`. */
  localCount(endpointId: EndpointId): number {
    return this.local.get(endpointId)?.size ?? 0;
  }

  /** Local listener count per endpoint, for gossip and the status API. */
  localEndpoints(): Map<EndpointId, number> {
    const out = new Map<EndpointId, number>();
    for (const [id, rr] of this.local) out.set(id, rr.size);
    return out;
  }

  /** All local upstreams. */
  localUpstreams(): U[] {
    const out: U[] = [];
    for (const rr of this.local.values()) out.push(...rr.list());
    return out;
  }

  /** Chooses where a request for `endpointId` goes, or undefined when nothing can serve it. */
  select(endpointId: EndpointId, options: SelectOptions<U>): Route<U> | undefined {
    const { exclude, isUsable } = options;
    const rr = this.local.get(endpointId);
    if (rr !== undefined) {
      const upstream =
        exclude === undefined && isUsable === undefined
          ? rr.next()
          : rr.next((u) => (exclude?.has(u.id) ?? false) || (isUsable !== undefined && !isUsable(u)));
      if (upstream !== undefined) return { kind: 'local', upstream };
    }
    if (!options.allowRemote || options.cluster === undefined) return undefined;

    const candidates = options.cluster.remoteCandidates(endpointId);
    let total = 0;
    let last: Node | undefined;
    for (const c of candidates) {
      if (exclude?.has(c.node.id)) continue;
      total += c.weight;
      last = c.node;
    }
    if (last === undefined) return undefined;
    let point = (options.random?.() ?? 0) * total;
    for (const c of candidates) {
      if (exclude?.has(c.node.id)) continue;
      point -= c.weight;
      if (point < 0) return { kind: 'remote', node: c.node };
    }
    return { kind: 'remote', node: last };
  }
}
