import { forkService, nextMessage, runTool, which } from './proc.js';

/** One HTTP load run: keep-alive GETs on `connections` connections for `durationS` seconds. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** What a load run measured. Latencies are in milliseconds. */
export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon';
  /** Responses received (any status). */
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  /** Responses with a status outside 2xx (wrk counts 3xx as success). */
  readonly non2xx: number;
}

/** A load generator: wrk when installed (lighter on a 2-core machine), else autocannon in a child process. */
export interface LoadGenerator {
  readonly name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/** Picks the load generator: `wrk`, `autocannon` or `auto` (wrk if on PATH). */
export function pickLoadGenerator(choice: string): { gen: LoadGenerator; note?: string } {
  const wrk = which('wrk');
  if (choice === 'wrk' && wrk === undefined) throw new Error('--load-gen wrk: wrk is not installed (apt-get install wrk)');
  if (choice === 'autocannon' || wrk === undefined) {
    return {
      gen: new AutocannonGenerator(),
      ...(wrk === undefined ? { note: 'wrk not installed: load from autocannon (apt-get install wrk for a lighter client)' } : {}),
    };
  }
  return { gen: new WrkGenerator(wrk) };
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Parses a wrk duration such as `743.00us`, `1.64ms` or `3.00s` into milliseconds. */
export function parseWrkTime(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
}

/** Parses the text wrk prints with `--latency`. */
export function parseWrkOutput(out: string): Omit<LoadResult, 'tool'> {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseWrkTime(m[1] ?? '') : NaN;
  };
  const total = /(\d+) requests in ([\d.]+\w+)/.exec(out);
  const requests = total ? Number(total[1]) : NaN;
  const durationS = total ? parseWrkTime(total[2] ?? '') / 1000 : NaN;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? [1, 2, 3, 4].reduce((s, i) => s + Number(sock[i]), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const rpsLine = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const rps = rpsLine ? Number(rpsLine[1]) : requests / durationS;
  return { requests, durationS, rps, p50Ms: pct('50'), p99Ms: pct('99'), errors, non2xx };
}

class WrkGenerator implements LoadGenerator {
  readonly name = 'wrk';
  constructor(private readonly bin: string) {}

  async run(spec: LoadSpec): Promise<LoadResult> {
    const args = ['-t1', `-c${spec.connections}`, `-d${Math.max(1, Math.round(spec.durationS))}s`, '--latency', '--timeout', '5s'];
    for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
    args.push(spec.url);
    const r = await runTool(this.bin, args, spec.durationS * 1000 + 20_000);
    if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr || r.stdout}`);
    const parsed = parseWrkOutput(r.stdout);
    if (!Number.isFinite(parsed.requests)) throw new Error(`could not parse wrk output:\n${r.stdout}`);
    return { tool: 'wrk', ...parsed };
  }
}

interface RunnerDone {
  type: 'done';
  result: Omit<LoadResult, 'tool'>;
}
interface RunnerFailed {
  type: 'error';
  message: string;
}
const isRunnerReply = (m: unknown): m is RunnerDone | RunnerFailed =>
  typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'done' || (m as { type?: unknown }).type === 'error');

class AutocannonGenerator implements LoadGenerator {
  readonly name = 'autocannon';

  async run(spec: LoadSpec): Promise<LoadResult> {
    // A child process keeps the client's CPU out of the bench process, which samples /proc on a timer.
    const child = forkService('autocannon', 'autocannon-runner.js', [JSON.stringify(spec)]);
    try {
      const reply = await nextMessage(child, isRunnerReply, spec.durationS * 1000 + 30_000, 'autocannon result');
      if (reply.type === 'error') throw new Error(`autocannon: ${reply.message}`);
      return { tool: 'autocannon', ...reply.result };
    } finally {
      await child.stop();
    }
  }
}
