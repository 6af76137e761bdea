/** Cancels a scheduled callback. Calling it after the callback ran, or twice, does nothing. */
export type Cancel = () => void;

/**
 * Monotonic time and scheduling, so that protocol state machines and use cases can be driven by a fake
 * clock in tests. `now()` is milliseconds on a process-local monotonic clock: never put it on the wire.
 */
export interface Clock {
  /** Monotonic milliseconds (may be fractional). */
  now(): number;
  /** Runs `fn` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void): Cancel;
}
