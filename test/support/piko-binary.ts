import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';

import { fetchRaw, splitAddr } from './http.js';
import { Proc } from './processes.js';

/**
 * The Piko (Go) binary the interop tests run against, from `PIKO_INTEROP_BIN` (relative paths are taken from
 * the working directory, as `.ci/run` sets `../shared/interop/piko`); undefined when the variable is unset.
 */
export const PIKO_BIN: string | undefined = process.env.PIKO_INTEROP_BIN ? resolve(process.env.PIKO_INTEROP_BIN) : undefined;

/** `skip` option of every interop suite: the tests skip with this note when no binary is configured. */
export const SKIP_INTEROP: string | false = PIKO_BIN === undefined ? 'PIKO_INTEROP_BIN not set' : false;

function bin(): string {
  if (PIKO_BIN === undefined) throw new Error('PIKO_INTEROP_BIN not set');
  if (!existsSync(PIKO_BIN)) throw new Error(`PIKO_INTEROP_BIN=${PIKO_BIN}: no such file`);
  return PIKO_BIN;
}

/** A port that was free a moment ago (bound on 127.0.0.1:0 and closed), for processes that cannot bind port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Spawns the Piko binary with `args`; stderr JSON lines (Go's `msg` key) are parsed by {@link Proc}. */
export function spawnPiko(args: readonly string[]): Proc {
  return new Proc(spawn(bin(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } }));
}

/** Polls `check` every 50 ms until true, for at most `timeoutMs`; throws naming `what` otherwise. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The four ports of a Piko server. */
export interface GoServerPorts {
  readonly proxy: number;
  readonly upstream: number;
  readonly admin: number;
  readonly gossip: number;
}

/** A running Piko server and its addresses (`127.0.0.1:port`). */
export interface GoServer extends Proc {
  readonly ports: GoServerPorts;
  readonly addrs: { readonly proxy: string; readonly upstream: string; readonly admin: string; readonly gossip: string };
}

/**
 * Starts `piko server` on loopback and waits until its admin port answers `/ready` 200. Without `ports`, free
 * ports are picked, and a start that loses a port race is retried (twice at most) on new ones.
 */
export async function startGoServer(extra: readonly string[] = [], ports?: GoServerPorts): Promise<GoServer> {
  for (let attempt = 0; ; attempt++) {
    const p = ports ?? { proxy: await freePort(), upstream: await freePort(), admin: await freePort(), gossip: await freePort() };
    const addr = (port: number): string => `127.0.0.1:${port}`;
    const proc = spawnPiko([
      'server',
      '--proxy.bind-addr', addr(p.proxy),
      '--upstream.bind-addr', addr(p.upstream),
      '--admin.bind-addr', addr(p.admin),
      '--cluster.gossip.bind-addr', addr(p.gossip),
      ...extra,
    ]);
    let exited = false;
    void proc.exited.then(() => (exited = true));
    try {
      await until(async () => {
        if (exited) throw new Error('exited');
        return (await fetchRaw(addr(p.admin), { path: '/ready', timeoutMs: 1_000 })).status === 200;
      }, 'the Piko server to be ready', 10_000);
      if (exited) throw new Error('exited');
    } catch (error) {
      await proc.stop('SIGKILL');
      if (ports === undefined && attempt < 2) continue;
      throw new Error(`piko server did not start: ${String(error)}; stderr:\n${proc.stderrText.join('\n')}`);
    }
    const addrs = { proxy: addr(p.proxy), upstream: addr(p.upstream), admin: addr(p.admin), gossip: addr(p.gossip) };
    return Object.assign(proc, { ports: p, addrs }) as GoServer;
  }
}

/** The local listener counts a server (Piko or piko-ts) reports on its admin port. */
export async function endpointCounts(adminAddr: string): Promise<Record<string, number>> {
  return (await fetchRaw(adminAddr, { path: '/status/upstream/endpoints', timeoutMs: 2_000 })).json<Record<string, number>>();
}

/** Waits until `adminAddr` reports at least `min` listeners for `endpoint`. */
export async function waitForEndpoint(adminAddr: string, endpoint: string, min = 1): Promise<void> {
  await until(async () => ((await endpointCounts(adminAddr))[endpoint] ?? 0) >= min, `${min} listener(s) of ${endpoint} on ${adminAddr}`);
}

/**
 * Starts `piko agent http|tcp <endpoint> <target>` against an upstream port and waits until the server's admin
 * port (`adminAddr`) counts one more listener for the endpoint (Piko's agent logs nothing on connect).
 */
export async function startGoAgent(
  protocol: 'http' | 'tcp',
  endpoint: string,
  target: string,
  servers: { readonly upstream: string; readonly admin: string },
  extra: readonly string[] = [],
): Promise<Proc> {
  const before = (await endpointCounts(servers.admin))[endpoint] ?? 0;
  const proc = spawnPiko(['agent', protocol, endpoint, target, '--connect.url', `http://${servers.upstream}`, ...extra]);
  try {
    await waitForEndpoint(servers.admin, endpoint, before + 1);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`piko agent did not register: ${String(error)}; stderr:\n${proc.stderrText.join('\n')}`);
  }
  return proc;
}

/** A running `piko forward tcp` and its local address. */
export interface GoForward extends Proc {
  readonly addr: string;
}

/** Starts `piko forward tcp 127.0.0.1:<free port> <endpoint>` and waits until its port accepts connections. */
export async function startGoForward(endpoint: string, proxyAddr: string): Promise<GoForward> {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const proc = spawnPiko(['forward', 'tcp', addr, endpoint, '--connect.url', `http://${proxyAddr}`]);
  try {
    await until(() => canConnect(addr), `piko forward on ${addr}`, 10_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`piko forward did not listen: ${String(error)}; stderr:\n${proc.stderrText.join('\n')}`);
  }
  return Object.assign(proc, { addr }) as GoForward;
}

function canConnect(addr: string): Promise<boolean> {
  const [host, port] = splitAddr(addr);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a CLI run printed. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the Piko binary to completion (e.g. `server status cluster nodes --server.url ...`), killed after 20 s. */
export async function runPiko(args: readonly string[]): Promise<CliResult> {
  const child = spawn(bin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
