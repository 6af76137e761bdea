import { chunkHeaderSize, stateEntrySize } from './codec.js';
import type { StateChunk, StateEntry } from './messages.js';

/** A change of one key's live value as seen by a replica (`value` undefined: the key is gone). */
export interface StateChange {
  readonly key: string;
  readonly value: string | undefined;
}

const MAX_ENTRIES_PER_CHUNK = 0xffff;
const MAX_VERSION = 0xffffffff;

/**
 * One node's versioned key/value state: entries stamped with the owner's version counter, deletions kept as
 * tombstones until the owner compacts. Shared by the owner's {@link LocalState} and everyone's
 * {@link ReplicaState}; both can cut {@link StateChunk}s from it, so any member can relay any node's state.
 */
export abstract class StateStore {
  /** Key → latest entry, deletions included. Mutated only by the subclasses. */
  protected readonly entries = new Map<string, StateEntry>();
  #sorted: StateEntry[] | undefined;
  /** The life of this state stream (see {@link StateChunk}). */
  epoch: number;
  /** Compaction marker in force (see {@link StateChunk.floor}). */
  floor = 0;
  restampedTo = 0;

  protected constructor(epoch: number) {
    this.epoch = epoch;
  }

  /** Every version up to this one is held (the owner: its counter). */
  abstract get known(): number;
  /** The latest version of this node heard of (the owner: its counter). */
  abstract get latest(): number;

  /** The live value of `key`. */
  get(key: string): string | undefined {
    return this.entries.get(key)?.value;
  }

  /** Every live key and value. */
  live(): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of this.entries.values()) if (e.value !== undefined) out.set(e.key, e.value);
    return out;
  }

  /** Every entry, deletions included, in ascending version order. */
  entryList(): readonly StateEntry[] {
    this.#sorted ??= [...this.entries.values()].sort((a, b) => a.version - b.version);
    return this.#sorted;
  }

  /** Number of deletions held. */
  get tombstones(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.value === undefined) n += 1;
    return n;
  }

  protected changed(): void {
    this.#sorted = undefined;
  }

  /**
   * The entries after `base` that fit in `budget` bytes, as a chunk of `nodeId`'s state; undefined when there
   * is nothing after `base` (unless `allowEmpty`: a peer on an older epoch needs even an empty chunk to move to
   * ours) or not even one entry fits. Only contiguously known versions are sent.
   */
  chunkAfter(nodeId: string, base: number, budget: number, allowEmpty = false): StateChunk | undefined {
    const known = this.known;
    if (base > known || (base === known && !allowEmpty)) return undefined;
    let left = budget - chunkHeaderSize(nodeId);
    if (left < 0) return undefined;
    const list = this.entryList();
    let i = firstAfter(list, base);
    const entries: StateEntry[] = [];
    for (; i < list.length; i++) {
      const e = list[i] as StateEntry;
      if (e.version > known) break;
      const size = stateEntrySize(e);
      if (size > left || entries.length === MAX_ENTRIES_PER_CHUNK) break;
      left -= size;
      entries.push(e);
    }
    const complete = i >= list.length || (list[i] as StateEntry).version > known;
    if (!complete && entries.length === 0) return undefined;
    const to = complete ? known : (entries[entries.length - 1] as StateEntry).version;
    return {
      nodeId,
      epoch: this.epoch,
      base,
      to,
      latest: Math.max(this.latest, to),
      floor: this.floor,
      restampedTo: this.restampedTo,
      entries,
    };
  }
}

/** Index of the first entry with a version above `base` in an ascending list. */
function firstAfter(list: readonly StateEntry[], base: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as StateEntry).version <= base) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The local node's own state: the only writer of its versions. Mutated only by the gossip machine. */
export class LocalState extends StateStore {
  #version = 0;

  constructor(epoch: number) {
    super(epoch);
  }

  get known(): number {
    return this.#version;
  }

  get latest(): number {
    return this.#version;
  }

