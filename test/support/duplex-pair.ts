import { Duplex } from 'node:stream';

/** Options of {@link duplexPair}. */
export interface DuplexPairOptions {
  /** High-water mark of each side (bytes); a small value makes `write()` report backpressure early. */
  highWaterMark?: number;
}

/** One end of an in-memory pipe: what is written here is read on the peer. */
class PipeEnd extends Duplex {
  peer!: PipeEnd;
  /** The write waiting for the peer's reader to want more (backpressure). */
  #waiting: (() => void) | undefined;
  /** Total bytes written into this end. */
  bytesWritten = 0;

  override _read(): void {
    const resume = this.peer.#waiting;
    if (resume !== undefined) {
      this.peer.#waiting = undefined;
      resume();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    if (this.peer.destroyed) {
      callback();
      return;
    }
    if (this.peer.push(chunk)) callback();
    else this.#waiting = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
    const peer = this.peer;
    if (!peer.destroyed) process.nextTick(() => peer.destroy());
    callback(error);
  }
}

/**
 * Two connected in-memory `Duplex` streams, like the two ends of a socket: bytes written to one are read from
 * the other, in order and without copying. Backpressure is real (a write completes only once the peer's reader
 * has room), `end()` ends the peer's readable side, and destroying one end destroys the other.
 */
export function duplexPair(options: DuplexPairOptions = {}): [Duplex & { bytesWritten: number }, Duplex & { bytesWritten: number }] {
  const hwm = options.highWaterMark;
  const streamOptions = hwm === undefined ? {} : { highWaterMark: hwm };
  const a = new PipeEnd(streamOptions);
  const b = new PipeEnd(streamOptions);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
