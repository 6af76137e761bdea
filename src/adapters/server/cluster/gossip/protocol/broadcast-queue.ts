import { memberUpdateSize, stateChunkSize } from './codec.js';
import type { MemberUpdate, StateChunk } from './messages.js';

/** What the machine answers when the queue asks for a chunk of one node's state. */
export type ChunkSupply =
  /** Send this chunk. */
  | { readonly chunk: StateChunk }
  /** Nothing fits in the room left this time; keep the item. */
  | { readonly chunk?: undefined; readonly drop?: false }
  /** Nothing left to send for that node (or it is gone): forget the item. */
  | { readonly chunk?: undefined; readonly drop: true };

interface MemberItem {
  readonly kind: 'member';
  readonly update: MemberUpdate;
  transmits: number;
  seq: number;
}

interface StateItem {
  readonly kind: 'state';
  readonly nodeId: string;
  epoch: number;
  base: number;
  transmits: number;
  seq: number;
}

type Item = MemberItem | StateItem;

/** What {@link BroadcastQueue.fill} chose for one datagram. */
export interface Piggyback {
  readonly updates: MemberUpdate[];
  readonly chunks: StateChunk[];
  /** Bytes they take. */
  readonly size: number;
}

const MAX_PER_MESSAGE = 0xff;

/**
 * Updates waiting to be piggy-backed (SWIM's infection-style dissemination). At most one item per node and kind:
 * a newer membership update replaces the older one, and state items merge to the lowest base. Each item is sent
 * up to a retransmit limit, the least-sent first, then dropped; so the queue is bounded by twice the number of
 * known nodes. Mutated only by the gossip machine.
 */
export class BroadcastQueue {
  readonly #items = new Map<string, Item>();
  #seq = 0;

  get size(): number {
    return this.#items.size;
  }

  /** Queues a membership update, replacing any queued update about the same node. */
  enqueueMember(update: MemberUpdate): void {
    this.#items.set(`m:${update.id}`, { kind: 'member', update, transmits: 0, seq: this.#seq++ });
  }

  /** The queued update about `id`, if any (for tests and diagnostics). */
  memberUpdate(id: string): MemberUpdate | undefined {
    const item = this.#items.get(`m:${id}`);
    return item?.kind === 'member' ? item.update : undefined;
  }

  /** Queues `nodeId`'s state after `base` in `epoch`, merged with any queued state of that node. */
  enqueueState(nodeId: string, epoch: number, base: number): void {
    const key = `s:${nodeId}`;
    const current = this.#items.get(key);
    if (current?.kind === 'state' && current.epoch === epoch) {
      current.base = Math.min(current.base, base);
      current.transmits = 0;
      current.seq = this.#seq++;
      return;
    }
    this.#items.set(key, { kind: 'state', nodeId, epoch, base, transmits: 0, seq: this.#seq++ });
  }

  /** Forgets everything queued about `id` (it was removed). */
  forget(id: string): void {
    this.#items.delete(`m:${id}`);
    this.#items.delete(`s:${id}`);
  }

  /**
   * Picks what fits in `budget` bytes: membership updates first, then state chunks, least-sent (then newest)
   * first. Each pick counts as one transmission; an item sent `limit` times is dropped (with an infinite limit,
   * picks are not counted at all). `skip` leaves out updates about nodes already in the datagram.
   */
  fill(
    budget: number,
    limit: number,
    chunkFor: (nodeId: string, epoch: number, base: number, budget: number) => ChunkSupply,
    skip: ReadonlySet<string> = new Set(),
  ): Piggyback {
    const updates: MemberUpdate[] = [];
    const chunks: StateChunk[] = [];
    let left = budget;
    const ordered = [...this.#items.entries()].sort(
      ([, a], [, b]) => a.transmits - b.transmits || b.seq - a.seq,
    );
    for (const [key, item] of ordered) {
      if (item.kind !== 'member' || updates.length >= MAX_PER_MESSAGE || skip.has(item.update.id)) continue;
      const size = memberUpdateSize(item.update);
      if (size > left) continue;
      left -= size;
      updates.push(item.update);
      this.#sent(key, item, limit);
    }
    for (const [key, item] of ordered) {
      if (item.kind !== 'state' || chunks.length >= MAX_PER_MESSAGE) continue;
      const supply = chunkFor(item.nodeId, item.epoch, item.base, left);
      if (supply.chunk === undefined) {
        if (supply.drop === true) this.#items.delete(key);
        continue;
      }
      left -= stateChunkSize(supply.chunk);
      chunks.push(supply.chunk);
      this.#sent(key, item, limit);
    }
    return { updates, chunks, size: budget - left };
  }

  #sent(key: string, item: Item, limit: number): void {
    if (limit === Number.POSITIVE_INFINITY) return;
    item.transmits += 1;
    if (item.transmits >= limit) this.#items.delete(key);
  }
}
