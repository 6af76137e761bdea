import type { MemberView } from './events.js';
import { MEMBER_STATUS_CODE, type MemberStatus, type MemberUpdate } from './messages.js';
import { ReplicaState } from './node-state.js';
import { Suspicion } from './suspicion.js';

/** A remote member as this node sees it. Owned by the {@link MemberTable}; mutated only by the gossip machine. */
export interface Member {
  readonly id: string;
  addr: string;
  incarnation: number;
  status: MemberStatus;
  /** When the status last changed (injected clock). */
  statusSince: number;
  /** For dead and left members: when they are removed. */
  removeAt: number | undefined;
  /** For suspect members: the running suspicion. */
  suspicion: Suspicion | undefined;
  /** The member's state as replicated here. */
  readonly state: ReplicaState;
  /** Last state pull sent to it, and last notice sent to it about itself. */
  lastPullAt: number;
  lastNoticeAt: number;
}

/** A membership claim about a remote node, from an update, a digest entry or a datagram's sender. */
export interface MemberClaim {
  readonly id: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  /** The node's gossip address, when the claim carries one (needed to add a node). */
  readonly addr?: string | undefined;
  /** For a suspicion: who suspects. */
  readonly from?: string | undefined;
}

/** What applying a claim did. */
export type ClaimOutcome =
  /** A node seen for the first time (added alive). */
  | { readonly kind: 'added'; readonly member: Member }
  /** A known member moved to a newer incarnation or status. */
  | { readonly kind: 'changed'; readonly member: Member; readonly previous: MemberStatus }
  /** A new, independent suspector confirmed a running suspicion. */
  | { readonly kind: 'confirmed'; readonly member: Member }
  /** A departure of a node never seen here, remembered so that older claims cannot add it later. */
  | { readonly kind: 'tombstoned' }
  /** The claim is older than what is known (or equal but weaker): a first-party one deserves a notice. */
  | { readonly kind: 'stale' }
  /** Nothing to do (the same as what is known, or unusable). */
  | { readonly kind: 'ignored' };

/** What a removed node leaves behind: its last incarnation and status, until `expiresAt`. */
export interface Tombstone {
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly expiresAt: number;
}

/** Options the table needs to start suspicions and expire entries. */
export interface MemberTableOptions {
  readonly memberExpiryMs: number;
  readonly tombstoneTtlMs: number;
  readonly maxTombstones: number;
  /** Most members held; a new node beyond it is ignored (the table stays bounded whatever peers claim). */
  readonly maxMembers: number;
  readonly random: () => number;
  /** Suspicion parameters for a new suspicion, computed at the time it starts. */
  readonly suspicionOptions: () => { k: number; minMs: number; maxMs: number };
}

const rank = (s: MemberStatus): number => MEMBER_STATUS_CODE[s];
const isLive = (m: Member): boolean => m.status === 'alive' || m.status === 'suspect';

/** The update that states what this node believes about `m` (`selfId` names us when nobody else suspects). */
export function claimOf(selfId: string, m: Member): MemberUpdate {
  switch (m.status) {
    case 'alive':
      return { status: 'alive', id: m.id, incarnation: m.incarnation, addr: m.addr };
    case 'suspect':
      return { status: 'suspect', id: m.id, incarnation: m.incarnation, from: m.suspicion?.by ?? selfId };
    case 'dead':
    case 'left':
      return { status: m.status, id: m.id, incarnation: m.incarnation };
  }
}

/** A snapshot of `m` for callers outside the machine. */
export function viewOf(m: Member): MemberView {
  return {
    id: m.id,
    addr: m.addr,
    incarnation: m.incarnation,
    status: m.status,
    local: false,
    stateEpoch: m.state.epoch,
    stateVersion: m.state.known,
    removeAt: m.removeAt,
  };
}

/** Compares two (incarnation, status) pairs: SWIM precedence, a later status winning at equal incarnation. */
export function comparePrecedence(aInc: number, aStatus: MemberStatus, bInc: number, bStatus: MemberStatus): number {
  return aInc !== bInc ? aInc - bInc : rank(aStatus) - rank(bStatus);
}

/** 32-bit FNV-1a of a string's UTF-16 units: a stable, well-spread ring position for a node ID. */
export function ringHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The remote members, their precedence rules, the probe order (a ring plus a shuffled round-robin) and the
 * tombstones that keep removed nodes from coming back. The local node is not in the table.
 */
export class MemberTable {
  readonly #selfId: string;
  readonly #options: MemberTableOptions;
  readonly #members = new Map<string, Member>();
  readonly #tombstones = new Map<string, Tombstone>();
  #ring: string[] | undefined;
  /** Members that are suspect: the only ones with a running timer. */
  readonly #suspects = new Set<Member>();
  #liveCount = 0;
  #order: string[] = [];
  #orderIndex = 0;

  constructor(selfId: string, options: MemberTableOptions) {
    this.#selfId = selfId;
    this.#options = options;
  }

  get(id: string): Member | undefined {
    return this.#members.get(id);
  }

  tombstone(id: string): Tombstone | undefined {
    return this.#tombstones.get(id);
  }

  /** Every member, in insertion order. */
  all(): IterableIterator<Member> {
    return this.#members.values();
  }

