import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  Managed,
  ROOT,
  childPids,
  forkService,
  freePort,
  nextMessage,
  spawnNode,
  spawnTool,
  waitForPort,
  which,
} from './proc.js';
import { pollGet } from './http.js';

/** Thrown when a scenario cannot run here (a tool or a product entry point is missing or does not start). */
export class SkipError extends Error {}

/** The first line of an error, for a one-line skip reason. */
export function firstLine(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.split('\n')[0] ?? s;
}

/** Where the product's entry points are by default (`--dist` points elsewhere, such as another build). */
export const DEFAULT_PRODUCT_DIR = resolve(ROOT, 'dist/main');

/** The three entry points in a product directory, and how to name them in a skip reason. */
function entry(dir: string, file: 'server.js' | 'agent.js' | 'forward.js'): { path: string; shown: string } {
  const path = resolve(dir, file);
  const rel = relative(ROOT, path);
  return { path, shown: rel.startsWith('..') ? path : rel };
}

/** Endpoint of the HTTP tunnel (agent → upstream HTTP port). */
export const EP_HTTP = 'bench-http';
/** Endpoint of the TCP tunnel (agent → upstream sink). */
export const EP_TCP = 'bench-tcp';
/** Endpoint of the L4 HTTP tunnel (agent `tcp` listener → upstream HTTP port, reached through `forward`). */
export const EP_L4_HTTP = 'bench-l4-http';
/** Endpoint of the iperf3 tunnel (agent → iperf3 server). */
export const EP_IPERF = 'bench-iperf';

/** The upstream service: HTTP 1 KiB and bulk, and a TCP sink that reports each connection over IPC. */
export interface Upstream {
  readonly proc: Managed;
  readonly httpPort: number;
  readonly sinkPort: number;
}

/** The sink's IPC report for one finished connection; times are wall-clock milliseconds. */
export interface SinkReport {
  type: 'sink';
  bytes: number;
  firstAt: number;
  lastAt: number;
}
/** Type guard for {@link SinkReport} messages. */
export const isSinkReport = (m: unknown): m is SinkReport => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'sink';

/** A running server node and the addresses it logged. */
export interface ServerNode {
  readonly proc: Managed;
  readonly proxyAddr: string;
  readonly upstreamAddr: string;
  readonly adminAddr: string;
}

/** Starts `dist/main/server.js` on 127.0.0.1 with kernel-chosen ports; throws SkipError if it does not come up. */
export async function startServer(
  name: string,
  productDir: string,
  opts: { fdLimit?: number; nodeFlags?: readonly string[] } = {},
): Promise<ServerNode> {
  const js = entry(productDir, 'server.js');
  if (!existsSync(js.path)) throw new SkipError(`${js.shown} is missing (npm run build)`);
  const proc = spawnNode(
    name,
    js.path,
    [
      '--proxy.bind-addr', '127.0.0.1:0',
      '--upstream.bind-addr', '127.0.0.1:0',
      '--admin.bind-addr', '127.0.0.1:0',
      '--cluster.gossip.bind-addr', '127.0.0.1:0',
      '--proxy.access-log.disable',
      '--log.level', 'warn',
      '--log.subsystems', 'server',
    ],
    opts,
  );
  try {
    const started = await proc.waitFor((l) => l.message === 'server started', 20_000, 'server started');
    const node = {
      proc,
      proxyAddr: String(started['proxy-addr']),
      upstreamAddr: String(started['upstream-addr']),
      adminAddr: String(started['admin-addr']),
    };
    const notReady = await pollGet(`http://${node.adminAddr}/ready`, {}, { status: 200 }, 10_000);
    if (notReady !== undefined) throw new Error(`GET /ready: ${notReady}`);
    return node;
  } catch (err) {
    await proc.stop();
    throw new SkipError(`server did not start: ${firstLine(err)}`);
  }
}

