import type { Clock } from '../../../application/ports/clock.port.js';

/**
 * The receive-window bytes one session may grant beyond every stream's base window: the bound on what its
 * grown windows can make us buffer, however many streams grow.
 */
export class WindowBudget {
  #left: number;

  constructor(readonly total: number) {
    this.#left = total;
  }

  /** Bytes not yet taken. */
  get left(): number {
    return this.#left;
  }

  /** Takes `n` bytes if that many are left; false (and nothing taken) otherwise. */
  take(n: number): boolean {
    if (n > this.#left) return false;
    this.#left -= n;
    return true;
  }

  /** Gives back `n` bytes taken earlier. */
  give(n: number): void {
    this.#left = Math.min(this.total, this.#left + n);
  }
}

/**
 * Two due window updates this close together mean the consumer reads at least half a window per interval (at
 * the 256 KiB base, 2.6 MB/s): the window, not the reader, may be what limits the transfer.
 */
export const WINDOW_GROWTH_INTERVAL_MS = 50;

/**
 * The receive window of one stream, grown with the measured demand (Piko's is fixed at 256 KiB, its §15): each
 * time a window update falls due within {@link WINDOW_GROWTH_INTERVAL_MS} of the previous one while nothing waits
 * unread, the window doubles, up to `cap`, with the extra taken from the session's {@link WindowBudget}. A reader
 * that falls behind stops the growth (bytes wait unread), so a large window is only held by streams that drain
 * it; the stream gives its extra back when it ends. Pure: time comes from the clock it is given.
 */
export class ReceiveWindowTuner {
  #max: number;
  #extra = 0;
  #lastDue: number;
  #released = false;

  constructor(
    base: number,
    private readonly cap: number,
    private readonly budget: WindowBudget,
    private readonly clock: Clock,
  ) {
    this.#max = base;
    this.#lastDue = clock.now();
  }

  /** The stream's window now. */
  get max(): number {
    return this.#max;
  }

  /** A window update is due with `unread` bytes still buffered: grows the window if the demand shows; returns it. */
  due(unread: number): number {
    const now = this.clock.now();
    if (!this.#released && unread === 0 && this.#max < this.cap && now - this.#lastDue <= WINDOW_GROWTH_INTERVAL_MS) {
      const more = Math.min(this.#max, this.cap - this.#max);
      if (this.budget.take(more)) {
        this.#max += more;
        this.#extra += more;
      }
    }
    this.#lastDue = now;
    return this.#max;
  }

  /** The stream ended: its extra goes back to the session's budget (once). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.give(this.#extra);
    this.#extra = 0;
  }
}
