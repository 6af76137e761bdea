import type { Clock } from '../../../application/ports/clock.port.js';
import type { MuxStream } from './stream.js';
import type { WindowBudget } from './window-tuner.js';

/**
 * The session-side operations a stream needs. The session implements it once (not per stream or frame) and
 * hands it to each stream it creates; nothing outside the mux uses it.
 *
 * @internal
 */
export interface MuxStreamHost {
  /** The session's clock, for the stream's timers. */
  readonly clock: Clock;
  /** Our receive window per stream (the "max window" of yamux), where every stream starts. */
  readonly maxWindow: number;
  /** How far a stream's receive window may grow with demand (see `ReceiveWindowTuner`). */
  readonly windowCap: number;
  /** The session's budget for grown windows. */
  readonly windowBudget: WindowBudget;
  /** How long a stream we half-closed waits for the peer's FIN before it is reset; 0 waits forever. */
  readonly streamCloseTimeoutMs: number;
  /** True once the session is closed. */
  readonly closed: boolean;
  /**
   * Sends a window update frame for `stream` with `flags` (SYN, ACK, FIN, RST) and window `delta`: at once, or
   * merged with the stream's other waiting control while the transport is under backpressure.
   */
  sendControl(stream: MuxStream, flags: number, delta: number): void;
  /** Asks the session to pull data frames from this stream when the transport can take them. */
  requestSend(stream: MuxStream): void;
  /** Forgets the stream: both sides finished, or it was reset. */
  release(stream: MuxStream): void;
  /** A stream we opened was not acknowledged in time. */
  openTimedOut(stream: MuxStream, timeoutMs: number): void;
}
