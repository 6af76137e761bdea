import type { BroadcastQueue } from './broadcast-queue.js';
import { stateChunkSize } from './codec.js';
import type { GossipConfig } from './config.js';
import type { GossipEvent } from './events.js';
import type { Member, MemberTable } from './member-table.js';
import type { DigestEntry, Sender, StateChunk, StateWant } from './messages.js';
import type { LocalState, StateStore } from './node-state.js';
import type { ChunkWant, Outbox } from './outbox.js';

/** What state replication needs from the machine. */
export interface StateReplicationContext {
  readonly selfId: string;
  readonly config: GossipConfig;
  readonly table: MemberTable;
  readonly local: LocalState;
  readonly queue: BroadcastQueue;
  readonly outbox: Outbox;
  readonly emit: (event: GossipEvent) => void;
  /** Peers hold a later position of our own state stream: an earlier life of our ID. */
  readonly laterOwnState: (epoch: number, version: number) => void;
}

/** True when position (e1, v1) of a state stream is after (e2, v2). */
const after = (e1: number, v1: number, e2: number, v2: number): boolean => e1 > e2 || (e1 === e2 && v1 > v2);

/**
 * Replication of every node's versioned key/value state: chunks piggy-backed by the infection (each node relays
 * what advanced its replica), pulls from the owner while a replica is behind, pushes in answer to digests, and
 * the owner's compaction. Mutated only through the gossip machine's calls.
 */
export class StateReplication {
  readonly #ctx: StateReplicationContext;

  constructor(ctx: StateReplicationContext) {
    this.#ctx = ctx;
  }

  /** The state of `id`: the local node's own, or a live or departed member's replica. */
  store(id: string): StateStore | undefined {
    return id === this.#ctx.selfId ? this.#ctx.local : this.#ctx.table.get(id)?.state;
  }

  /** Sets a local key and queues the change for dissemination. */
  setLocal(key: string, value: string | undefined): void {
    const local = this.#ctx.local;
    const before = local.known;
    if (local.set(key, value)) this.#ctx.queue.enqueueState(this.#ctx.selfId, local.epoch, before);
  }

  /** Applies a received chunk; a replica that advanced is relayed onwards. */
  applyChunk(chunk: StateChunk): void {
    const { selfId, local, table, queue } = this.#ctx;
    if (chunk.nodeId === selfId) {
      if (after(chunk.epoch, chunk.to, local.epoch, local.known)) this.#ctx.laterOwnState(chunk.epoch, chunk.to);
      return;
    }
    const m = table.get(chunk.nodeId);
    if (m === undefined) return;
    const prevEpoch = m.state.epoch;
    const prevKnown = m.state.known;
    const changes = m.state.apply(chunk);
    if (changes === undefined) return;
    if (changes.length > 0) this.#ctx.emit({ type: 'state-changed', id: m.id, changes });
    if (m.state.epoch !== prevEpoch) queue.enqueueState(m.id, m.state.epoch, 0);
    else if (m.state.known > prevKnown) queue.enqueueState(m.id, m.state.epoch, prevKnown);
  }

  /**
   * Notes where a member's own datagram says its state stands. Returns false when that is before what we hold
   * (the sender is a later life of the ID than the state we have, and must be told so).
   */
  observe(m: Member, s: Sender): boolean {
    if (after(m.state.epoch, m.state.known, s.stateEpoch, s.stateVersion)) return false;
    m.state.advertise(s.stateEpoch, s.stateVersion);
    return true;
  }

  /**
   * Compares a digest entry with our copy: marks our replica behind (to pull) or returns what the digest's
   * sender lacks (to push). `member` is our record of the entry's node (undefined for the local node).
   */
  compare(e: DigestEntry, member: Member | undefined): ChunkWant | undefined {
    const store = member === undefined ? this.#ctx.local : member.state;
    if (member !== undefined && after(e.stateEpoch, e.stateVersion, store.epoch, store.known)) {
      member.state.advertise(e.stateEpoch, e.stateVersion);
      return undefined;
    }
    if (!after(store.epoch, store.known, e.stateEpoch, e.stateVersion)) return undefined;
    const newEpoch = store.epoch > e.stateEpoch;
    return { id: e.id, base: newEpoch ? 0 : e.stateVersion, newEpoch };
  }

  /** Answers a state request with what fits in one datagram. */
  answer(wants: readonly StateWant[], to: string): void {
    const chunks: StateChunk[] = [];
    let room = this.#ctx.outbox.room({ type: 'gossip' });
    for (const want of wants) {
      const store = this.store(want.nodeId);
      if (store === undefined || store.epoch < want.epoch) continue;
      const newer = store.epoch > want.epoch;
      const chunk = store.chunkAfter(want.nodeId, newer ? 0 : want.known, room, newer);
      if (chunk === undefined) continue;
      chunks.push(chunk);
      room -= stateChunkSize(chunk);
    }
    if (chunks.length > 0) this.#ctx.outbox.send(to, { type: 'gossip' }, [], chunks, 'none');
  }

  /**
   * One gossip round's state work: compacts the local state when it holds too many deletions, and pulls from
   * up to `maxPullsPerRound` alive members whose replica is behind (each at most every `pullRetryMs`).
   */
  round(now: number, pull: boolean): void {
    const { local, queue, table, config, outbox, selfId } = this.#ctx;
    const floorBefore = local.floor;
    if (local.compactIfNeeded(config.maxStateTombstones)) {
      queue.enqueueState(selfId, local.epoch, Math.max(floorBefore, local.floor));
    }
    if (!pull) return;
    const behind = table.random(
      config.maxPullsPerRound,
      (m) => m.status === 'alive' && m.state.behind && now - m.lastPullAt >= config.pullRetryMs,
    );
    for (const m of behind) {
      m.lastPullAt = now;
      const want = { nodeId: m.id, epoch: m.state.epoch, known: m.state.known };
      outbox.send(m.addr, { type: 'state-request', wants: [want] }, [], [], 'none');
    }
  }
}