  /** Sets (or, with undefined, deletes) `key`; returns whether anything changed (and the version moved). */
  set(key: string, value: string | undefined): boolean {
    const current = this.entries.get(key);
    if (current?.value === value || (current === undefined && value === undefined)) return false;
    if (this.#version >= MAX_VERSION) throw new RangeError('gossip state version counter exhausted');
    this.#version += 1;
    this.entries.set(key, { key, version: this.#version, value });
    this.changed();
    return true;
  }

  /**
   * Drops every deletion and re-stamps the live entries above the old counter, when more than `maxTombstones`
   * deletions are held; returns whether it did. Replicas forget what lies at or below the floor once they have
   * the re-stamped entries, so the state stays bounded under endpoint churn.
   */
  compactIfNeeded(maxTombstones: number): boolean {
    if (this.tombstones <= maxTombstones) return false;
    const floor = this.#version;
    const live = this.entryList().filter((e) => e.value !== undefined);
    this.entries.clear();
    for (const e of live) {
      this.#version += 1;
      this.entries.set(e.key, { key: e.key, version: this.#version, value: e.value });
    }
    this.floor = floor;
    this.restampedTo = this.#version;
    this.changed();
    return true;
  }

  /** Starts a new life of the state stream (replicas drop what they held and fetch everything again). */
  renew(epoch: number): void {
    this.epoch = epoch;
  }
}

/** Another node's state as held here, converging on the owner's by chunks. Mutated only by the gossip machine. */
export class ReplicaState extends StateStore {
  #known = 0;
  #latest = 0;
  /** A newer epoch heard of but not received yet. */
  #advertisedEpoch: number;
  #pending: { floor: number; restampedTo: number } | undefined;

  constructor() {
    super(0);
    this.#advertisedEpoch = 0;
  }

  get known(): number {
    return this.#known;
  }

  get latest(): number {
    return this.#latest;
  }

  /** True while an epoch or versions are known to exist that have not arrived: a pull is due. */
  get behind(): boolean {
    return this.#advertisedEpoch > this.epoch || this.#latest > this.#known;
  }

  /** Records that the owner (or a peer) reported this position of the stream. */
  advertise(epoch: number, version: number): void {
    if (epoch > this.epoch) this.#advertisedEpoch = Math.max(this.#advertisedEpoch, epoch);
    else if (epoch === this.epoch) this.#latest = Math.max(this.#latest, version);
  }

  /**
   * Applies a chunk; returns the live-value changes, or undefined when the chunk belongs to an older epoch.
   * Entries apply one by one (a newer version of a key wins); the contiguous position only moves when the
   * chunk starts at or before it. A newer epoch replaces everything.
   */
  apply(chunk: StateChunk): StateChange[] | undefined {
    if (chunk.epoch < this.epoch) return undefined;
    const changes: StateChange[] = [];
    if (chunk.epoch > this.epoch) {
      for (const e of this.entries.values()) if (e.value !== undefined) changes.push({ key: e.key, value: undefined });
      this.entries.clear();
      this.epoch = chunk.epoch;
      this.#known = 0;
      this.#latest = 0;
      this.floor = 0;
      this.restampedTo = 0;
      this.#pending = undefined;
    }
    if (chunk.floor > this.floor && (this.#pending === undefined || chunk.floor > this.#pending.floor)) {
      this.#pending = { floor: chunk.floor, restampedTo: chunk.restampedTo };
    }
    for (const e of chunk.entries) {
      if (e.version <= this.floor) continue;
      const current = this.entries.get(e.key);
      if (current !== undefined && current.version >= e.version) continue;
      this.entries.set(e.key, e);
      if (current?.value !== e.value) changes.push({ key: e.key, value: e.value });
    }
    if (chunk.entries.length > 0) this.changed();
    if (chunk.base <= this.#known && chunk.to > this.#known) this.#known = chunk.to;
    this.#latest = Math.max(this.#latest, chunk.latest, this.#known);
    if (this.#pending !== undefined && this.#known >= this.#pending.restampedTo) this.#purge(changes);
    return changes;
  }

  #purge(changes: StateChange[]): void {
    const pending = this.#pending as { floor: number; restampedTo: number };
    for (const e of [...this.entries.values()]) {
      if (e.version > pending.floor) continue;
      this.entries.delete(e.key);
      if (e.value !== undefined) changes.push({ key: e.key, value: undefined });
    }
    this.floor = pending.floor;
    this.restampedTo = pending.restampedTo;
    this.#pending = undefined;
    this.changed();
  }
}
