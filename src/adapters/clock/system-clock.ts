import type { Cancel, Clock } from '../../application/ports/clock.port.js';

/** The Clock port on the process's monotonic clock and Node timers. Timers do not keep the process alive. */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  schedule(delayMs: number, fn: () => void): Cancel {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  }
}
