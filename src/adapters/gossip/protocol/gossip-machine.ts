import { BroadcastQueue, type ChunkSupply } from './broadcast-queue.js';
import { bodySize, decodeMessage, encodeMessage, envelopeSize, memberUpdateSize, stateChunkSize, type Hmac } from './codec.js';
import { resolveGossipConfig, type GossipConfig } from './config.js';
import { buildDigests, digestEntryOf, validateLocalEntry } from './digest.js';
import { GossipCodecError } from './errors.js';
import type { GossipEvent, MachineOutput, MemberView, Outgoing } from './events.js';
import { MemberTable, type ClaimOutcome, type Member, type MemberClaim } from './member-table.js';
import type {
  DigestEntry,
  MemberStatus,
  MemberUpdate,
  Message,
  MessageBody,
  Sender,
  StateChunk,
  StateEntry,
} from './messages.js';
import { LocalState, type StateStore } from './node-state.js';
import { Prober } from './prober.js';
import { expectedConfirmations } from './suspicion.js';

const MAX_U32 = 0xffffffff;

/** How a {@link GossipMachine} is set up. Time and randomness are injected: the machine reads no clock. */
export interface GossipMachineOptions {
  /** This node's ID (1 to 128 UTF-8 bytes). */
  readonly nodeId: string;
  /** This node's advertised gossip address, as peers will send to it. */
  readonly addr: string;
  /**
   * The first incarnation (u32, default 0). A process that restarts under a fixed node ID should pass a value
   * that grows across its lives, e.g. seconds since 1970; the machine also raises it by itself when peers
   * still know an earlier life.
   */
  readonly incarnation?: number;
  /** Uniform random numbers in [0, 1): peer choice, probe order, jitter. Seeded in tests. */
  readonly random: () => number;
  /** The injected clock's time at construction (monotonic milliseconds). */
  readonly now: number;
  readonly config?: Partial<GossipConfig>;
  /** The MAC of the cluster's secret key: with it every datagram is tagged and untagged ones are dropped. */
  readonly hmac?: Hmac | undefined;
}

/**
 * The SWIM-style membership and state-replication protocol as a pure state machine (see
 * `docs/gossip-protocol.md`). It performs no I/O: each call returns the datagrams to send and the events that
 * happened. The shell calls {@link tick} at {@link nextDeadline}, passes every received datagram to
 * {@link receive}, and sends what comes back. All state is owned here and mutated only by these calls.
 */
export class GossipMachine {
  readonly id: string;
  readonly addr: string;
  readonly config: GossipConfig;
  readonly #random: () => number;
  readonly #hmac: Hmac | undefined;
  readonly #table: MemberTable;
  readonly #queue = new BroadcastQueue();
  readonly #prober: Prober;
  readonly #local: LocalState;
  readonly #noticeAt = new Map<string, number>();
  #incarnation: number;
  #seeds: string[] = [];
  #leftAt: number | undefined;
  #nextProbeAt: number;
  #nextGossipAt: number;
  #nextPushPullAt: number;
  #nextDeadProbeAt: number;
  #pushPulls = 0;
  #send: Outgoing[] = [];
  #events: GossipEvent[] = [];

