import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { SkipError, firstLine } from './fixtures.js';
import { getJson, pollGet } from './http.js';
import { Managed, ROOT, sleep, spawnNode } from './proc.js';

/** One real server process of a bench cluster, and the addresses it bound (all on 127.0.0.1, ports from 0). */
export interface ClusterNode {
  readonly id: string;
  readonly proc: Managed;
  readonly proxyAddr: string;
  readonly upstreamAddr: string;
  readonly adminAddr: string;
  /** The UDP gossip address the node bound, which later nodes join. */
  readonly gossipAddr: string;
}

/** A row of `GET /status/cluster/nodes`. */
interface NodeRow {
  readonly id: string;
  readonly status: string;
}

const isRows = (v: unknown): v is NodeRow[] => Array.isArray(v) && v.every((r) => typeof r === 'object' && r !== null && typeof (r as NodeRow).id === 'string');

function script(productDir: string, file: string): string {
  const path = resolve(productDir, file);
  if (!existsSync(path)) {
    const rel = relative(ROOT, path);
    throw new SkipError(`${rel.startsWith('..') ? path : rel} is missing (npm run build)`);
  }
  return path;
}

/**
 * Starts `server.js` as cluster node `id` on loopback with kernel-chosen ports (gossip on 127.0.0.1:0), joining
 * the gossip addresses in `join` when there are any, and waits until it is ready and knows its gossip address.
 * The process is stopped again when it does not come up.
 */
export async function startClusterNode(productDir: string, id: string, join: readonly string[]): Promise<ClusterNode> {
  const proc = spawnNode(`node-${id}`, script(productDir, 'server.js'), [
    '--cluster.node-id', id,
    '--proxy.bind-addr', '127.0.0.1:0',
    '--upstream.bind-addr', '127.0.0.1:0',
    '--admin.bind-addr', '127.0.0.1:0',
    '--cluster.gossip.bind-addr', '127.0.0.1:0',
    ...(join.length > 0 ? ['--cluster.join', join.join(',')] : []),
    '--proxy.access-log.disable',
    '--log.level', 'warn',
    '--log.subsystems', 'server',
  ]);
  try {
    const started = await proc.waitFor((l) => l.message === 'server started', 20_000, 'server started');
    const adminAddr = String(started['admin-addr']);
    const notReady = await pollGet(`http://${adminAddr}/ready`, {}, { status: 200 }, 10_000);
    if (notReady !== undefined) throw new Error(`GET /ready: ${notReady}`);
    // The node reports the gossip address it bound (port 0) in its own gossip row.
    const gossip = await getJson(`http://${adminAddr}/status/gossip/nodes`, 5_000);
    const own = Array.isArray(gossip) ? (gossip as Array<{ id?: unknown; addr?: unknown }>).find((r) => r.id === id) : undefined;
    if (typeof own?.addr !== 'string' || own.addr === '') throw new Error('no gossip address in /status/gossip/nodes');
    return {
      id,
      proc,
      proxyAddr: String(started['proxy-addr']),
      upstreamAddr: String(started['upstream-addr']),
      adminAddr,
      gossipAddr: own.addr,
    };
  } catch (err) {
    await proc.stop();
    throw new Error(`cluster node ${id} did not start: ${firstLine(err)}`);
  }
}

/** `GET /status/cluster/nodes` of one node as id → status, or undefined when the node does not answer. */
export async function nodeStatuses(adminAddr: string, timeoutMs = 2_000): Promise<Map<string, string> | undefined> {
  try {
    const rows = await getJson(`http://${adminAddr}/status/cluster/nodes`, timeoutMs);
    return isRows(rows) ? new Map(rows.map((r) => [r.id, r.status])) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until every node in `nodes` lists every one of them as `active`; throws after `timeoutMs` naming a
 * node whose view is still incomplete.
 */
export async function waitAllActive(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lagging = '';
  while (Date.now() < deadline) {
    lagging = '';
    for (const n of nodes) {
      const view = await nodeStatuses(n.adminAddr);
      const missing = nodes.filter((m) => view?.get(m.id) !== 'active');
      if (missing.length > 0) {
        lagging = `${n.id} does not see ${missing.map((m) => m.id).join(', ')} active`;
        break;
      }
    }
    if (lagging === '') return;
    await sleep(50);
  }
  throw new Error(`cluster did not converge within ${timeoutMs} ms: ${lagging}`);
}

/**
 * Starts `count` nodes named `<prefix>-1` … : the first alone, each next one joining the first's gossip
 * address, then waits until every node sees all of them active. Nodes are started one after the other so
 * that the start-up of one does not slow the join of another on a small machine. On a failure every node
 * started so far is stopped before the error is thrown.
 */
export async function startCluster(productDir: string, prefix: string, count: number, onStarted?: (n: number) => void): Promise<ClusterNode[]> {
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const seed = nodes[0];
      nodes.push(await startClusterNode(productDir, `${prefix}-${i}`, seed === undefined ? [] : [seed.gossipAddr]));
      onStarted?.(i);
    }
    await waitAllActive(nodes, 30_000);
    return nodes;
  } catch (err) {
    await stopNodes(nodes);
    if (err instanceof SkipError) throw err;
    throw new Error(firstLine(err));
  }
}

/** Stops nodes (SIGTERM, SIGKILL after 3 s), all at once. */
export async function stopNodes(nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.proc.stop()));
}

/**
 * Starts `agent.js http <endpoint> <port>` connected to a node's upstream port and waits for "agent started".
 */
export async function startClusterAgent(productDir: string, endpoint: string, port: number, node: ClusterNode): Promise<Managed> {
  const proc = spawnNode(`agent-${endpoint}`, script(productDir, 'agent.js'), [
    'http', endpoint, String(port),
    '--connect.url', `http://${node.upstreamAddr}`,
    '--access-log.disable',
    '--log.level', 'warn',
    '--log.subsystems', 'main',
  ]);
  try {
    await proc.waitFor((l) => l.message === 'agent started', 20_000, 'agent started');
    return proc;
  } catch (err) {
    await proc.stop();
    throw new Error(`agent did not start: ${firstLine(err)}`);
  }
}
