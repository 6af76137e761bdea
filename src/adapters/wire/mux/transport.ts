/** A listener of any transport event (a Node stream's listener type, which every Duplex accepts). */
export type TransportListener = (...args: any[]) => void;

/**
 * The byte transport a yamux session runs over: what {@link MuxSession} uses of it, a subset of a Node `Duplex`
 * (any Duplex fits, as the tests' in-memory pairs do), so that a lighter carrier can stand in for one (see
 * `WsMuxTransport`, a WebSocket without a stream wrapper).
 *
 * Events: `'data'` (a chunk of bytes), `'drain'` (after `write` returned false, it may be written again),
 * `'end'` and `'close'` (no more bytes will come; the session ends on the first), `'error'`, and `'finish'`
 * (after `end()`, everything written has been flushed).
 */
export interface MuxTransport {
  /** True once the transport is destroyed or closed. */
  readonly destroyed: boolean;
  /** True while bytes may still be written. */
  readonly writable: boolean;
  /** True once the peer's end has been read. */
  readonly readableEnded: boolean;
  /**
   * Writes `chunk`; `callback` runs once it has been flushed (or has failed). Returns false under backpressure:
   * the writer should wait for `'drain'`.
   */
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  /** Flushes what was written, then closes; `'finish'` follows the flush. */
  end(): unknown;
  /** Closes at once, dropping what waits. */
  destroy(): unknown;
  on(event: string, listener: TransportListener): unknown;
  once(event: string, listener: TransportListener): unknown;
  off(event: string, listener: TransportListener): unknown;
}