  /** Members that are alive or suspect (probed, routed to, gossiped to). */
  live(): Member[] {
    return [...this.#members.values()].filter(isLive);
  }

  /** How many members are alive or suspect (kept up to date, no scan). */
  get liveCount(): number {
    return this.#liveCount;
  }

  /** The suspect members (each has a running suspicion). */
  suspects(): ReadonlySet<Member> {
    return this.#suspects;
  }

  get size(): number {
    return this.#members.size;
  }

  get tombstoneCount(): number {
    return this.#tombstones.size;
  }

  /** Applies a claim about a remote node (never the local one) at `now`. */
  apply(c: MemberClaim, now: number): ClaimOutcome {
    const m = this.#members.get(c.id);
    if (m === undefined) return this.#applyUnknown(c, now);
    if (c.status === 'suspect' && m.status === 'suspect' && c.incarnation === m.incarnation) {
      return c.from !== undefined && m.suspicion?.confirm(c.from) === true
        ? { kind: 'confirmed', member: m }
        : { kind: 'ignored' };
    }
    const cmp = comparePrecedence(c.incarnation, c.status, m.incarnation, m.status);
    if (cmp < 0) return { kind: 'stale' };
    if (cmp === 0) return { kind: 'ignored' };
    const previous = m.status;
    const wasLive = isLive(m);
    m.incarnation = c.incarnation;
    m.status = c.status;
    m.statusSince = now;
    if (c.status === 'alive' && c.addr !== undefined) m.addr = c.addr;
    m.suspicion =
      c.status === 'suspect'
        ? new Suspicion(c.incarnation, now, c.from ?? this.#selfId, this.#options.suspicionOptions())
        : undefined;
    m.removeAt = c.status === 'dead' || c.status === 'left' ? now + this.#options.memberExpiryMs : undefined;
    if (wasLive !== isLive(m)) {
      this.#ring = undefined;
      this.#liveCount += isLive(m) ? 1 : -1;
    }
    if (m.status === 'suspect') this.#suspects.add(m);
    else this.#suspects.delete(m);
    return { kind: 'changed', member: m, previous };
  }

  #applyUnknown(c: MemberClaim, now: number): ClaimOutcome {
    const t = this.#tombstones.get(c.id);
    if (t !== undefined && comparePrecedence(c.incarnation, c.status, t.incarnation, t.status) <= 0) {
      return { kind: 'stale' };
    }
    if (c.status === 'dead' || c.status === 'left') {
      this.#setTombstone(c.id, { incarnation: c.incarnation, status: c.status, expiresAt: now + this.#options.tombstoneTtlMs });
      return { kind: 'tombstoned' };
    }
    if (c.addr === undefined || c.id === this.#selfId || this.#members.size >= this.#options.maxMembers) {
      return { kind: 'ignored' };
    }
    this.#tombstones.delete(c.id);
    const member: Member = {
      id: c.id,
      addr: c.addr,
      incarnation: c.incarnation,
      status: 'alive',
      statusSince: now,
      removeAt: undefined,
      suspicion: undefined,
      state: new ReplicaState(),
      lastPullAt: Number.NEGATIVE_INFINITY,
      lastNoticeAt: Number.NEGATIVE_INFINITY,
    };
    this.#members.set(c.id, member);
    this.#liveCount += 1;
    this.#ring = undefined;
    const at = Math.floor(this.#options.random() * (this.#order.length + 1));
    this.#order.splice(at, 0, c.id);
    return { kind: 'added', member };
  }

  #setTombstone(id: string, t: Tombstone): void {
    this.#tombstones.delete(id);
    this.#tombstones.set(id, t);
    while (this.#tombstones.size > this.#options.maxTombstones) {
      const oldest = this.#tombstones.keys().next().value as string;
      this.#tombstones.delete(oldest);
    }
  }

  /** Removes dead and left members whose expiry passed (leaving tombstones) and forgets expired tombstones. */
  reap(now: number): Member[] {
    const removed: Member[] = [];
    for (const m of this.#members.values()) {
      if (m.removeAt === undefined || m.removeAt > now) continue;
      removed.push(m);
    }
    for (const m of removed) {
      this.#members.delete(m.id);
      this.#setTombstone(m.id, { incarnation: m.incarnation, status: m.status, expiresAt: now + this.#options.tombstoneTtlMs });
    }
    if (removed.length > 0) this.#order = this.#order.filter((id) => this.#members.has(id));
    for (const [id, t] of this.#tombstones) if (t.expiresAt <= now) this.#tombstones.delete(id);
    return removed;
  }

  /**
   * The live member after the local node on the ring of live members ordered by {@link ringHash}: each member
   * is probed by its ring predecessor every period, so a failure is first noticed within one period whatever
   * the cluster size (the K-ring idea of Rapid, with K = 1).
   */
  ringSuccessor(): Member | undefined {
    if (this.#ring === undefined) {
      const ids = [this.#selfId, ...this.live().map((m) => m.id)];
      this.#ring = ids.sort((a, b) => ringHash(a) - ringHash(b) || (a < b ? -1 : a > b ? 1 : 0));
    }
    const ring = this.#ring;
    if (ring.length < 2) return undefined;
    const at = ring.indexOf(this.#selfId);
    return this.#members.get(ring[(at + 1) % ring.length] as string);
  }

  /**
   * The next live member in a shuffled round-robin order that is not in `exclude` (reshuffled after each pass,
   * SWIM's probe order), or undefined when there is none.
   */
  nextRoundRobin(exclude: ReadonlySet<string>): Member | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.#orderIndex < this.#order.length) {
        const m = this.#members.get(this.#order[this.#orderIndex++] as string);
        if (m !== undefined && isLive(m) && !exclude.has(m.id)) return m;
      }
      this.#order = shuffle([...this.#members.keys()], this.#options.random);
      this.#orderIndex = 0;
    }
    return undefined;
  }

  /** Up to `count` distinct random members matching `filter`. */
  random(count: number, filter: (m: Member) => boolean): Member[] {
    const candidates = [...this.#members.values()].filter(filter);
    const n = Math.min(count, candidates.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.#options.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j] as Member, candidates[i] as Member];
    }
    return candidates.slice(0, n);
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
