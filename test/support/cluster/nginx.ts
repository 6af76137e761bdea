import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs nginx (package nginx-light or nginx). */
export const NGINX_BIN = '/usr/sbin/nginx';

/**
 * Why the nginx tests cannot run on this machine, or undefined when they can. Tests pass it as `skip` so a
 * machine without nginx reports the skip with its reason instead of failing.
 */
export function nginxMissing(): string | undefined {
  try {
    accessSync(NGINX_BIN, constants.X_OK);
    return undefined;
  } catch {
    return `${NGINX_BIN} is not installed (Debian package nginx-light)`;
  }
}

/** A free TCP port on 127.0.0.1, below the ephemeral range (bound, then closed: another listener could take it meanwhile). */
export async function freeTcpPort(): Promise<number> {
  return fixedPort(async (port) => {
    const server = createServer();
    server.on('error', () => {});
    server.listen(port, '127.0.0.1');
    const [ok] = await Promise.race([once(server, 'listening').then(() => [true]), once(server, 'error').then(() => [false])]);
    const bound = ok ? (server.address() as AddressInfo).port : undefined;
    if (ok) await new Promise<void>((r) => server.close(() => r()));
    return bound;
  });
}

/** A free UDP port on 127.0.0.1, below the ephemeral range, e.g. for a gossip address fixed across restarts. */
export async function freeUdpPort(): Promise<number> {
  return fixedPort(async (port) => {
    const socket = createSocket('udp4');
    socket.on('error', () => {});
    socket.bind(port, '127.0.0.1');
    const [ok] = await Promise.race([once(socket, 'listening').then(() => [true]), once(socket, 'error').then(() => [false])]);
    const bound = ok ? socket.address().port : undefined;
    if (ok) await new Promise<void>((r) => socket.close(() => r()));
    else socket.close();
    return bound;
  });
}

/**
 * Lowest port of the kernel's ephemeral range (Linux `ip_local_port_range`; 32768 when unreadable). A port given
 * out for binding on port 0 comes from that range, which outgoing connections also draw from: a port fixed for
 * a later bind (a node's address across restarts, named in an nginx config) is picked below it, where only
 * another listener could take it meanwhile.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Tries random ports from 10000 to just below the ephemeral range; falls back to a port-0 binding. */
async function fixedPort(tryBind: (port: number) => Promise<number | undefined>): Promise<number> {
  const low = 10_000;
  const high = ephemeralLow();
  for (let i = 0; i < 50; i++) {
    const port = await tryBind(low + Math.floor(Math.random() * (high - low)));
    if (port !== undefined) return port;
  }
  const any = await tryBind(0);
  if (any === undefined) throw new Error('no free loopback port');
  return any;
}

/** One load-balanced service of the nginx under test: a listen port on 127.0.0.1 and its backends. */
export interface NginxSite {
  /** Name of the `upstream` block (letters, digits, underscores). */
  readonly name: string;
  /** Backends as `host:port`. */
  readonly backends: readonly string[];
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  readonly sites: readonly NginxSite[];
  /** `proxy_connect_timeout` (nginx duration, e.g. `1s`); short so a dead backend is skipped quickly. */
  readonly connectTimeout?: string;
}

/** A running nginx: its listen address per site name, its error log, and how to stop it. */
export interface NginxProc {
  readonly dir: string;
  readonly listen: Readonly<Record<string, string>>;
  readonly child: ChildProcess;
  /** The contents of the error log (for failure messages). */
  errorLog(): string;
  /** Stops nginx (SIGKILL after 5 s if SIGQUIT/SIGTERM did not), then removes its temp dir. */
  stop(): Promise<void>;
}

/** The nginx configuration text for `sites` listening on `ports` (same order), every path under the prefix. */
export function nginxConfig(sites: readonly NginxSite[], ports: readonly number[], connectTimeout: string): string {
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  const blocks = sites.map((site, i) => {
    const servers = site.backends.map((b) => `    server ${b} max_fails=1 fail_timeout=2s;`).join('\n');
    return `  upstream ${site.name} {
${servers}
  }
  server {
    listen 127.0.0.1:${ports[i]};
    location / {
      proxy_pass http://${site.name};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 0;
      proxy_connect_timeout ${connectTimeout};
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      proxy_request_buffering off;
      add_header X-Upstream-Addr $upstream_addr always;
    }
  }`;
  });
  return `${user}worker_processes 1;
error_log error.log info;
pid nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path tmp/client_body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
${blocks.join('\n')}
}
`;
}

/**
 * Writes an nginx configuration into a fresh temp dir and runs `nginx -p <dir> -c nginx.conf -g 'daemon off;'`
 * (error log and pid file in that dir), one 127.0.0.1 listen port per site; resolves once every port accepts.
 */
export async function startNginx(options: NginxOptions): Promise<NginxProc> {
  const dir = mkdtempSync(join(tmpdir(), 'piko-nginx-'));
  const ports: number[] = [];
  for (let i = 0; i < options.sites.length; i++) ports.push(await freeTcpPort());
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(options.sites, ports, options.connectTimeout ?? '1s'));
  mkdirSync(join(dir, 'tmp'));
  const child = spawn(NGINX_BIN, ['-p', `${dir}/`, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  const exited = once(child, 'exit');
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const listen: Record<string, string> = {};
  options.sites.forEach((s, i) => (listen[s.name] = `127.0.0.1:${ports[i]}`));
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const why = `nginx did not start: ${output.join('')}\n${errorLog()}`;
        await stop();
        throw new Error(why);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { dir, listen, child, errorLog, stop };
}

/** Whether 127.0.0.1:`port` accepts a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
