import { freeTcpPort, freeUdpPort, startNginx, type NginxProc } from './nginx.js';
import { fetchRaw } from '../http.js';
import { SERVER_JS, spawnNode, type Proc } from '../processes.js';

/** The fixed loopback addresses of one node, kept across its restarts (so a load balancer can name them). */
export interface NodePorts {
  readonly id: string;
  readonly proxy: string;
  readonly upstream: string;
  readonly admin: string;
  readonly gossip: string;
}

/** A row of `GET /status/cluster/nodes`. */
export interface NodeRow {
  readonly id: string;
  readonly status: string;
  readonly endpoints: number;
}

/** Free loopback ports for a node called `id` (bound on port 0 and closed: another process could take one). */
export async function nodePorts(id: string): Promise<NodePorts> {
  return {
    id,
    proxy: `127.0.0.1:${await freeTcpPort()}`,
    upstream: `127.0.0.1:${await freeTcpPort()}`,
    admin: `127.0.0.1:${await freeTcpPort()}`,
    gossip: `127.0.0.1:${await freeUdpPort()}`,
  };
}

/**
 * Spawns a server process on `n`'s fixed ports joining `join` (gossip addresses), with a 5 s grace period and the
 * `extra` flags, and waits for its start log line.
 */
export async function startClusterNode(n: NodePorts, join: readonly string[], extra: readonly string[] = []): Promise<Proc> {
  const proc = spawnNode(SERVER_JS, [
    '--cluster.node-id', n.id,
    '--proxy.bind-addr', n.proxy,
    '--upstream.bind-addr', n.upstream,
    '--admin.bind-addr', n.admin,
    '--cluster.gossip.bind-addr', n.gossip,
    ...(join.length > 0 ? ['--cluster.join', join.join(',')] : []),
    '--grace-period', '5s',
    ...extra,
  ]);
  await proc.waitFor((l) => l.message === 'server started', 30_000);
  return proc;
}

/** Whether the node's admin port answers `/ready` with 200. */
export async function isReady(admin: string): Promise<boolean> {
  try {
    return (await fetchRaw(admin, { path: '/ready', timeoutMs: 2_000 })).status === 200;
  } catch {
    return false;
  }
}

/** `GET /status/cluster/nodes` of a node, or undefined when it does not answer. */
export async function clusterNodes(admin: string): Promise<NodeRow[] | undefined> {
  try {
    const res = await fetchRaw(admin, { path: '/status/cluster/nodes', timeoutMs: 2_000 });
    return res.status === 200 ? res.json<NodeRow[]>() : undefined;
  } catch {
    return undefined;
  }
}

/** The endpoint ids with at least one upstream connected to this node (`/status/upstream/endpoints`; empty when it does not answer). */
export async function localEndpoints(admin: string): Promise<string[]> {
  try {
    const res = await fetchRaw(admin, { path: '/status/upstream/endpoints', timeoutMs: 2_000 });
    if (res.status !== 200) return [];
    return Object.entries(res.json<Record<string, number>>())
      .filter(([, count]) => count > 0)
      .map(([id]) => id);
  } catch {
    return [];
  }
}

/** Polls `check` every 50 ms until it holds; returns the elapsed milliseconds or throws after `timeoutMs`. */
export async function poll(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * A real nginx in front of `nodes`, as a deployment's load balancer: site `piko_proxy` spreads clients over the
 * proxy ports and `piko_upstream` agents over the upstream ports (WebSocket upgrades allowed); a dead backend is
 * skipped after a 1 s connect timeout.
 */
export function startClusterNginx(nodes: readonly NodePorts[]): Promise<NginxProc> {
  return startNginx({
    sites: [
      { name: 'piko_proxy', backends: nodes.map((n) => n.proxy) },
      { name: 'piko_upstream', backends: nodes.map((n) => n.upstream) },
    ],
    connectTimeout: '1s',
  });
}
