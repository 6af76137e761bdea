import { AntiEntropy } from './anti-entropy.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { Claims } from './claims.js';
import { decodeMessage, type Hmac } from './codec.js';
import { resolveGossipConfig, type GossipConfig } from './config.js';
import { validateLocalEntry } from './digest.js';
import { GossipCodecError } from './errors.js';
import type { GossipEvent, MachineOutput, MemberView } from './events.js';
import { MemberTable, viewOf } from './member-table.js';
import type { MemberUpdate, Message, StateEntry } from './messages.js';
import { LocalState } from './node-state.js';
import { Outbox } from './outbox.js';
import { Prober } from './prober.js';
import { Probing } from './probing.js';
import { StateReplication } from './state-replication.js';
import { expectedConfirmations } from './suspicion.js';

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
  readonly #out: Outbox;
  readonly #sync: StateReplication;
  readonly #probing: Probing;
  readonly #antiEntropy: AntiEntropy;
  readonly #claims: Claims;
  #leftAt: number | undefined;
  #nextProbeAt: number;
  #nextGossipAt: number;
  #nextPushPullAt: number;
  #nextDeadProbeAt: number;
  #lastTickAt: number | undefined;
  /** Until then no suspicion or death is declared: we just resumed from a stall and owe the socket a read. */
  #graceUntil = Number.NEGATIVE_INFINITY;
  #events: GossipEvent[] = [];

  constructor(options: GossipMachineOptions) {
    this.config = resolveGossipConfig(options.config);
    this.id = options.nodeId;
    this.addr = options.addr;
    this.#random = options.random;
    this.#hmac = options.hmac;
    // A random first epoch: a restarted process (same ID, no memory) almost never reuses its last life's
    // epoch, and a peer that holds a larger one tells it, so it moves above.
    this.#local = new LocalState(1 + Math.floor(this.#random() * 0x7ffffffe));
    const c = this.config;
    this.#table = new MemberTable(this.id, {
      memberExpiryMs: c.memberExpiryMs,
      tombstoneTtlMs: c.tombstoneTtlMs,
      maxTombstones: c.maxTombstones,
      maxMembers: c.maxMembers,
      random: this.#random,
      suspicionOptions: () => ({
        k: expectedConfirmations(c.suspicionConfirmations, this.#table.liveCount + 1),
        minMs: c.suspicionMinMs,
        maxMs: c.suspicionMaxMs,
      }),
    });
    this.#prober = new Prober({ random: this.#random, maxRelays: c.maxRelays, maxHealth: c.maxLocalHealth });
    this.#out = new Outbox({
      config: c,
      hmac: this.#hmac,
      queue: this.#queue,
      sender: () => this.#claims.sender(),
      store: (id) => this.#sync.store(id),
      liveCount: () => this.#table.liveCount + 1,
    });
    this.#probing = new Probing({
      selfId: this.id,
      config: c,
      table: this.#table,
      prober: this.#prober,
      outbox: this.#out,
      suspect: (m, now) =>
        this.#claims.apply({ id: m.id, incarnation: m.incarnation, status: 'suspect', from: this.id }, now, 'local'),
    });
    this.#sync = new StateReplication({
      selfId: this.id,
      config: c,
      table: this.#table,
      local: this.#local,
      queue: this.#queue,
      outbox: this.#out,
      emit: (event) => this.#events.push(event),
      laterOwnState: (epoch, version) => this.#claims.aboutSelf(this.#claims.incarnation, 'alive', epoch, version),
    });
    this.#claims = new Claims({
      selfId: this.id,
      selfAddr: this.addr,
      config: c,
      table: this.#table,
      queue: this.#queue,
      outbox: this.#out,
      prober: this.#prober,
      local: this.#local,
      sync: this.#sync,
      incarnation: options.incarnation ?? 0,
      emit: (event) => this.#events.push(event),
      leaving: () => this.leaving,
    });
    const now = options.now;
    this.#antiEntropy = new AntiEntropy(
      {
        selfId: this.id,
        selfAddr: this.addr,
        config: c,
        table: this.#table,
        outbox: this.#out,
        sync: this.#sync,
        random: this.#random,
        selfEntry: () => this.#claims.selfEntry(),
        applyClaim: (claim, at) => this.#claims.apply(claim, at, 'digest'),
        claimAboutSelf: (e) => this.#claims.aboutSelf(e.incarnation, e.status, e.stateEpoch, e.stateVersion),
        leaving: () => this.leaving,
      },
      now,
    );
    this.#nextProbeAt = now + this.#random() * c.probeIntervalMs;
    this.#nextGossipAt = now + this.#random() * c.gossipIntervalMs;
    this.#nextPushPullAt = now + c.pushPullIntervalMs * (0.5 + this.#random() / 2);
    this.#nextDeadProbeAt = now + c.deadProbeIntervalMs;
  }

  /** The current incarnation (raised only by refutations). */
  get incarnation(): number {
    return this.#claims.incarnation;
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
    for (const m of this.#table.suspects()) {
      if (m.suspicion !== undefined) at = Math.min(at, Math.max(m.suspicion.deadline, this.#graceUntil));
    }
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
    return this.#sync.store(id)?.live();
  }

  /** A node's entries with versions, deletions included (for status pages). */
  stateEntries(id: string): readonly StateEntry[] | undefined {
    return this.#sync.store(id)?.entryList();
  }

  /**
   * Contacts the seeds (gossip addresses, own address skipped): a full digest exchange, so the reply brings the
   * whole membership and each member's state is pulled next. Seeds are remembered for periodic re-syncs that
   * heal long partitions. Call again to retry; a `sync-received` event tells that a seed answered.
   */
  join(seeds: readonly string[], now: number): MachineOutput {
    this.#begin();
    this.#antiEntropy.join(seeds);
    void now;
    return this.#flush();
  }

  /**
   * Sets a key of the local state (undefined deletes it). The change is stamped with the next version and
   * spread by the next gossip rounds. Throws a RangeError for a key or value too long for a datagram.
   */
  setLocal(key: string, value: string | undefined, now: number): MachineOutput {
    this.#begin();
    validateLocalEntry(key, value, this.#claims.sender(), this.#hmac !== undefined, this.config.maxPacketSize);
    this.#sync.setLocal(key, value);
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
    const update: MemberUpdate = { status: 'left', id: this.id, incarnation: this.#claims.incarnation };
    this.#queue.enqueueMember(update);
    for (const m of this.#table.live()) this.#out.send(m.addr, { type: 'gossip' }, [update], [], 'none');
    return this.#flush();
  }

  /** Runs whatever fell due by `now`: probe deadlines, suspicions, probe and gossip rounds, anti-entropy. */
  tick(now: number): MachineOutput {
    this.#begin();
    const c = this.config;
    // Ticks come at least every gossip interval. A longer gap means this process stalled (GC, a blocked event
    // loop): the acks and refutations it missed may be waiting in its socket, so it judges nobody until it
    // has had a probe timeout to read them, and counts the stall against its own health (Lifeguard).
    if (this.#lastTickAt !== undefined && now - this.#lastTickAt > c.gossipIntervalMs + c.probeTimeoutMs) {
      this.#graceUntil = now + c.probeTimeoutMs;
      this.#prober.adjustHealth(1);
    }
    this.#lastTickAt = now;
    const judging = now >= this.#graceUntil;
    if (!this.leaving) {
      this.#probing.deadlines(now, judging);
      const expired = judging ? [...this.#table.suspects()].filter((m) => now >= (m.suspicion?.deadline ?? Infinity)) : [];
      for (const m of expired) this.#claims.apply({ id: m.id, incarnation: m.incarnation, status: 'dead' }, now, 'local');
      if (now >= this.#nextProbeAt) {
        this.#probing.round(now);
        this.#nextProbeAt = now + c.probeIntervalMs * this.#prober.scale;
      }
      if (now >= this.#nextDeadProbeAt) {
        this.#probing.probeDead();
        this.#nextDeadProbeAt = now + c.deadProbeIntervalMs;
      }
      if (now >= this.#nextPushPullAt) {
        this.#antiEntropy.round();
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
      this.#claims.aboutSelf(s.incarnation, 'alive', s.stateEpoch, s.stateVersion);
      return this.#flush();
    }
    this.#claims.observeSender(s, from, now);
    for (const u of msg.updates) {
      this.#claims.apply({ ...u, addr: u.status === 'alive' ? u.addr : undefined }, now, 'update');
    }
    for (const chunk of msg.chunks) this.#sync.applyChunk(chunk);
    this.#handleBody(msg, from, now);
    return this.#flush();
  }

  #handleBody(msg: Message, from: string, now: number): void {
    switch (msg.type) {
      case 'ping':
        this.#probing.onPing(msg, from);
        return;
      case 'ack':
        this.#probing.onAck(msg.seq);
        return;
      case 'nack':
        this.#probing.onNack(msg.seq);
        return;
      case 'ping-req':
        if (!this.leaving) this.#probing.onPingReq(msg, from, now);
        return;
      case 'sync':
        this.#events.push({ type: 'sync-received', from, nodeId: msg.sender.id });
        this.#antiEntropy.onSync(msg, from, now);
        return;
      case 'state-request':
        this.#sync.answer(msg.wants, from);
        return;
      case 'gossip':
        return;
    }
  }

  #gossipRound(now: number): void {
    for (const m of this.#table.reap(now)) {
      this.#queue.forget(m.id);
      this.#events.push({ type: 'member-removed', id: m.id, status: m.status });
    }
    if (this.#queue.size > 0) {
      for (const m of this.#table.random(this.config.gossipFanout, (x) => x.status === 'alive' || x.status === 'suspect')) {
        this.#out.send(m.addr, { type: 'gossip' }, [], [], 'counted');
      }
    }
    this.#sync.round(now, !this.leaving);
  }

  #selfView(): MemberView {
    const e = this.#claims.selfEntry();
    return { ...e, local: true, removeAt: undefined };
  }

  #begin(): void {
    this.#out.drain();
    this.#events = [];
  }

  #flush(): MachineOutput {
    const out = { send: this.#out.drain(), events: this.#events };
    this.#events = [];
    return out;
  }
}
