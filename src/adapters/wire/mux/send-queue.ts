import { writeHeader } from './codec.js';
import { FrameType, HEADER_LENGTH, INITIAL_STREAM_WINDOW } from './frame.js';

/** Payloads at least this large are sent as views of the caller's buffer rather than copied into the frame. */
const ZERO_COPY_MIN = 16 * 1024;

/** The completion callback of a stream write. */
export type WriteCallback = (error?: Error | null) => void;

/**
 * The outgoing side of one stream: the write waiting to go out as data frames, and the send window the peer
 * granted for it.
 *
 * It holds one write at a time (Node's `Writable` queues the others): its chunks, the position inside them and
 * its callback. The session pulls frames with {@link SendQueue.pull} while the transport takes them; each frame
 * carries at most the send window and the session's payload limit. The write completes once its last byte is
 * handed to the transport, or, if some of it went out as views of the caller's buffers (zero-copy), once the
 * transport has flushed those views, so the caller may then reuse its buffer.
 *
 * Pure bookkeeping: no I/O and no timers.
 */
export class SendQueue {
  readonly #id: number;
  readonly #ackFlag: () => number;
  readonly #onFrame: () => void;
  /** Bytes we may still send before the peer's next window update. */
  #window = INITIAL_STREAM_WINDOW;
  /** The waiting write: chunks, the position inside them, bytes left, and the callback to run when all are sent. */
  #chunks: Buffer[] | undefined;
  readonly #single: Buffer[] = [];
  #index = 0;
  #offset = 0;
  #bytes = 0;
  #callback: WriteCallback | undefined;
  /** Payload views handed to the transport and not yet flushed by it (zero-copy frames). */
  #unflushed = 0;
  /** The write callback, held until the transport has flushed the views of the caller's buffer. */
  #doneWhenFlushed: WriteCallback | undefined;
  /** The zero-copy payload of the frame last pulled, for the session to write after the header. */
  #payload: Buffer | undefined;
  #written = 0;

  /**
   * The queue of stream `id`. `ackFlag()` gives the flags of each frame built (the ACK the stream may owe);
   * `onFrame()` is told of each frame built (activity, for the idle timeout).
   */
  constructor(id: number, ackFlag: () => number, onFrame: () => void) {
    this.#id = id;
    this.#ackFlag = ackFlag;
    this.#onFrame = onFrame;
  }

  /** Payload bytes handed to the transport. */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Whether {@link SendQueue.pull} would produce a frame now: bytes wait and the peer granted window. */
  get canSend(): boolean {
    return this.#bytes > 0 && this.#window > 0;
  }

  /** Holds `chunks` (`total` bytes, more than 0) until they are sent; `callback` completes the write. */
  holdAll(chunks: Buffer[], total: number, callback: WriteCallback): void {
    this.#chunks = chunks;
    this.#index = 0;
    this.#offset = 0;
    this.#bytes = total;
    this.#callback = callback;
  }

  /** Holds one non-empty chunk, without allocating a list for it. */
  holdOne(chunk: Buffer, callback: WriteCallback): void {
    this.#single[0] = chunk;
    this.holdAll(this.#single, chunk.length, callback);
  }

  /** The peer granted `delta` more bytes of window. Returns true if bytes wait for it. */
  grant(delta: number): boolean {
    this.#window += delta;
    return delta > 0 && this.#bytes > 0;
  }

  /**
   * Builds the next data frame (header and up to `maxPayload` bytes, limited by the send window), or returns
   * `undefined` when there is nothing to send or no window. A large payload inside one buffer is not copied: the
   * header comes back alone and {@link SendQueue.takePayload} gives the view to write after it. Call
   * {@link SendQueue.afterWrite} once the frame is with the transport.
   */
  pull(maxPayload: number): Buffer | undefined {
    const chunks = this.#chunks;
    let n = this.#bytes;
    if (chunks === undefined || n === 0 || this.#window <= 0) return undefined;
    if (n > this.#window) n = this.#window;
    if (n > maxPayload) n = maxPayload;
    this.#bytes -= n;
    this.#window -= n;
    this.#written += n;
    this.#onFrame();
    const current = chunks[this.#index]!;
    if (n >= ZERO_COPY_MIN && current.length - this.#offset >= n) {
      // Large payload inside one buffer: send a view of it after a separate header instead of copying it into a
      // new frame (one 64 KiB allocation and copy less per frame on bulk transfers).
      const header = Buffer.allocUnsafe(HEADER_LENGTH);
      writeHeader(header, 0, FrameType.Data, this.#ackFlag(), this.#id, n);
      const start = this.#offset;
      this.#payload = current.subarray(start, start + n);
      this.#unflushed++;
      if (start + n === current.length) {
        this.#index++;
        this.#offset = 0;
      } else this.#offset = start + n;
      return header;
    }
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + n);
    writeHeader(frame, 0, FrameType.Data, this.#ackFlag(), this.#id, n);
    let at = HEADER_LENGTH;
    let left = n;
    let index = this.#index;
    let offset = this.#offset;
    while (left > 0) {
      const chunk = chunks[index]!;
      const take = Math.min(chunk.length - offset, left);
      chunk.copy(frame, at, offset, offset + take);
      at += take;
      left -= take;
      offset += take;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    this.#index = index;
    this.#offset = offset;
    return frame;
  }

  /**
   * The zero-copy payload of the frame just pulled, if it has one: the session writes it right after the header
   * with {@link SendQueue.payloadFlushed} as the write callback.
   */
  takePayload(): Buffer | undefined {
    const payload = this.#payload;
    this.#payload = undefined;
    return payload;
  }

  /** The frame from {@link SendQueue.pull} is with the transport: complete the write if it was the last. */
  afterWrite(): void {
    if (this.#bytes === 0 && this.#callback !== undefined) {
      const callback = this.#callback;
      this.#clear();
      if (this.#unflushed > 0) this.#doneWhenFlushed = callback;
      else callback();
    }
  }

  /** The transport flushed a zero-copy payload: complete a write that was waiting for it. */
  readonly payloadFlushed = (error?: Error | null): void => {
    this.#unflushed--;
    if (this.#unflushed > 0 || this.#doneWhenFlushed === undefined) return;
    const callback = this.#doneWhenFlushed;
    this.#doneWhenFlushed = undefined;
    callback(error ?? null);
  };

  /** Drops the waiting write (the stream is destroyed) and returns its callback, for the caller to fail. */
  abandon(): WriteCallback | undefined {
    const pending = this.#callback ?? this.#doneWhenFlushed;
    this.#clear();
    this.#doneWhenFlushed = undefined;
    return pending;
  }

  #clear(): void {
    this.#chunks = undefined;
    this.#single.length = 0;
    this.#bytes = 0;
    this.#index = 0;
    this.#offset = 0;
    this.#callback = undefined;
  }
}
