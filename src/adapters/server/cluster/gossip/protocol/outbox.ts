import type { BroadcastQueue, ChunkSupply } from './broadcast-queue.js';
import { bodySize, encodeMessage, envelopeSize, memberUpdateSize, stateChunkSize, type Hmac } from './codec.js';
import type { GossipConfig } from './config.js';
import type { Outgoing } from './events.js';
import type { MemberUpdate, Message, MessageBody, Sender, StateChunk } from './messages.js';
import type { StateStore } from './node-state.js';

/**
 * How queued updates ride along in a datagram: `counted` (a gossip round: each pick counts towards the
 * retransmit limit, so the infection reaches random members), `free` (a probe, ack or reply: they ride along
 * without using up the limit, since these go to the same few ring neighbours again and again) or `none`.
 */
export type PiggybackMode = 'counted' | 'free' | 'none';

/** What the outbox needs from the machine. */
export interface OutboxContext {
  readonly config: GossipConfig;
  readonly hmac: Hmac | undefined;
  readonly queue: BroadcastQueue;
  /** The local node's sender block as of now (incarnation and state position change). */
  sender(): Sender;
  /** The state of node `id`, local or replicated. */
  store(id: string): StateStore | undefined;
  /** Live members, the local node included (sets the retransmit limit). */
  liveCount(): number;
}

/** One node's state to send from `base` (`newEpoch`: the peer is on an older epoch, send even if empty). */
export interface ChunkWant {
  readonly id: string;
  readonly base: number;
  readonly newEpoch: boolean;
}

/**
 * Builds the datagrams of one machine call: the body, priority updates and chunks first, then queued updates
 * in the room left, always within `maxPacketSize`. Collects them until {@link drain}. Owned by the machine.
 */
export class Outbox {
  readonly #ctx: OutboxContext;
  #sent: Outgoing[] = [];

  constructor(ctx: OutboxContext) {
    this.#ctx = ctx;
  }

  /** Bytes left for piggy-back in a datagram with this body. */
  room(body: MessageBody): number {
    const { config, hmac } = this.#ctx;
    return config.maxPacketSize - envelopeSize(this.#ctx.sender(), hmac !== undefined) - bodySize(body);
  }

  /** Builds and queues one datagram to `to`. */
  send(
    to: string,
    body: MessageBody,
    priority: readonly MemberUpdate[] = [],
    chunks: readonly StateChunk[] = [],
    piggyback: PiggybackMode = 'free',
  ): void {
    const { config, queue, hmac } = this.#ctx;
    let room = this.room(body);
    for (const u of priority) room -= memberUpdateSize(u);
    for (const c of chunks) room -= stateChunkSize(c);
    const updates = [...priority];
    const allChunks = [...chunks];
    if (piggyback !== 'none' && room > 0) {
      const limit = config.retransmitMult * Math.ceil(Math.log10(this.#ctx.liveCount() + 1));
      const pb = queue.fill(
        room,
        piggyback === 'counted' ? limit : Number.POSITIVE_INFINITY,
        (id, epoch, base, budget) => this.#supply(id, epoch, base, budget),
        new Set(priority.map((u) => u.id)),
      );
      updates.push(...pb.updates);
      allChunks.push(...pb.chunks);
    }
    const msg = { ...body, sender: this.#ctx.sender(), updates, chunks: allChunks } as Message;
    this.#sent.push({ to, bytes: encodeMessage(msg, { maxPacketSize: config.maxPacketSize, hmac }) });
  }

  /** Sends the wanted states to `to` as chunks packed into at most `maxPackets` gossip datagrams. */
  sendChunks(to: string, wanted: readonly ChunkWant[], maxPackets: number): void {
    let packets = 0;
    let i = 0;
    while (i < wanted.length && packets < maxPackets) {
      const chunks: StateChunk[] = [];
      let room = this.room({ type: 'gossip' });
      for (; i < wanted.length; i++) {
        const w = wanted[i] as ChunkWant;
        const chunk = this.#ctx.store(w.id)?.chunkAfter(w.id, w.base, room, w.newEpoch);
        if (chunk === undefined) {
          if (chunks.length === 0) continue;
          break;
        }
        chunks.push(chunk);
        room -= stateChunkSize(chunk);
      }
      if (chunks.length === 0) break;
      this.send(to, { type: 'gossip' }, [], chunks, 'none');
      packets += 1;
    }
  }

  /** The datagrams built since the last drain. */
  drain(): Outgoing[] {
    const out = this.#sent;
    this.#sent = [];
    return out;
  }

  #supply(id: string, epoch: number, base: number, budget: number): ChunkSupply {
    const store = this.#ctx.store(id);
    if (store === undefined) return { drop: true };
    const from = store.epoch === epoch ? base : 0;
    if (from >= store.known) return { drop: true };
    const chunk = store.chunkAfter(id, from, budget);
    return chunk === undefined ? {} : { chunk };
  }
}
