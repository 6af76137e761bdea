import type { GossipConfig } from './config.js';
import { claimOf, type Member, type MemberTable } from './member-table.js';
import type { PingMessage, PingReqMessage } from './messages.js';
import type { Outbox } from './outbox.js';
import type { Prober } from './prober.js';

/** What probing needs from the machine. */
export interface ProbingContext {
  readonly selfId: string;
  readonly config: GossipConfig;
  readonly table: MemberTable;
  readonly prober: Prober;
  readonly outbox: Outbox;
  /** A probe of `m` (at the incarnation it was probed at) got no answer at all: suspect it. */
  readonly suspect: (m: Member, now: number) => void;
}

/**
 * SWIM's failure detector with Lifeguard's refinements: every period a direct ping to the ring successor and to
 * the next round-robin member; without an ack by `probeTimeoutMs`, ping-reqs through `indirectChecks` helpers
 * (which nack when the target stays silent); without any ack by the end of the period, a suspicion. Timings
 * stretch with the local health score. Driven by the gossip machine.
 */
export class Probing {
  readonly #ctx: ProbingContext;

  constructor(ctx: ProbingContext) {
    this.#ctx = ctx;
  }

  /** Starts this period's probes. */
  round(now: number): void {
    const { table, prober, config, outbox, selfId } = this.#ctx;
    const targets: Member[] = [];
    const ring = table.ringSuccessor();
    if (ring !== undefined) targets.push(ring);
    const rr = table.nextRoundRobin(new Set(targets.map((m) => m.id)));
    if (rr !== undefined) targets.push(rr);
    const scale = prober.scale;
    for (const m of targets) {
      if (prober.isProbing(m.id)) continue;
      const p = prober.start(m.id, m.incarnation, now, config.probeTimeoutMs * scale, config.probeIntervalMs * scale);
      // Lifeguard's buddy system: a suspect learns of its suspicion from our ping and can refute at once.
      const priority = m.status === 'suspect' ? [claimOf(selfId, m)] : [];
      outbox.send(m.addr, { type: 'ping', seq: p.seq, targetId: m.id }, priority);
    }
  }

  /**
   * Handles probe and relay deadlines that passed: indirect probes, suspicions, nacks. Without `judging` (just
   * after a stall of our own) a failed probe is dropped instead of raising a suspicion.
   */
  deadlines(now: number, judging = true): void {
    const { table, prober, config, outbox } = this.#ctx;
    const due = prober.due(now);
    for (const p of due.toIndirect) {
      const target = table.get(p.targetId);
      p.indirect = true;
      if (target === undefined) continue;
      const helpers = table.random(config.indirectChecks, (m) => m.status === 'alive' && m.id !== p.targetId);
      p.expectedNacks = helpers.length;
      for (const h of helpers) {
        outbox.send(h.addr, { type: 'ping-req', seq: p.seq, targetId: target.id, targetAddr: target.addr });
      }
    }
    for (const p of due.failed) {
      if (!judging) continue;
      // Missing nacks mean the helpers did not hear from us either: we may be the slow one (Lifeguard).
      prober.adjustHealth(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
      const m = table.get(p.targetId);
      if (m === undefined || m.incarnation !== p.targetIncarnation) continue;
      if (m.status === 'alive' || m.status === 'suspect') this.#ctx.suspect(m, now);
    }
    for (const r of due.expiredRelays) outbox.send(r.requesterAddr, { type: 'nack', seq: r.requestSeq });
  }

  /** Pings one unreachable member with its death notice: if it is in fact alive, it refutes and comes back. */
  probeDead(): void {
    const { table, prober, outbox, selfId } = this.#ctx;
    const [m] = table.random(1, (x) => x.status === 'dead');
    if (m !== undefined) outbox.send(m.addr, { type: 'ping', seq: prober.nextSeq(), targetId: m.id }, [claimOf(selfId, m)]);
  }

  /** Acks a ping meant for us, telling a sender we do not hold as alive what we hold instead. */
  onPing(msg: PingMessage, from: string): void {
    const { selfId, table, outbox } = this.#ctx;
    if (msg.targetId !== selfId) return;
    const m = table.get(msg.sender.id);
    const priority = m !== undefined && m.status !== 'alive' ? [claimOf(selfId, m)] : [];
    outbox.send(from, { type: 'ack', seq: msg.seq }, priority);
  }

  /** Completes our probe, or relays an indirect probe's ack to its requester. */
  onAck(seq: number): void {
    const { probe, relay } = this.#ctx.prober.ack(seq);
    if (probe !== undefined) this.#ctx.prober.adjustHealth(-1);
    if (relay !== undefined) this.#ctx.outbox.send(relay.requesterAddr, { type: 'ack', seq: relay.requestSeq });
  }

  onNack(seq: number): void {
    this.#ctx.prober.nack(seq);
  }

  /** Probes a target for a requester; the nack comes before the requester's deadline. */
  onPingReq(msg: PingReqMessage, from: string, now: number): void {
    const { selfId, config, prober, outbox } = this.#ctx;
    if (msg.targetId === selfId) {
      outbox.send(from, { type: 'ack', seq: msg.seq });
      return;
    }
    const window = (config.probeIntervalMs - config.probeTimeoutMs) * 0.8;
    const relay = prober.addRelay(from, msg.seq, now, window);
    if (relay !== undefined) outbox.send(msg.targetAddr, { type: 'ping', seq: relay.seq, targetId: msg.targetId });
  }
}
