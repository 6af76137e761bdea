import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist-test/test/support). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVER_JS = resolve(ROOT, 'dist/main/server.js');
export const AGENT_JS = resolve(ROOT, 'dist/main/agent.js');
export const CLI_JS = resolve(ROOT, 'dist/main/cli.js');

/** One JSON log line of a child process. */
export type LogLine = Record<string, unknown> & { message?: string; level?: string; subsystem?: string };

/** A child process of the product, with its parsed log lines. */
export class Proc {
  readonly lines: LogLine[] = [];
  readonly stderrText: string[] = [];
  readonly stdoutText: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.stderrText.push(line);
        let parsed: LogLine | undefined;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        this.lines.push(parsed);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(parsed)) return true;
          w.resolve(parsed);
          return false;
        });
      }
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.stdoutText.push(chunk));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  /** Resolves with the first log line (past or future) matching `pred`; rejects after `timeoutMs` or on exit. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr:\n${this.stderrText.join('\n')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before the log line; stderr:\n${this.stderrText.join('\n')}`));
      });
    });
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    return this.exited;
  }

  /** Resident set size in bytes, from /proc. */
  rss(): number {
    return readRss(this.child.pid ?? 0);
  }
}

/** RSS of a process in bytes (0 if it is gone). */
export function readRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}




/** The test run's environment without the variables meant for the tests themselves (not for the product). */
function productEnv(): NodeJS.ProcessEnv {
  const { PIKO_INTEROP_BIN: _interop, ...rest } = process.env;
  return rest;
}

/** Spawns a product entry point on the Node running the tests. */
export function spawnNode(script: string, args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...productEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(child);
}

/** Addresses a server logged at start-up. */
export interface ServerAddrs {
  readonly proxy: string;
  readonly upstream: string;
  readonly admin: string;
}

/** A running server process. */
export interface ServerProc extends Proc {
  readonly addrs: ServerAddrs;
}

/** Starts `dist/main/server.js` on 127.0.0.1 with kernel-chosen ports and waits until it is ready. */
export async function startServer(extra: readonly string[] = [], env: Record<string, string> = {}): Promise<ServerProc> {
  const proc = spawnNode(
    SERVER_JS,
    ['--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr', '127.0.0.1:0', '--admin.bind-addr', '127.0.0.1:0', '--cluster.gossip.bind-addr', '127.0.0.1:0', ...extra],
    env,
  );
  const started = await proc.waitFor((l) => l.message === 'server started');
  const addrs = {
    proxy: String(started['proxy-addr']),
    upstream: String(started['upstream-addr']),
    admin: String(started['admin-addr']),
  };
  return Object.assign(proc, { addrs }) as ServerProc;
}

/** Starts `dist/main/agent.js` with `args` and waits until every listener is connected. */
export async function startAgent(args: readonly string[], env: Record<string, string> = {}): Promise<Proc> {
  const proc = spawnNode(AGENT_JS, args, env);
  await proc.waitFor((l) => l.message === 'agent started');
  return proc;
}

export const FORWARD_JS = resolve(ROOT, 'dist/main/forward.js');

/** A running forward process and the local address it listens on. */
export interface ForwardProc extends Proc {
  readonly addr: string;
}

/** Starts `dist/main/forward.js tcp 127.0.0.1:0 <endpoint>` and waits for its port. */
export async function startForward(endpoint: string, proxyAddr: string, extra: readonly string[] = []): Promise<ForwardProc> {
  const proc = spawnNode(FORWARD_JS, ['tcp', '127.0.0.1:0', endpoint, '--connect.url', `http://${proxyAddr}`, ...extra]);
  const started = await proc.waitFor((l) => l.message === 'forward started');
  const ports = started.ports as string[];
  return Object.assign(proc, { addr: String(ports[0]) }) as ForwardProc;
}
