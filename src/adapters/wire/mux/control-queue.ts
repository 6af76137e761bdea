import { writeHeader } from './codec.js';
import { Flag, FrameType, HEADER_LENGTH, MAX_UINT32 } from './frame.js';

/** What the queue needs of a stream: its ID (the queue holds streams by identity, so a reused ID is another key). */
export interface QueuedStream {
  readonly id: number;
}

/** The merged control frame waiting on behalf of one stream (always a window update). */
interface PendingStreamControl {
  flags: number;
  delta: number;
}

/** The frames taken out of a {@link ControlQueue} by {@link ControlQueue.take}. */
export interface TakenControl<S extends QueuedStream> {
  /** Every waiting frame, encoded back to back (one transport write). */
  readonly bytes: Buffer;
  /** Streams that finished or were reset while their last frame waited: forget them now that it is written. */
  readonly released: readonly S[];
}

/**
 * The control frames of a yamux session that wait while its transport is under backpressure, in two parts:
 *
 * - **Session frames** (pings, ping replies, go-away, RSTs refusing a SYN), kept in order and bounded by
 *   `limit`: a peer can make us send these at will, so a peer that does not read them must not grow this queue.
 * - **Stream frames** (SYN, ACK, window update, FIN, RST of a stream we track), merged into one frame per stream:
 *   flags are combined and window deltas added, and an RST for a stream whose SYN still waits cancels both (the
 *   peer never hears of it). The session keeps such a stream counted until its frame is written
 *   ({@link ControlQueue.holdRelease}), so this part is bounded by the session's stream limit.
 *
 * Pure bookkeeping: no I/O; the session decides when to write. Per-stream order is kept because the session
 * writes everything waiting here before any further data frame.
 */
export class ControlQueue<S extends QueuedStream> {
  readonly #limit: number;
  #session: Buffer[] = [];
  readonly #streams = new Map<S, PendingStreamControl>();
  readonly #releasing = new Set<S>();

  /** `limit` is the most session frames that may wait. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** True when nothing waits. */
  get empty(): boolean {
    return this.#session.length === 0 && this.#streams.size === 0;
  }

  /** Session frames waiting (the bounded part). */
  get sessionFrames(): number {
    return this.#session.length;
  }

  /** Queues a session frame; returns false, queuing nothing, when `limit` frames already wait. */
  pushSession(type: FrameType, flags: number, streamId: number, length: number): boolean {
    if (this.#session.length >= this.#limit) return false;
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    writeHeader(header, 0, type, flags, streamId, length);
    this.#session.push(header);
    return true;
  }

  /** Merges a control frame of `stream` (a window update with `flags` and `delta`) into its waiting frame. */
  mergeStream(stream: S, flags: number, delta: number): void {
    const pending = this.#streams.get(stream);
    if (pending === undefined) {
      this.#streams.set(stream, { flags, delta });
    } else if (flags & Flag.RST) {
      if (pending.flags & Flag.SYN) this.#streams.delete(stream);
      else {
        pending.flags = Flag.RST;
        pending.delta = 0;
      }
    } else {
      pending.flags |= flags;
      pending.delta = Math.min(pending.delta + delta, MAX_UINT32);
    }
  }

  /**
   * `stream` is done (both sides finished, or reset). Returns true if its last frame still waits: the session must
   * keep counting the stream until {@link ControlQueue.take} hands it back in `released`.
   */
  holdRelease(stream: S): boolean {
    if (!this.#streams.has(stream)) return false;
    this.#releasing.add(stream);
    return true;
  }

  /** Takes every waiting frame (session frames first, then stream frames in the order first queued), or undefined. */
  take(): TakenControl<S> | undefined {
    const count = this.#session.length + this.#streams.size;
    if (count === 0) return undefined;
    const bytes = Buffer.allocUnsafe(count * HEADER_LENGTH);
    let at = 0;
    for (const header of this.#session) {
      header.copy(bytes, at);
      at += HEADER_LENGTH;
    }
    this.#session = [];
    const released: S[] = [];
    for (const [stream, pending] of this.#streams) {
      writeHeader(bytes, at, FrameType.WindowUpdate, pending.flags, stream.id, pending.delta);
      at += HEADER_LENGTH;
      if (this.#releasing.delete(stream)) released.push(stream);
    }
    this.#streams.clear();
    return { bytes, released };
  }

  /** Drops everything (the session closed). */
  clear(): void {
    this.#session = [];
    this.#streams.clear();
    this.#releasing.clear();
  }
}
