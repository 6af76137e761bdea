import { cpuMicros, statusBytes } from './proc.js';
import { PeakTracker } from './rss.js';

/** A process whose CPU and memory a measurement watches. */
export interface Watched {
  readonly name: string;
  readonly pid: number;
  /** Counted in the "own CPU" of the system under test (server, agent, forward, the one-hop proxy). */
  readonly own: boolean;
}

/** CPU and peak memory of one process over one measurement window. */
export interface ProcUsage {
  readonly name: string;
  readonly own: boolean;
  readonly cpuUs: number;
  readonly peakRssBytes: number;
}

/**
 * Samples VmRSS of a set of processes every `intervalMs` during a window, and reads their utime+stime at the
 * start and the end. Mutated only by its own timer and by `stop`, on the event loop.
 */
export class UsageWindow {
  private readonly startCpu = new Map<number, number>();
  private readonly peak = new PeakTracker();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly procs: readonly Watched[],
    intervalMs = 100,
  ) {
    for (const p of procs) {
      this.startCpu.set(p.pid, cpuMicros(p.pid) ?? 0);
      this.peak.observe(String(p.pid), statusBytes(p.pid, 'VmRSS'));
    }
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const p of this.procs) this.peak.observe(String(p.pid), statusBytes(p.pid, 'VmRSS'));
  }

  /** Ends the window and returns the usage of each process. */
  stop(): ProcUsage[] {
    clearInterval(this.timer);
    this.sample();
    return this.procs.map((p) => ({
      name: p.name,
      own: p.own,
      cpuUs: Math.max(0, (cpuMicros(p.pid) ?? this.startCpu.get(p.pid) ?? 0) - (this.startCpu.get(p.pid) ?? 0)),
      peakRssBytes: this.peak.get(String(p.pid)) ?? 0,
    }));
  }
}

/** Sum of the CPU of the processes counted as the system under test. */
export function ownCpuUs(usage: readonly ProcUsage[]): number {
  return usage.filter((u) => u.own).reduce((s, u) => s + u.cpuUs, 0);
}

/** Runs `fn` inside a usage window, which is closed even when `fn` throws. */
export async function measured<T>(procs: readonly Watched[], fn: () => Promise<T>): Promise<{ value: T; usage: ProcUsage[] }> {
  const win = new UsageWindow(procs);
  try {
    const value = await fn();
    return { value, usage: win.stop() };
  } finally {
    win.stop();
  }
}
