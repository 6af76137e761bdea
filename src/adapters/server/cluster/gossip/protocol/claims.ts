import type { BroadcastQueue } from './broadcast-queue.js';
import type { GossipConfig } from './config.js';
import { noticeEntry } from './digest.js';
import type { GossipEvent } from './events.js';
import { claimOf, viewOf, type ClaimOutcome, type MemberClaim, type MemberTable } from './member-table.js';
import type { DigestEntry, MemberStatus, Sender } from './messages.js';
import type { LocalState } from './node-state.js';
import type { Outbox } from './outbox.js';
import type { Prober } from './prober.js';
import type { StateReplication } from './state-replication.js';

const MAX_U32 = 0xffffffff;

/** Where a membership claim came from; it decides how a newly learned node is greeted. */
export type ClaimSource = 'sender' | 'update' | 'digest' | 'local';

/** What claim handling needs from the machine. */
export interface ClaimsContext {
  readonly selfId: string;
  readonly selfAddr: string;
  readonly config: GossipConfig;
  readonly table: MemberTable;
  readonly queue: BroadcastQueue;
  readonly outbox: Outbox;
  readonly prober: Prober;
  readonly local: LocalState;
  readonly sync: StateReplication;
  /** The first incarnation of this process. */
  readonly incarnation: number;
  emit(event: GossipEvent): void;
  leaving(): boolean;
}

/**
 * Membership claims, about other nodes and about this one. Claims about others go to the member table, and what
 * changed is reported and gossiped on; claims about this node are refuted by raising its incarnation or its
 * state epoch, which therefore live here. Also answers a sender whose view of a node is stale with a one-entry
 * digest, at most once per probe timeout per node. Driven by the gossip machine.
 */
export class Claims {
  readonly #ctx: ClaimsContext;
  readonly #noticeAt = new Map<string, number>();
  #incarnation: number;

  constructor(ctx: ClaimsContext) {
    this.#ctx = ctx;
    this.#incarnation = ctx.incarnation;
  }

  /** The current incarnation (raised only by refutations). */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** This node as the header of every datagram presents it. */
  sender(): Sender {
    const { selfId, selfAddr, local } = this.#ctx;
    return {
      id: selfId,
      incarnation: this.#incarnation,
      addr: selfAddr,
      stateEpoch: local.epoch,
      stateVersion: local.known,
    };
  }

  /** This node's own digest entry (status `left` once leaving). */
  selfEntry(): DigestEntry {
    const { selfId, selfAddr, local } = this.#ctx;
    return {
      id: selfId,
      addr: selfAddr,
      incarnation: this.#incarnation,
      status: this.#ctx.leaving() ? 'left' : 'alive',
      stateEpoch: local.epoch,
      stateVersion: local.known,
    };
  }

  /**
   * The header of a datagram from another node: it is alive at its incarnation. A stale view (we know a later
   * incarnation), or state behind what we hold, earns the sender a notice.
   */
  observeSender(s: Sender, from: string, now: number): void {
    const outcome = this.apply({ id: s.id, incarnation: s.incarnation, status: 'alive', addr: s.addr }, now, 'sender');
    if (outcome.kind === 'stale') {
      this.#notice(s.id, from, now);
      return;
    }
    const m = this.#ctx.table.get(s.id);
    if (m === undefined || m.incarnation !== s.incarnation || m.status !== 'alive') return;
    if (!this.#ctx.sync.observe(m, s)) this.#notice(s.id, from, now);
  }

  /**
   * A claim about the local node. A suspicion or death at our incarnation, or any claim of a later incarnation,
   * is refuted by raising the incarnation above it. A later state epoch, or a later version in our epoch, means
   * peers hold the state of an earlier life of this ID: the state epoch is renewed above it, so they drop it.
   */
  aboutSelf(incarnation: number, status: MemberStatus, epoch?: number, version?: number): void {
    const { leaving, local: l, queue, selfId, selfAddr } = this.#ctx;
    if (leaving()) return;
    const laterIncarnation = incarnation > this.#incarnation;
    const falseStatus = status !== 'alive' && incarnation >= this.#incarnation;
    const laterState = epoch !== undefined && (epoch > l.epoch || (epoch === l.epoch && (version ?? 0) > l.known));
    if (!laterIncarnation && !falseStatus && !laterState) return;
    if (laterIncarnation || falseStatus) {
      this.#incarnation = Math.min(MAX_U32, Math.max(this.#incarnation, incarnation) + 1);
      if (!laterIncarnation) this.#ctx.prober.adjustHealth(1);
      queue.enqueueMember({ status: 'alive', id: selfId, incarnation: this.#incarnation, addr: selfAddr });
    }
    if (laterState) {
      l.renew(Math.min(MAX_U32, Math.max(l.epoch, epoch) + 1));
      queue.enqueueState(selfId, l.epoch, 0);
    }
    this.#ctx.emit({
      type: 'refuted',
      incarnation: this.#incarnation,
      claim: status,
      newLife: laterIncarnation || laterState,
    });
  }

  /** Applies a claim about any node (about this one: {@link aboutSelf}); reports and gossips what changed. */
  apply(c: MemberClaim, now: number, source: ClaimSource): ClaimOutcome {
    const { selfId, table, queue, outbox } = this.#ctx;
    if (c.id === selfId) {
      this.aboutSelf(c.incarnation, c.status);
      return { kind: 'ignored' };
    }
    const outcome = table.apply(c, now);
    switch (outcome.kind) {
      case 'added':
        this.#ctx.emit({ type: 'member-added', member: viewOf(outcome.member) });
        // A node learned from a digest (typically: we just joined) may not know us yet; our header tells it.
        if (source === 'digest' && !this.#ctx.leaving()) outbox.send(outcome.member.addr, { type: 'gossip' }, [], [], 'none');
        else queue.enqueueMember(claimOf(selfId, outcome.member));
        break;
      case 'changed': {
        const m = outcome.member;
        if (outcome.previous !== m.status) this.#ctx.emit({ type: 'member-status', member: viewOf(m), previous: outcome.previous });
        const update = claimOf(selfId, m);
        queue.enqueueMember(update);
        if (m.status === 'suspect' && m.suspicion?.by === selfId) outbox.send(m.addr, { type: 'gossip' }, [update]);
        break;
      }
      case 'confirmed':
        queue.enqueueMember({ status: 'suspect', id: c.id, incarnation: c.incarnation, from: c.from ?? selfId });
        break;
      default:
        break;
    }
    return outcome;
  }

  /** Tells a node what we believe about it (a one-entry digest), so it refutes a claim it has outlived. */
  #notice(id: string, to: string, now: number): void {
    const last = this.#noticeAt.get(id) ?? Number.NEGATIVE_INFINITY;
    if (now - last < this.#ctx.config.probeTimeoutMs) return;
    if (this.#noticeAt.size >= 4096) this.#noticeAt.clear();
    this.#noticeAt.set(id, now);
    const entry = noticeEntry(this.#ctx.table, id, to);
    if (entry !== undefined) this.#ctx.outbox.send(to, { type: 'sync', request: false, digest: [entry] }, [], [], 'none');
  }
}
