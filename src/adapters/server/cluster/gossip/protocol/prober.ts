/** A probe this node runs: a direct ping, then (after `directDeadline`) ping-reqs through helpers. */
export interface PendingProbe {
  readonly seq: number;
  readonly targetId: string;
  readonly targetIncarnation: number;
  readonly directDeadline: number;
  readonly deadline: number;
  /** Set once the helpers were asked. */
  indirect: boolean;
  expectedNacks: number;
  nacks: number;
}

/** An indirect probe this node runs for another member (it answered a ping-req). */
export interface Relay {
  readonly seq: number;
  readonly requesterAddr: string;
  readonly requestSeq: number;
  readonly deadline: number;
}

/** What fell due at one tick. */
export interface ProbeDue {
  /** Probes whose direct wait ended: ask helpers now. */
  readonly toIndirect: PendingProbe[];
  /** Probes that got no ack at all: the target is suspected. */
  readonly failed: PendingProbe[];
  /** Relays whose target did not answer: send the requester a nack. */
  readonly expiredRelays: Relay[];
}

/**
 * Bookkeeping of probes, relays and Lifeguard's local health score. Sequence numbers are a 32-bit counter that
 * starts at a random point, so acks of an earlier process life do not match. Mutated only by the gossip machine.
 */
export class Prober {
  #seq: number;
  readonly #probes = new Map<number, PendingProbe>();
  readonly #relays = new Map<number, Relay>();
  readonly #maxRelays: number;
  readonly #maxHealth: number;
  #health = 0;

  constructor(options: { random: () => number; maxRelays: number; maxHealth: number }) {
    this.#seq = Math.floor(options.random() * 0x100000000) >>> 0;
    this.#maxRelays = options.maxRelays;
    this.#maxHealth = options.maxHealth;
  }

  /**
   * Lifeguard's local health multiplier score, 0 (healthy) to `maxHealth`: probe timings stretch by
   * `1 + health`. It rises when we had to refute a suspicion of ourselves or our probes failed without the
   * helpers' nacks (a sign that we, not the target, are slow), and falls with each successful probe.
   */
  get health(): number {
    return this.#health;
  }

  /** The timing stretch factor, `1 + health`. */
  get scale(): number {
    return 1 + this.#health;
  }

  adjustHealth(delta: number): void {
    this.#health = Math.max(0, Math.min(this.#maxHealth, this.#health + delta));
  }

  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#seq;
  }

  /** Registers a probe of `targetId` and returns it (its seq is the one to send in the ping). */
  start(targetId: string, targetIncarnation: number, now: number, timeoutMs: number, intervalMs: number): PendingProbe {
    const probe: PendingProbe = {
      seq: this.nextSeq(),
      targetId,
      targetIncarnation,
      directDeadline: now + timeoutMs,
      deadline: now + intervalMs,
      indirect: false,
      expectedNacks: 0,
      nacks: 0,
    };
    this.#probes.set(probe.seq, probe);
    return probe;
  }

  /** True while a probe of `targetId` is pending. */
  isProbing(targetId: string): boolean {
    for (const p of this.#probes.values()) if (p.targetId === targetId) return true;
    return false;
  }

  /** Resolves an ack: the probe it answers, or the relay whose requester must get it. */
  ack(seq: number): { probe?: PendingProbe; relay?: Relay } {
    const probe = this.#probes.get(seq);
    if (probe !== undefined) {
      this.#probes.delete(seq);
      return { probe };
    }
    const relay = this.#relays.get(seq);
    if (relay !== undefined) {
      this.#relays.delete(seq);
      return { relay };
    }
    return {};
  }

  /** Counts a helper's nack for a pending probe. */
  nack(seq: number): void {
    const probe = this.#probes.get(seq);
    if (probe !== undefined) probe.nacks += 1;
  }

  /** Starts relaying for a requester; false (ignored) when the relay table is full. */
  addRelay(requesterAddr: string, requestSeq: number, now: number, timeoutMs: number): Relay | undefined {
    if (this.#relays.size >= this.#maxRelays) return undefined;
    const relay: Relay = { seq: this.nextSeq(), requesterAddr, requestSeq, deadline: now + timeoutMs };
    this.#relays.set(relay.seq, relay);
    return relay;
  }

  /** Collects what fell due at `now` (failed probes and expired relays are removed). */
  due(now: number): ProbeDue {
    const toIndirect: PendingProbe[] = [];
    const failed: PendingProbe[] = [];
    const expiredRelays: Relay[] = [];
    for (const p of this.#probes.values()) {
      if (now >= p.deadline) failed.push(p);
      else if (!p.indirect && now >= p.directDeadline) toIndirect.push(p);
    }
    for (const p of failed) this.#probes.delete(p.seq);
    for (const r of this.#relays.values()) if (now >= r.deadline) expiredRelays.push(r);
    for (const r of expiredRelays) this.#relays.delete(r.seq);
    return { toIndirect, failed, expiredRelays };
  }

  /** The earliest probe or relay deadline, or +∞. */
  nextDeadline(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const p of this.#probes.values()) at = Math.min(at, p.indirect ? p.deadline : p.directDeadline);
    for (const r of this.#relays.values()) at = Math.min(at, r.deadline);
    return at;
  }

  /** Forgets every pending probe (after leaving). */
  clear(): void {
    this.#probes.clear();
    this.#relays.clear();
  }
}