/** Starts an agent with `args` and waits for "agent started"; throws SkipError otherwise. */
async function startAgent(name: string, productDir: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<Managed> {
  const js = entry(productDir, 'agent.js');
  if (!existsSync(js.path)) throw new SkipError(`${js.shown} is missing (npm run build)`);
  const proc = spawnNode(name, js.path, args, { nodeFlags });
  try {
    await proc.waitFor((l) => l.message === 'agent started', 20_000, 'agent started');
    return proc;
  } catch (err) {
    await proc.stop();
    throw new SkipError(`agent did not start: ${firstLine(err)}`);
  }
}

/** Starts `dist/main/forward.js tcp <port> <endpoint>` and waits until its local port accepts connections. */
async function startForward(
  name: string,
  productDir: string,
  endpoint: string,
  proxyAddr: string,
  nodeFlags: readonly string[] = [],
): Promise<{ proc: Managed; port: number }> {
  const js = entry(productDir, 'forward.js');
  if (!existsSync(js.path)) throw new SkipError(`${js.shown} is missing (not built yet)`);
  const port = await freePort();
  const proc = spawnNode(name, js.path, ['tcp', String(port), endpoint, '--connect.url', `http://${proxyAddr}`], { nodeFlags });
  const up = await waitForPort('127.0.0.1', port, 15_000, () => proc.running);
  if (!up) {
    await proc.stop();
    throw new SkipError(`forward did not listen on 127.0.0.1:${port}: ${proc.tail(2).replace(/\n/g, ' ') || 'no output'}`);
  }
  return { proc, port };
}

/** The HTTP tunnel: the shared server node and an agent forwarding EP_HTTP to the upstream's HTTP port. */
export interface HttpTunnel {
  readonly server: ServerNode;
  readonly agent: Managed;
}

/** HTTP carried as raw TCP: forward's local port → server → agent `tcp` listener → the upstream's HTTP port. */
export interface L4HttpTunnel {
  readonly server: ServerNode;
  readonly agent: Managed;
  readonly forward: Managed;
  readonly forwardPort: number;
}

/** The TCP tunnel: forward → server → agent → sink (and the same for iperf3 when installed). */
export interface TcpTunnel {
  readonly server: ServerNode;
  readonly agent: Managed;
  readonly forward: Managed;
  readonly forwardPort: number;
  readonly iperf?: { server: Managed; port: number; agent: Managed; forward: Managed; forwardPort: number } | undefined;
  readonly iperfNote?: string;
}

type Lazy<T> = Promise<T> | undefined;

/**
 * Long-lived processes shared by the rounds, each started on first use and kept until `close`: a scenario
 * that runs in three rounds starts its fixtures once. A fixture that failed to start keeps failing with the
 * same reason instead of being retried every round. Mutated only on the event loop.
 */
export class Fixtures {
  private upstreamP: Lazy<Upstream>;
  private nodeProxyP: Lazy<{ proc: Managed; port: number }>;
  private nginxP: Lazy<{ proc: Managed; port: number; workers: number[] }>;
  /** Keyed by variant: false for the plain processes, true for the variant's (`variantFlags`, `variantDir`). */
  private readonly serverP = new Map<boolean, Promise<ServerNode>>();
  private readonly httpTunnelP = new Map<boolean, Promise<HttpTunnel>>();
  private tcpTunnelP: Lazy<TcpTunnel>;
  private readonly l4HttpTunnelP = new Map<boolean, Promise<L4HttpTunnel>>();
  private readonly tempDirs: string[] = [];

  /**
   * @param variantFlags Node flags of the variant's server, agent and forward (an experiment measured against
   *   the plain processes in the same rounds); the variant fixtures get their own server.
   * @param variantDir Where the variant's entry points are when they come from another build (a baseline to
   *   compare with); the product's directory when undefined.
   */
  constructor(
    readonly productDir: string = DEFAULT_PRODUCT_DIR,
    readonly variantFlags: readonly string[] = [],
    readonly variantDir?: string,
  ) {}

  private flags(variant: boolean): readonly string[] {
    return variant ? this.variantFlags : [];
  }

  /** The build the plain or the variant processes start from. */
  private dir(variant: boolean): string {
    return variant ? (this.variantDir ?? this.productDir) : this.productDir;
  }

  /** Process names of the variant get `-v`, so the tables tell them apart and still see their role. */
  private static named(name: string, variant: boolean): string {
    return variant ? `${name}-v` : name;
  }

  private lazy<T>(map: Map<boolean, Promise<T>>, variant: boolean, make: () => Promise<T>): Promise<T> {
    let p = map.get(variant);
    if (p === undefined) {
      p = make();
      map.set(variant, p);
    }
    return p;
  }

  upstream(): Promise<Upstream> {
    return (this.upstreamP ??= (async () => {
      const proc = forkService('upstream', 'upstream.js');
      const isReady = (m: unknown): m is { type: 'ready'; httpPort: number; sinkPort: number } =>
        typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready';
      const ready = await nextMessage(proc, isReady, 10_000, 'ready');
      return { proc, httpPort: ready.httpPort, sinkPort: ready.sinkPort };
    })());
  }

  nodeProxy(): Promise<{ proc: Managed; port: number }> {
    return (this.nodeProxyP ??= (async () => {
      const up = await this.upstream();
      const proc = forkService('node-proxy', 'node-proxy.js', [String(up.httpPort)]);
      const isReady = (m: unknown): m is { type: 'ready'; port: number } =>
        typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready';
      const ready = await nextMessage(proc, isReady, 10_000, 'ready');
      return { proc, port: ready.port };
    })());
  }

  /** nginx with one worker and keep-alive to the upstream, from a config generated in a temp dir. */
  nginx(): Promise<{ proc: Managed; port: number; workers: number[] }> {
    return (this.nginxP ??= (async () => {
      const bin = which('nginx');
      if (bin === undefined) throw new SkipError('nginx is not installed (apt-get install nginx-light)');
      const up = await this.upstream();
      const dir = mkdtempSync(join(tmpdir(), 'piko-bench-nginx-'));
      this.tempDirs.push(dir);
      const port = await freePort();
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConfig(dir, port, up.httpPort));
      const proc = spawnTool('nginx', bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')]);
      if (!(await waitForPort('127.0.0.1', port, 10_000, () => proc.running))) {
        await proc.stop();
        throw new SkipError(`nginx did not start: ${proc.tail(2).replace(/\n/g, ' ') || 'no output'}`);
      }
      return { proc, port, workers: childPids(proc.pid) };
    })());
  }

  /** The server node shared by the HTTP, bulk and TCP scenarios (and another one for the variant's). */
  server(variant = false): Promise<ServerNode> {
    return this.lazy(this.serverP, variant, () =>
      startServer(Fixtures.named('server', variant), this.dir(variant), { nodeFlags: this.flags(variant) }),
    );
  }

  httpTunnel(variant = false): Promise<HttpTunnel> {
    return this.lazy(this.httpTunnelP, variant, async () => {
      const up = await this.upstream();
      const server = await this.server(variant);
      const agent = await startAgent(Fixtures.named('agent-http', variant), this.dir(variant), [
        'http', EP_HTTP, String(up.httpPort),
        '--connect.url', `http://${server.upstreamAddr}`,
        '--access-log.disable',
        '--log.level', 'warn',
        '--log.subsystems', 'main',
      ], this.flags(variant));
      const problem = await pollGet(`http://${server.proxyAddr}/`, { 'x-piko-endpoint': EP_HTTP }, { status: 200, bytes: 1024 }, 10_000);
      if (problem !== undefined) throw new SkipError(`tunnel does not answer 200 with 1 KiB: ${problem}`);
      return { server, agent };
    });
  }

  /** The L4 HTTP tunnel, checked end to end with one GET through the forward port before it is used. */
  l4HttpTunnel(variant = false): Promise<L4HttpTunnel> {
    return this.lazy(this.l4HttpTunnelP, variant, async () => {
      const up = await this.upstream();
      const server = await this.server(variant);
      const agent = await startAgent(Fixtures.named('agent-l4', variant), this.dir(variant), [
        'tcp', EP_L4_HTTP, `127.0.0.1:${up.httpPort}`,
        '--connect.url', `http://${server.upstreamAddr}`,
        '--log.level', 'warn',
        '--log.subsystems', 'main',
      ], this.flags(variant));
      const fwd = await startForward(Fixtures.named('forward-l4', variant), this.dir(variant), EP_L4_HTTP, server.proxyAddr, this.flags(variant));
      const problem = await pollGet(`http://127.0.0.1:${fwd.port}/`, {}, { status: 200, bytes: 1024 }, 10_000);
      if (problem !== undefined) throw new SkipError(`forward's port does not answer 200 with 1 KiB: ${problem}`);
      return { server, agent, forward: fwd.proc, forwardPort: fwd.port };
    });
  }

  tcpTunnel(): Promise<TcpTunnel> {
    return (this.tcpTunnelP ??= (async () => {
      const up = await this.upstream();
      const server = await this.server();
      const agentArgs = (ep: string, addr: string): string[] => [
        'tcp', ep, addr, '--connect.url', `http://${server.upstreamAddr}`, '--log.level', 'warn', '--log.subsystems', 'main',
      ];
      const agent = await startAgent('agent-tcp', this.productDir, agentArgs(EP_TCP, `127.0.0.1:${up.sinkPort}`));
      const fwd = await startForward('forward-tcp', this.productDir, EP_TCP, server.proxyAddr);
      const iperfBin = which('iperf3');
      if (iperfBin === undefined) {
        return { server, agent, forward: fwd.proc, forwardPort: fwd.port, iperfNote: 'iperf3 not installed (apt-get install iperf3)' };
      }
      try {
        const port = await freePort();
        const iperfServer = spawnTool('iperf3-server', iperfBin, ['-s', '-B', '127.0.0.1', '-p', String(port)]);
        if (!(await waitForPort('127.0.0.1', port, 10_000, () => iperfServer.running))) {
          throw new Error(`iperf3 -s did not listen: ${iperfServer.tail(2)}`);
        }
        const iAgent = await startAgent('agent-iperf', this.productDir, agentArgs(EP_IPERF, `127.0.0.1:${port}`));
        const iFwd = await startForward('forward-iperf', this.productDir, EP_IPERF, server.proxyAddr);
        return {
          server, agent, forward: fwd.proc, forwardPort: fwd.port,
          iperf: { server: iperfServer, port, agent: iAgent, forward: iFwd.proc, forwardPort: iFwd.port },
        };
      } catch (err) {
        return { server, agent, forward: fwd.proc, forwardPort: fwd.port, iperfNote: `iperf3 through the tunnel not set up: ${firstLine(err)}` };
      }
    })());
  }

  /** Stops every process and removes the temp dirs. */
  async close(): Promise<void> {
    await Managed.stopAll();
    for (const d of this.tempDirs) rmSync(d, { recursive: true, force: true });
  }
}

function nginxConfig(dir: string, port: number, upstreamPort: number): string {
  return `# Generated by the piko-ts bench: one worker, keep-alive to the upstream.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}
