import type { Clock } from '../../../../application/ports/clock.port.js';
import type { ClusterSnapshot } from '../../../../domain/cluster/cluster-snapshot.js';
import type { Node } from '../../../../domain/node/node.js';
import { ZERO_TIME, type ClusterStatusSource, type GossipEntry, type GossipNode } from '../../admin/cluster-status.js';
import type { MemberView } from './protocol/events.js';
import type { GossipView } from './udp-gossip-shell.js';

/** What {@link GossipClusterStatus} reads: the membership's snapshot and its gossip machine. */
export interface GossipStatusInput {
  readonly localNodeId: string;
  snapshot(): ClusterSnapshot;
  /** Undefined before the gossip socket is bound. */
  readonly gossip: GossipView | undefined;
}

/**
 * The admin port's status source for a node that gossips: the cluster nodes come from the membership's snapshot,
 * and the gossip nodes from the machine, in Piko's shapes (`/status/gossip/nodes`): every member the machine
 * knows (pending ones included), its address, highest entry version, `left` and `unreachable` flags, the wall
 * time at which a dead or left member will be removed, and its entries with deletions. Reads memory only.
 */
export class GossipClusterStatus implements ClusterStatusSource {
  constructor(
    private readonly input: GossipStatusInput,
    private readonly clock: Clock,
    /** Wall-clock milliseconds, to turn the machine's monotonic removal times into RFC 3339. */
    private readonly wallNow: () => number = Date.now,
  ) {}

  get localNodeId(): string {
    return this.input.localNodeId;
  }

  nodes(): readonly Node[] {
    return this.input.snapshot().nodes;
  }

  gossipNodes(): readonly GossipNode[] {
    const view = this.input.gossip;
    if (view === undefined) return [];
    return view.members().map((m) => this.#node(view, m));
  }

  #node(view: GossipView, m: MemberView): GossipNode {
    const entries: GossipEntry[] = (view.stateEntries(m.id) ?? []).map((e) => ({
      key: e.key,
      value: e.value ?? '',
      version: e.version,
      internal: false,
      deleted: e.value === undefined,
    }));
    let version = m.stateVersion;
    for (const e of entries) version = Math.max(version, e.version);
    return {
      id: m.id,
      addr: m.addr,
      version,
      left: m.status === 'left',
      unreachable: m.status === 'dead',
      expiry: m.removeAt === undefined ? ZERO_TIME : new Date(this.wallNow() + (m.removeAt - this.clock.now())).toISOString(),
      entries,
    };
  }
}
