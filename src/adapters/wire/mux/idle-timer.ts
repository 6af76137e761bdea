import type { Cancel, Clock } from '../../../application/ports/clock.port.js';

/**
 * The inactivity timeout of a stream, as `net.Socket#setTimeout` has it: `onIdle` runs once `ms` pass without
 * {@link IdleTimer.touch}, and again only after new activity. One clock timer at a time: activity only moves
 * the last-active time, and the timer, when it fires early, re-arms itself for the rest.
 */
export class IdleTimer {
  readonly #clock: Clock;
  readonly #onIdle: () => void;
  /** False once the owner is gone: the timer then neither fires nor re-arms. */
  readonly #live: () => boolean;
  #ms = 0;
  #cancel: Cancel | undefined;
  #lastActive = 0;

  constructor(clock: Clock, onIdle: () => void, live: () => boolean) {
    this.#clock = clock;
    this.#onIdle = onIdle;
    this.#live = live;
  }

  /** Sets the timeout (0, a negative or a non-finite value disables it) and restarts it; returns the value set. */
  set(ms: number): number {
    this.cancel();
    this.#ms = ms > 0 && Number.isFinite(ms) ? ms : 0;
    if (this.#ms > 0 && this.#live()) {
      this.#lastActive = this.#clock.now();
      this.#cancel = this.#clock.schedule(this.#ms, this.#onTimer);
    }
    return this.#ms;
  }

  /** Records activity now (data in either direction). */
  touch(): void {
    if (this.#ms === 0) return;
    this.#lastActive = this.#clock.now();
    if (this.#cancel === undefined && this.#live()) this.#cancel = this.#clock.schedule(this.#ms, this.#onTimer);
  }

  /** Stops the timer (the setting stays, and new activity would start it again). */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  readonly #onTimer = (): void => {
    this.#cancel = undefined;
    const ms = this.#ms;
    if (ms === 0 || !this.#live()) return;
    const idle = this.#clock.now() - this.#lastActive;
    if (idle >= ms) this.#onIdle();
    else this.#cancel = this.#clock.schedule(ms - idle, this.#onTimer);
  };
}
