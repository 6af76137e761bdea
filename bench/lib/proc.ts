import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'node:net';

/** The repository root: this file runs from dist-test/bench/lib. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled bench directory (dist-test/bench), where the helper services live. */
export const BENCH_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One JSON log line of a product process. */
export type LogLine = Record<string, unknown> & { message?: string };

/**
 * A child process started by the bench. Every instance is registered in `live` until it exits, so that
 * `stopAll` (run at the end, on error and on SIGINT) leaves nothing behind. Mutated only on the event loop.
 */
export class Managed {
  static readonly live = new Set<Managed>();
  /** Set when the bench shuts down: a process started after that is killed at once. */
  static shuttingDown = false;
  readonly lines: LogLine[] = [];
  readonly text: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: Array<{ pred: (l: LogLine) => boolean; done: (l: LogLine) => void }> = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    Managed.live.add(this);
    if (Managed.shuttingDown) child.kill('SIGKILL');
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code) => {
        Managed.live.delete(this);
        resolveExit(code);
      });
      child.once('error', (err) => {
        this.text.push(`spawn error: ${err.message}`);
        Managed.live.delete(this);
        resolveExit(null);
      });
    });
    let buf = '';
    const onData = (chunk: string): void => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.text.push(line);
        if (this.text.length > 400) this.text.splice(0, 200);
        let parsed: LogLine | undefined;
        try {
          const v: unknown = JSON.parse(line);
          if (v !== null && typeof v === 'object') parsed = v as LogLine;
        } catch {
          continue;
        }
        if (parsed === undefined) continue;
        const l = parsed;
        if (this.lines.length < 1000) this.lines.push(l);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(l)) return true;
          w.done(l);
          return false;
        });
      }
    };
    child.stderr?.setEncoding('utf8').on('data', onData);
    child.stdout?.setEncoding('utf8').on('data', onData);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && Managed.live.has(this);
  }

  /** The last lines the process printed, for a skip reason or an error message. */
  tail(n = 6): string {
    return this.text.slice(-n).join('\n');
  }

  /** Resolves with the first JSON log line (past or future) matching `pred`; rejects on timeout or exit. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.name}: no "${what}" within ${timeoutMs} ms; output:\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ pred, done: (l) => (clearTimeout(timer), ok(l)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`${this.name} exited (${code}) before "${what}"; output:\n${this.tail()}`));
      });
    });
  }

  /** Sends SIGTERM, then SIGKILL after `graceMs`, and waits for the exit. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops every process the bench started, newest first. */
  static async stopAll(): Promise<void> {
    Managed.shuttingDown = true;
    const all = [...Managed.live].reverse();
    await Promise.all(all.map((p) => p.stop()));
  }

  /** Last-resort synchronous kill, for `process.on('exit')`. */
  static killAllSync(): void {
    for (const p of Managed.live) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * The Node flags the README recommends for running the product (`NODE_OPTIONS`, `npm start`): a 2 MiB young
 * generation semi-space, which cut peak RSS by 9–20 MB per process under load at no cost in CPU per request
 * (measured with `--variant-flags`). Every product process the bench starts gets them, so the bench measures
 * the product as it is meant to run; an experiment's flags come after them and win.
 */
export const PRODUCT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Spawns a Node script (a product entry point) on the Node running the bench with {@link PRODUCT_NODE_FLAGS};
 * `nodeFlags` go to Node after them, before the script (such as `--max-semi-space-size=32`, for an experiment's
 * variant).
 */
export function spawnNode(
  name: string,
  script: string,
  args: readonly string[],
  opts: { fdLimit?: number; nodeFlags?: readonly string[] } = {},
): Managed {
  const flags = [...PRODUCT_NODE_FLAGS, ...(opts.nodeFlags ?? [])];
  if (opts.fdLimit !== undefined) {
    // Node cannot raise its own RLIMIT_NOFILE: a shell raises it and then becomes the Node process.
    const child = spawn('/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...flags, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Managed(name, child);
  }
  return new Managed(name, spawn(process.execPath, [...flags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Spawns a native tool (nginx, wrk, iperf3). */
export function spawnTool(name: string, cmd: string, args: readonly string[]): Managed {
  return new Managed(name, spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A bench helper service: a compiled script under dist-test/bench/services, with an IPC channel. */
export function forkService(name: string, script: string, args: readonly string[] = []): Managed {
  const child = fork(resolve(BENCH_DIST, 'services', script), [...args], {
    execPath: process.execPath,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  return new Managed(name, child);
}

/** Waits for the next IPC message of `m` that matches `pred`. */
export function nextMessage<T>(m: Managed, pred: (msg: unknown) => msg is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise((ok, fail) => {
    const onMsg = (msg: unknown): void => {
      if (!pred(msg)) return;
      cleanup();
      ok(msg);
    };
    const timer = setTimeout(() => {
      cleanup();
      fail(new Error(`${m.name}: no ${what} within ${timeoutMs} ms; output:\n${m.tail()}`));
    }, timeoutMs);
    const onExit = (): void => {
      cleanup();
      fail(new Error(`${m.name} exited before ${what}; output:\n${m.tail()}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      m.child.off('message', onMsg);
      m.child.off('exit', onExit);
    };
    m.child.on('message', onMsg);
    m.child.once('exit', onExit);
  });
}

/** Runs a tool to completion with a hard time limit, collecting stdout and stderr. */
export async function runTool(cmd: string, args: readonly string[], limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = new Managed(cmd, child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: string) => (stdout += c));
  child.stderr?.on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => void m.stop(1000), limitMs);
  const code = await m.exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Whether an executable is on PATH, and its path. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = resolve(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

let clkTck: number | undefined;
/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
export function clockTicks(): number {
  if (clkTck !== undefined) return clkTck;
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime+stime of a process in microseconds, or undefined when it is gone. */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted from the closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1e6) / clockTicks();
  } catch {
    return undefined;
  }
}

/** A field in kB of /proc/<pid>/status (VmRSS, VmHWM), in bytes. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of a process, from /proc (nginx workers of their master). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === pid) out.push(Number(entry));
    } catch {
      /* raced with an exit */
    }
  }
  return out;
}

/** The soft and hard limits on open files of this process. */
export function fdLimits(): { soft: number; hard: number } {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\S+)\s+(\S+)/.exec(limits);
    const num = (s: string | undefined): number => (s === undefined || s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    if (m) return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    /* not Linux */
  }
  return { soft: 1024, hard: 1024 };
}

/** A TCP port that was free a moment ago (for tools that cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Polls until a TCP connect to host:port succeeds; false after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ host, port });
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
