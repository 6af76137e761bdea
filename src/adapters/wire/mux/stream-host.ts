import type { Clock } from '../../../application/ports/clock.port.js';
import { MuxTimeoutError } from './errors.js';
import type { FrameWriter } from './frame-writer.js';
import type { MuxStream } from './stream.js';
import { WindowBudget } from './window-tuner.js';

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

/** What {@link SessionStreamHost} needs of its session. @internal */
export interface HostSession {
  readonly closed: boolean;
  /** Forgets `stream` once its last frame is written (see {@link MuxStreamHost.release}). */
  _muxRelease(stream: MuxStream): void;
  close(error?: Error): void;
}

/**
 * The session's {@link MuxStreamHost}: one per session, with its operations on the prototype rather than in
 * closures, and its window budget made when a stream first asks for it. A server holds one session per idle
 * upstream connection, so every object kept per session counts thousands of times.
 *
 * @internal
 */
export class SessionStreamHost implements MuxStreamHost {
  readonly #session: HostSession;
  readonly #writer: FrameWriter;
  readonly #budgetBytes: number;
  #budget: WindowBudget | undefined;

  constructor(
    session: HostSession,
    writer: FrameWriter,
    readonly clock: Clock,
    readonly maxWindow: number,
    readonly windowCap: number,
    budgetBytes: number,
    readonly streamCloseTimeoutMs: number,
  ) {
    this.#session = session;
    this.#writer = writer;
    this.#budgetBytes = budgetBytes;
  }

  get windowBudget(): WindowBudget {
    return (this.#budget ??= new WindowBudget(this.#budgetBytes));
  }

  get closed(): boolean {
    return this.#session.closed;
  }

  sendControl(stream: MuxStream, flags: number, delta: number): void {
    this.#writer.sendStream(stream, flags, delta);
  }

  requestSend(stream: MuxStream): void {
    this.#writer.requestSend(stream);
  }

  release(stream: MuxStream): void {
    this.#session._muxRelease(stream);
  }

  openTimedOut(_stream: MuxStream, timeoutMs: number): void {
    this.#session.close(new MuxTimeoutError('stream-open', timeoutMs));
  }
}
