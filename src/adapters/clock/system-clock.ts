import type { Cancel, Clock } from '../../application/ports/clock.port.js';

/**
 * The Clock port on the process's monotonic clock and Node timers. Timers keep the process alive, as a
 * reconnect wait must: an agent between two connection attempts has nothing else holding the event loop.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  schedule(delayMs: number, fn: () => void): Cancel {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  }
}
