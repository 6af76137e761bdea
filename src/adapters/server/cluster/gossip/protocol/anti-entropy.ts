import type { GossipConfig } from './config.js';
import { buildDigests, digestEntryOf } from './digest.js';
import type { Member, MemberClaim, MemberTable } from './member-table.js';
import type { DigestEntry, SyncMessage } from './messages.js';
import type { ChunkWant, Outbox } from './outbox.js';
import type { StateReplication } from './state-replication.js';

/** What anti-entropy needs from the machine. */
export interface AntiEntropyContext {
  readonly selfId: string;
  readonly selfAddr: string;
  readonly config: GossipConfig;
  readonly table: MemberTable;
  readonly outbox: Outbox;
  readonly sync: StateReplication;
  readonly random: () => number;
  /** The local node's own digest entry. */
  selfEntry(): DigestEntry;
  /** Applies a digest entry about another node as a membership claim. */
  applyClaim(claim: MemberClaim, now: number): void;
  /** Applies a digest entry about the local node (refutation, new life). */
  claimAboutSelf(entry: DigestEntry): void;
  leaving(): boolean;
}

/**
 * Full digest exchange (push-pull): on join with the seeds, then every `pushPullIntervalMs` with a random member
 * (every `seedSyncEvery`-th time, or when alone, with a random seed). A digest lists every known node with its
 * membership and state position, split over as many datagrams as needed; the receiver learns members from it,
 * pushes state the sender lacks and marks its own replicas behind. Driven by the gossip machine.
 */
export class AntiEntropy {
  readonly #ctx: AntiEntropyContext;
  readonly #seeds: string[] = [];
  #rounds = 0;
  #tokens: number;
  #tokensAt: number;

  constructor(ctx: AntiEntropyContext, now: number) {
    this.#ctx = ctx;
    this.#tokens = ctx.config.syncAnswersPerSecond;
    this.#tokensAt = now;
  }

  /** Remembers the seeds (own address excluded) and sends each a full digest asking for theirs. */
  join(seeds: readonly string[]): void {
    for (const s of seeds) if (s !== this.#ctx.selfAddr && !this.#seeds.includes(s)) this.#seeds.push(s);
    if (this.#ctx.leaving()) return;
    for (const s of seeds) if (s !== this.#ctx.selfAddr) this.send(s, true);
  }

  /** One periodic exchange. */
  round(): void {
    const { table, config, random } = this.#ctx;
    this.#rounds += 1;
    const seeds = this.#seeds;
    const useSeed = seeds.length > 0 && (table.liveCount === 0 || this.#rounds % config.seedSyncEvery === 0);
    const to = useSeed
      ? seeds[Math.floor(random() * seeds.length)]
      : table.random(1, (m) => m.status === 'alive' || m.status === 'suspect')[0]?.addr;
    if (to !== undefined) this.send(to, true);
  }

  /** Sends our full digest to `to`. */
  send(to: string, request: boolean): void {
    const { table, outbox } = this.#ctx;
    const entries: DigestEntry[] = [this.#ctx.selfEntry(), ...[...table.all()].map(digestEntryOf)];
    const room = outbox.room({ type: 'sync', request, digest: [] });
    for (const digest of buildDigests(entries, room)) outbox.send(to, { type: 'sync', request, digest });
  }

  /**
   * Handles a digest: every entry is a membership claim; state we hold further is pushed back and state we lack
   * is pulled later. A small request can ask for several large datagrams, so answers (our digest, pushes) are
   * rate-limited: a flood of requests with forged sources cannot use this node as an amplifier.
   */
  onSync(msg: SyncMessage, from: string, now: number): void {
    const { selfId, table, sync, outbox, config } = this.#ctx;
    const answer = this.#takeToken(now);
    const wanted: ChunkWant[] = [];
    for (const e of msg.digest) {
      let member: Member | undefined;
      if (e.id === selfId) {
        this.#ctx.claimAboutSelf(e);
      } else {
        const from2 = e.status === 'suspect' ? msg.sender.id : undefined;
        this.#ctx.applyClaim({ id: e.id, incarnation: e.incarnation, status: e.status, addr: e.addr, from: from2 }, now);
        member = table.get(e.id);
        if (member === undefined || (member.status !== 'alive' && member.status !== 'suspect')) continue;
      }
      const want = sync.compare(e, member);
      if (want !== undefined) wanted.push(want);
    }
    if (!answer) return;
    outbox.sendChunks(from, wanted, config.maxPushPerSync);
    if (msg.request && !this.#ctx.leaving()) this.send(from, false);
  }

  /** Token bucket: `syncAnswersPerSecond` per second, in bursts of as many. */
  #takeToken(now: number): boolean {
    const rate = this.#ctx.config.syncAnswersPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
