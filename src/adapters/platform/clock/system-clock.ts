import type { Cancel, Clock } from '../../../application/ports/clock.port.js';

/**
 * The Clock port on the process's monotonic clock and Node timers. Timers keep the process alive, as a
 * reconnect wait must: an agent between two connection attempts has nothing else holding the event loop.
 *
 * Node counts a timer from the event loop's cached time in whole milliseconds, so a callback can run up to about
 * a millisecond before `now()` says its delay has passed. State machines compare `now() - start >= timeout`
 * inside their callbacks, so a timer that fires early is re-armed for the remainder: a callback never runs
 * before its delay by this clock's own `now()`.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  schedule(delayMs: number, fn: () => void): Cancel {
    const due = performance.now() + Math.max(0, delayMs);
    let timer: NodeJS.Timeout;
    const fire = (): void => {
      const left = due - performance.now();
      if (left > 0) timer = setTimeout(fire, Math.ceil(left));
      else fn();
    };
    timer = setTimeout(fire, Math.ceil(Math.max(0, delayMs)));
    return () => clearTimeout(timer);
  }
}