  constructor(options: GossipMachineOptions) {
    this.config = resolveGossipConfig(options.config);
    this.id = options.nodeId;
    this.addr = options.addr;
    this.#random = options.random;
    this.#hmac = options.hmac;
    this.#incarnation = options.incarnation ?? 0;
    // A random first epoch: a restarted process (same ID, no memory) almost never reuses its last life's
    // epoch, and a peer that holds a larger one tells it, so it moves above.
    this.#local = new LocalState(1 + Math.floor(this.#random() * 0x7ffffffe));
    const c = this.config;
    this.#table = new MemberTable(this.id, {
      memberExpiryMs: c.memberExpiryMs,
      tombstoneTtlMs: c.tombstoneTtlMs,
      maxTombstones: c.maxTombstones,
      random: this.#random,
      suspicionOptions: () => ({
        k: expectedConfirmations(c.suspicionConfirmations, this.#table.live().length + 1),
        minMs: c.suspicionMinMs,
        maxMs: c.suspicionMaxMs,
      }),
    });
    this.#prober = new Prober({ random: this.#random, maxRelays: c.maxRelays, maxHealth: c.maxLocalHealth });
    const now = options.now;
    this.#nextProbeAt = now + this.#random() * c.probeIntervalMs;
    this.#nextGossipAt = now + this.#random() * c.gossipIntervalMs;
    this.#nextPushPullAt = now + c.pushPullIntervalMs * (0.5 + this.#random() / 2);
    this.#nextDeadProbeAt = now + c.deadProbeIntervalMs;
  }

  /** The current incarnation (raised only by refutations). */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** Lifeguard's local health score (0 = healthy); probe timings stretch by `1 + localHealth`. */
  get localHealth(): number {
    return this.#prober.health;
  }

  /** True once {@link leave} was called. */
  get leaving(): boolean {
    return this.#leftAt !== undefined;
  }

  /** True once the departure has been spread enough (or `leaveTimeoutMs` passed): the shell may close. */
  leaveSettled(now: number): boolean {
    if (this.#leftAt === undefined) return false;
    return now >= this.#leftAt + this.config.leaveTimeoutMs || this.#queue.memberUpdate(this.id) === undefined;
  }

  /** When {@link tick} must next be called (injected clock). */
  nextDeadline(): number {
    let at = this.#nextGossipAt;
    if (this.leaving) return at;
    at = Math.min(at, this.#nextProbeAt, this.#nextPushPullAt, this.#nextDeadProbeAt, this.#prober.nextDeadline());
    for (const m of this.#table.all()) if (m.suspicion !== undefined) at = Math.min(at, m.suspicion.deadline);
    return at;
  }

  /** Every known node, the local one first. */
  members(): MemberView[] {
    return [this.#selfView(), ...[...this.#table.all()].map(viewOf)];
  }

  /** One node by ID (the local one included). */
  member(id: string): MemberView | undefined {
    if (id === this.id) return this.#selfView();
    const m = this.#table.get(id);
    return m === undefined ? undefined : viewOf(m);
  }

  /** A node's live state (key → value), or undefined for an unknown node. */
  state(id: string): ReadonlyMap<string, string> | undefined {
    return this.#store(id)?.live();
  }

  /** A node's entries with versions, deletions included (for status pages). */
  stateEntries(id: string): readonly StateEntry[] | undefined {
    return this.#store(id)?.entryList();
  }

  /**
   * Contacts the seeds (gossip addresses, own address skipped): a full digest exchange, so the reply brings the
   * whole membership and each member's state is pulled next. Seeds are remembered for periodic re-syncs that
   * heal long partitions. Call again to retry; a `sync-received` event tells that a seed answered.
   */
  join(seeds: readonly string[], now: number): MachineOutput {
    this.#begin();
    for (const s of seeds) if (s !== this.addr && !this.#seeds.includes(s)) this.#seeds.push(s);
    if (!this.leaving) for (const s of seeds) if (s !== this.addr) this.#sendDigest(s, true, now);
    return this.#flush();
  }

  /**
   * Sets a key of the local state (undefined deletes it). The change is stamped with the next version and
   * spread by the next gossip rounds. Throws a RangeError for a key or value too long for a datagram.
   */
  setLocal(key: string, value: string | undefined, now: number): MachineOutput {
    this.#begin();
    validateLocalEntry(key, value, this.#senderInfo(), this.#hmac !== undefined, this.config.maxPacketSize);
    const before = this.#local.known;
    if (this.#local.set(key, value)) this.#queue.enqueueState(this.id, this.#local.epoch, before);
    void now;
    return this.#flush();
  }

  /**
   * Leaves gracefully: the departure (status `left` at the current incarnation) goes at once to every live
   * member and into the gossip queue; probing stops. Peers stop routing here on receipt and keep a tombstone,
   * so the node is never brought back by old gossip. Keep ticking until {@link leaveSettled}.
   */
  leave(now: number): MachineOutput {
    this.#begin();
    if (this.#leftAt !== undefined) return this.#flush();
    this.#leftAt = now;
    this.#prober.clear();
    const update: MemberUpdate = { status: 'left', id: this.id, incarnation: this.#incarnation };
    this.#queue.enqueueMember(update);
    for (const m of this.#table.live()) this.#packet(m.addr, { type: 'gossip' }, [update], [], 'none');
    return this.#flush();
  }

  /** Runs whatever fell due by `now`: probe deadlines, suspicions, probe and gossip rounds, anti-entropy. */
  tick(now: number): MachineOutput {
    this.#begin();
    const c = this.config;
    if (!this.leaving) {
      this.#runProbeDeadlines(now);
      for (const m of [...this.#table.all()]) {
        if (m.suspicion !== undefined && now >= m.suspicion.deadline) {
          this.#applyClaim({ id: m.id, incarnation: m.incarnation, status: 'dead' }, now, 'local');
        }
      }
      if (now >= this.#nextProbeAt) {
        this.#probeRound(now);
        this.#nextProbeAt = now + c.probeIntervalMs * this.#prober.scale;
      }
      if (now >= this.#nextDeadProbeAt) {
        this.#probeDead();
        this.#nextDeadProbeAt = now + c.deadProbeIntervalMs;
      }
      if (now >= this.#nextPushPullAt) {
        this.#pushPull(now);
        this.#nextPushPullAt = now + c.pushPullIntervalMs;
      }
    }
    if (now >= this.#nextGossipAt) {
      this.#gossipRound(now);
      this.#nextGossipAt = now + c.gossipIntervalMs;
    }
    return this.#flush();
  }

  /** Handles one datagram from `from` (the source address). Malformed or unauthenticated ones are dropped. */
  receive(from: string, bytes: Uint8Array, now: number): MachineOutput {
    this.#begin();
    let msg: Message;
    try {
      msg = decodeMessage(bytes, { maxPacketSize: this.config.maxPacketSize, hmac: this.#hmac });
    } catch (err) {
      if (!(err instanceof GossipCodecError)) throw err;
      this.#events.push({ type: 'message-rejected', from, reason: err.reason });
      return this.#flush();
    }
    const s = msg.sender;
    if (s.id === this.id) {
      this.#claimAboutSelf(s.incarnation, 'alive', s.stateEpoch, s.stateVersion);
      return this.#flush();
    }
    this.#observeSender(s, from, now);
    for (const u of msg.updates) {
      this.#applyClaim({ ...u, addr: u.status === 'alive' ? u.addr : undefined }, now, 'update');
    }
    for (const chunk of msg.chunks) this.#applyChunk(chunk);
    this.#handleBody(msg, from, now);
    return this.#flush();
  }

  #handleBody(msg: Message, from: string, now: number): void {
    switch (msg.type) {
      case 'ping': {
        if (msg.targetId !== this.id) return;
        const m = this.#table.get(msg.sender.id);
        const priority = m !== undefined && m.status !== 'alive' ? [this.#claimAbout(m)] : [];
        this.#packet(from, { type: 'ack', seq: msg.seq }, priority);
        return;
      }
      case 'ack': {
        const { probe, relay } = this.#prober.ack(msg.seq);
        if (probe !== undefined) this.#prober.adjustHealth(-1);
        if (relay !== undefined) this.#packet(relay.requesterAddr, { type: 'ack', seq: relay.requestSeq });
        return;
      }
      case 'nack':
        this.#prober.nack(msg.seq);
        return;
      case 'ping-req': {
        if (this.leaving) return;
        if (msg.targetId === this.id) {
          this.#packet(from, { type: 'ack', seq: msg.seq });
          return;
        }
        const window = (this.config.probeIntervalMs - this.config.probeTimeoutMs) * 0.8;
        const relay = this.#prober.addRelay(from, msg.seq, now, window);
        if (relay !== undefined) this.#packet(msg.targetAddr, { type: 'ping', seq: relay.seq, targetId: msg.targetId });
        return;
      }
      case 'sync':
        this.#events.push({ type: 'sync-received', from, nodeId: msg.sender.id });
        this.#handleDigest(msg.digest, msg.sender.id, from, now);
        if (msg.request && !this.leaving) this.#sendDigest(from, false, now);
        return;
      case 'state-request': {
        const chunks: StateChunk[] = [];
        let room = this.#room({ type: 'gossip' });
        for (const want of msg.wants) {
          const store = this.#store(want.nodeId);
          if (store === undefined || store.epoch < want.epoch) continue;
          const newer = store.epoch > want.epoch;
          const chunk = store.chunkAfter(want.nodeId, newer ? 0 : want.known, room, newer);
          if (chunk === undefined) continue;
          chunks.push(chunk);
          room -= stateChunkSize(chunk);
        }
        if (chunks.length > 0) this.#packet(from, { type: 'gossip' }, [], chunks, 'none');
        return;
      }
      case 'gossip':
        return;
    }
  }

  #handleDigest(digest: readonly DigestEntry[], senderId: string, from: string, now: number): void {
    const push: Array<{ id: string; base: number; newEpoch: boolean }> = [];
    for (const e of digest) {
      if (e.id === this.id) {
        this.#claimAboutSelf(e.incarnation, e.status, e.stateEpoch, e.stateVersion);
        const l = this.#local;
        if (e.stateEpoch < l.epoch || (e.stateEpoch === l.epoch && e.stateVersion < l.known)) {
          push.push({ id: this.id, base: e.stateEpoch < l.epoch ? 0 : e.stateVersion, newEpoch: e.stateEpoch < l.epoch });
        }
        continue;
      }
      const from2 = e.status === 'suspect' ? senderId : undefined;
      this.#applyClaim({ id: e.id, incarnation: e.incarnation, status: e.status, addr: e.addr, from: from2 }, now, 'digest');
      const m = this.#table.get(e.id);
      if (m === undefined || (m.status !== 'alive' && m.status !== 'suspect')) continue;
      const st = m.state;
      if (e.stateEpoch > st.epoch || (e.stateEpoch === st.epoch && e.stateVersion > st.known)) {
        st.advertise(e.stateEpoch, e.stateVersion);
      } else if (st.epoch > e.stateEpoch || st.known > e.stateVersion) {
        push.push({ id: m.id, base: st.epoch > e.stateEpoch ? 0 : e.stateVersion, newEpoch: st.epoch > e.stateEpoch });
      }
    }
    this.#pushChunks(from, push);
  }

  /** Sends state the peer lacks, packed into at most `maxPushPerSync` datagrams. */
  #pushChunks(to: string, wanted: Array<{ id: string; base: number; newEpoch: boolean }>): void {
    let packets = 0;
    let i = 0;
    while (i < wanted.length && packets < this.config.maxPushPerSync) {
      const chunks: StateChunk[] = [];
      let room = this.#room({ type: 'gossip' });
      for (; i < wanted.length; i++) {
        const w = wanted[i] as { id: string; base: number; newEpoch: boolean };
        const chunk = this.#store(w.id)?.chunkAfter(w.id, w.base, room, w.newEpoch);
        if (chunk === undefined) {
          if (chunks.length === 0) continue;
          break;
        }
        chunks.push(chunk);
        room -= stateChunkSize(chunk);
      }
      if (chunks.length === 0) break;
      this.#packet(to, { type: 'gossip' }, [], chunks, 'none');
      packets += 1;
    }
  }

  #observeSender(s: Sender, from: string, now: number): void {
    const outcome = this.#applyClaim({ id: s.id, incarnation: s.incarnation, status: 'alive', addr: s.addr }, now, 'sender');
    if (outcome.kind === 'stale') {
      this.#notice(s.id, from, now);
      return;
    }
    const m = this.#table.get(s.id);
    if (m === undefined || m.incarnation !== s.incarnation || m.status !== 'alive') return;
    const st = m.state;
    if (s.stateEpoch < st.epoch || (s.stateEpoch === st.epoch && s.stateVersion < st.known)) {
      this.#notice(s.id, from, now);
    } else {
      st.advertise(s.stateEpoch, s.stateVersion);
    }
  }

  /** Tells a node what we believe about it (a one-entry digest), so it refutes a claim it has outlived. */
  #notice(id: string, to: string, now: number): void {
    const last = this.#noticeAt.get(id) ?? Number.NEGATIVE_INFINITY;
    if (now - last < this.config.probeTimeoutMs) return;
    if (this.#noticeAt.size >= 4096) this.#noticeAt.clear();
    this.#noticeAt.set(id, now);
    const m = this.#table.get(id);
    const t = this.#table.tombstone(id);
    const entry: DigestEntry | undefined =
      m !== undefined
        ? digestEntryOf(m)
        : t !== undefined
          ? { id, addr: to, incarnation: t.incarnation, status: t.status, stateEpoch: 0, stateVersion: 0 }
          : undefined;
    if (entry !== undefined) this.#packet(to, { type: 'sync', request: false, digest: [entry] }, [], [], 'none');
  }

  #applyChunk(chunk: StateChunk): void {
    if (chunk.nodeId === this.id) {
      const l = this.#local;
      if (chunk.epoch > l.epoch || (chunk.epoch === l.epoch && chunk.to > l.known)) {
        this.#claimAboutSelf(this.#incarnation, 'alive', chunk.epoch, chunk.to);
      }
      return;
    }
    const m = this.#table.get(chunk.nodeId);
    if (m === undefined) return;
    const prevEpoch = m.state.epoch;
    const prevKnown = m.state.known;
    const changes = m.state.apply(chunk);
    if (changes === undefined) return;
    if (changes.length > 0) this.#events.push({ type: 'state-changed', id: m.id, changes });
    if (m.state.epoch !== prevEpoch) this.#queue.enqueueState(m.id, m.state.epoch, 0);
    else if (m.state.known > prevKnown) this.#queue.enqueueState(m.id, m.state.epoch, prevKnown);
  }

  /**
   * A claim about the local node. A suspicion or death at our incarnation, or any claim of a later incarnation,
   * is refuted by raising the incarnation above it. A later state epoch, or a later version in our epoch, means
   * peers hold the state of an earlier life of this ID: the state epoch is renewed above it, so they drop it.
   */
  #claimAboutSelf(incarnation: number, status: MemberStatus, epoch?: number, version?: number): void {
    if (this.leaving) return;
    const l = this.#local;
    const laterIncarnation = incarnation > this.#incarnation;
    const falseStatus = status !== 'alive' && incarnation >= this.#incarnation;
    const laterState = epoch !== undefined && (epoch > l.epoch || (epoch === l.epoch && (version ?? 0) > l.known));
    if (!laterIncarnation && !falseStatus && !laterState) return;
    if (laterIncarnation || falseStatus) {
      this.#incarnation = Math.min(MAX_U32, Math.max(this.#incarnation, incarnation) + 1);
      if (!laterIncarnation) this.#prober.adjustHealth(1);
      this.#queue.enqueueMember({ status: 'alive', id: this.id, incarnation: this.#incarnation, addr: this.addr });
    }
    if (laterState) {
      l.renew(Math.min(MAX_U32, Math.max(l.epoch, epoch) + 1));
      this.#queue.enqueueState(this.id, l.epoch, 0);
    }
    this.#events.push({
      type: 'refuted',
      incarnation: this.#incarnation,
      claim: status,
      newLife: laterIncarnation || laterState,
    });
  }

  #applyClaim(c: MemberClaim, now: number, source: 'sender' | 'update' | 'digest' | 'local'): ClaimOutcome {
    if (c.id === this.id) {
      this.#claimAboutSelf(c.incarnation, c.status);
      return { kind: 'ignored' };
    }
    const outcome = this.#table.apply(c, now);
    switch (outcome.kind) {
      case 'added':
        this.#events.push({ type: 'member-added', member: viewOf(outcome.member) });
        // A node learned from a digest (typically: we just joined) may not know us yet; our header tells it.
        if (source === 'digest' && !this.leaving) this.#packet(outcome.member.addr, { type: 'gossip' }, [], [], 'none');
        else this.#queue.enqueueMember(this.#claimAbout(outcome.member));
        break;
      case 'changed': {
        const m = outcome.member;
        if (outcome.previous !== m.status) this.#events.push({ type: 'member-status', member: viewOf(m), previous: outcome.previous });
        const update = this.#claimAbout(m);
        this.#queue.enqueueMember(update);
        if (m.status === 'suspect' && m.suspicion?.by === this.id) this.#packet(m.addr, { type: 'gossip' }, [update]);
        break;
      }
      case 'confirmed':
        this.#queue.enqueueMember({ status: 'suspect', id: c.id, incarnation: c.incarnation, from: c.from ?? this.id });
        break;
      default:
        break;
    }
    return outcome;
  }

  /** The update that states what we believe about `m`. */
  #claimAbout(m: Member): MemberUpdate {
    switch (m.status) {
      case 'alive':
        return { status: 'alive', id: m.id, incarnation: m.incarnation, addr: m.addr };
      case 'suspect':
        return { status: 'suspect', id: m.id, incarnation: m.incarnation, from: m.suspicion?.by ?? this.id };
      case 'dead':
      case 'left':
        return { status: m.status, id: m.id, incarnation: m.incarnation };
    }
  }

  #probeRound(now: number): void {
    const targets: Member[] = [];
    const ring = this.#table.ringSuccessor();
    if (ring !== undefined) targets.push(ring);
    const rr = this.#table.nextRoundRobin(new Set(targets.map((m) => m.id)));
    if (rr !== undefined) targets.push(rr);
    const c = this.config;
    const scale = this.#prober.scale;
    for (const m of targets) {
      if (this.#prober.isProbing(m.id)) continue;
      const p = this.#prober.start(m.id, m.incarnation, now, c.probeTimeoutMs * scale, c.probeIntervalMs * scale);
      const priority = m.status === 'suspect' ? [this.#claimAbout(m)] : [];
      this.#packet(m.addr, { type: 'ping', seq: p.seq, targetId: m.id }, priority);
    }
  }

  #runProbeDeadlines(now: number): void {
    const due = this.#prober.due(now);
    for (const p of due.toIndirect) {
      const target = this.#table.get(p.targetId);
      p.indirect = true;
      if (target === undefined) continue;
      const helpers = this.#table.random(this.config.indirectChecks, (m) => m.status === 'alive' && m.id !== p.targetId);
      p.expectedNacks = helpers.length;
      for (const h of helpers) {
        this.#packet(h.addr, { type: 'ping-req', seq: p.seq, targetId: target.id, targetAddr: target.addr });
      }
    }
    for (const p of due.failed) {
      this.#prober.adjustHealth(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
      const m = this.#table.get(p.targetId);
      if (m === undefined || m.incarnation !== p.targetIncarnation) continue;
      if (m.status === 'alive' || m.status === 'suspect') {
        this.#applyClaim({ id: m.id, incarnation: m.incarnation, status: 'suspect', from: this.id }, now, 'local');
      }
    }
    for (const r of due.expiredRelays) this.#packet(r.requesterAddr, { type: 'nack', seq: r.requestSeq });
  }

  /** Pings one unreachable member with its death notice: if it is in fact alive, it refutes and comes back. */
  #probeDead(): void {
    const [m] = this.#table.random(1, (x) => x.status === 'dead');
    if (m !== undefined) this.#packet(m.addr, { type: 'ping', seq: this.#prober.nextSeq(), targetId: m.id }, [this.#claimAbout(m)]);
  }

  #pushPull(now: number): void {
    this.#pushPulls += 1;
    const seeds = this.#seeds;
    const live = this.#table.live();
    const useSeed = seeds.length > 0 && (live.length === 0 || this.#pushPulls % this.config.seedSyncEvery === 0);
    const to = useSeed
      ? seeds[Math.floor(this.#random() * seeds.length)]
      : this.#table.random(1, (m) => m.status === 'alive' || m.status === 'suspect')[0]?.addr;
    if (to !== undefined) this.#sendDigest(to, true, now);
  }

  #gossipRound(now: number): void {
    for (const m of this.#table.reap(now)) {
      this.#queue.forget(m.id);
      this.#events.push({ type: 'member-removed', id: m.id, status: m.status });
    }
    const floorBefore = this.#local.floor;
    if (this.#local.compactIfNeeded(this.config.maxStateTombstones)) {
      this.#queue.enqueueState(this.id, this.#local.epoch, Math.max(floorBefore, this.#local.floor));
    }
    if (this.#queue.size > 0) {
      for (const m of this.#table.random(this.config.gossipFanout, (x) => x.status === 'alive' || x.status === 'suspect')) {
        this.#packet(m.addr, { type: 'gossip' }, [], [], 'counted');
      }
    }
    if (this.leaving) return;
    const behind = this.#table.random(
      this.config.maxPullsPerRound,
      (m) => m.status === 'alive' && m.state.behind && now - m.lastPullAt >= this.config.pullRetryMs,
    );
    for (const m of behind) {
      m.lastPullAt = now;
      const want = { nodeId: m.id, epoch: m.state.epoch, known: m.state.known };
      this.#packet(m.addr, { type: 'state-request', wants: [want] }, [], [], 'none');
    }
  }

  #sendDigest(to: string, request: boolean, now: number): void {
    void now;
    const entries: DigestEntry[] = [this.#selfEntry(), ...[...this.#table.all()].map(digestEntryOf)];
    const room = this.#room({ type: 'sync', request, digest: [] });
    for (const digest of buildDigests(entries, room)) this.#packet(to, { type: 'sync', request, digest });
  }

  /** Bytes left for piggy-back in a datagram with this body. */
  #room(body: MessageBody): number {
    return this.config.maxPacketSize - envelopeSize(this.#senderInfo(), this.#hmac !== undefined) - bodySize(body);
  }

  /**
   * Builds and queues one datagram. `piggyback` says whether queued updates fill the room left: `counted` (a
   * gossip round: each pick counts towards the retransmit limit, so the infection reaches random members),
   * `free` (a probe, ack or reply: they ride along without using up the limit, since these datagrams go to the
   * same few ring neighbours again and again) or `none`.
   */
  #packet(
    to: string,
    body: MessageBody,
    priority: MemberUpdate[] = [],
    chunks: StateChunk[] = [],
    piggyback: 'counted' | 'free' | 'none' = 'free',
  ): void {
    let room = this.#room(body);
    for (const u of priority) room -= memberUpdateSize(u);
    for (const c of chunks) room -= stateChunkSize(c);
    const updates = [...priority];
    const allChunks = [...chunks];
    if (piggyback !== 'none' && room > 0) {
      const live = this.#table.live().length + 1;
      const limit = this.config.retransmitMult * Math.ceil(Math.log10(live + 1));
      const pb = this.#queue.fill(
        room,
        piggyback === 'counted' ? limit : Number.POSITIVE_INFINITY,
        (id, epoch, base, budget) => this.#supply(id, epoch, base, budget),
        new Set(priority.map((u) => u.id)),
      );
      updates.push(...pb.updates);
      allChunks.push(...pb.chunks);
    }
    const msg = { ...body, sender: this.#senderInfo(), updates, chunks: allChunks } as Message;
    this.#send.push({ to, bytes: encodeMessage(msg, { maxPacketSize: this.config.maxPacketSize, hmac: this.#hmac }) });
  }

  #supply(id: string, epoch: number, base: number, budget: number): ChunkSupply {
    const store = this.#store(id);
    if (store === undefined) return { drop: true };
    const from = store.epoch === epoch ? base : 0;
    if (from >= store.known) return { drop: true };
    const chunk = store.chunkAfter(id, from, budget);
    return chunk === undefined ? {} : { chunk };
  }

  #store(id: string): StateStore | undefined {
    return id === this.id ? this.#local : this.#table.get(id)?.state;
  }

  #senderInfo(): Sender {
    return {
      id: this.id,
      incarnation: this.#incarnation,
      addr: this.addr,
      stateEpoch: this.#local.epoch,
      stateVersion: this.#local.known,
    };
  }

  #selfEntry(): DigestEntry {
    return {
      id: this.id,
      addr: this.addr,
      incarnation: this.#incarnation,
      status: this.leaving ? 'left' : 'alive',
      stateEpoch: this.#local.epoch,
      stateVersion: this.#local.known,
    };
  }

  #selfView(): MemberView {
    const e = this.#selfEntry();
    return { ...e, local: true, removeAt: undefined };
  }

  #begin(): void {
    this.#send = [];
    this.#events = [];
  }

  #flush(): MachineOutput {
    const out = { send: this.#send, events: this.#events };
    this.#send = [];
    this.#events = [];
    return out;
  }
}

function viewOf(m: Member): MemberView {
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
