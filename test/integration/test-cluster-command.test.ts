import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { FRONT_NODE_HEADER, FrontProxy, type FrontTarget } from '../../src/adapters/front/front-proxy.js';
import { RoundRobinPicker } from '../../src/adapters/front/node-picker.js';
import { SystemClock } from '../../src/adapters/platform/clock/system-clock.js';
import { formatAddress } from '../../src/adapters/platform/net/listen.js';
import { InMemoryLogger } from '../support/fakes/in-memory-logger.js';
import { fetchRaw, startService, type FullResponse } from '../support/http.js';
import { CLI_JS, spawnNode, startAgent, type LogLine, type Proc } from '../support/processes.js';
import { rawExchange, refusingPort, wsHandshake } from '../support/raw-client.js';

/** A row of `GET /status/cluster/nodes`. */
interface NodeRow {
  readonly id: string;
  readonly status: string;
  readonly upstreams: number;
}

/** A node as the `test cluster started` line lists it. */
interface StartedNode {
  readonly 'node-id': string;
  readonly 'proxy-addr': string;
  readonly 'upstream-addr': string;
  readonly 'admin-addr': string;
  readonly 'gossip-addr': string;
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs` (a deadlock guard only). */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Sends one text message on a WebSocket and resolves with the first message back. */
function echoOnce(url: string, headers: Record<string, string>, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no WebSocket echo within 15 s'))), 15_000);
    ws.on('error', (err) => (clearTimeout(timer), reject(err)));
    ws.on('open', () => ws.send(text));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(String(data));
    });
  });
}

describe('piko-ts test cluster (the real CLI)', { timeout: 180_000 }, () => {
  let cluster: Proc;
  let agent: Proc | undefined;
  let service: Awaited<ReturnType<typeof startService>>;
  let started: LogLine;
  let fronts: { proxy: string; upstream: string; admin: string };

  before(async () => {
    service = await startService((req, res) => res.end(`svc ${req.url}`));
    const wss = new WebSocketServer({ server: service.server });
    wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    cluster = spawnNode(CLI_JS, [
      'test', 'cluster', '--nodes', '3',
      '--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr', '127.0.0.1:0', '--admin.bind-addr', '127.0.0.1:0',
    ]);
    started = await cluster.waitFor((l) => l.message === 'test cluster started', 60_000);
    fronts = { proxy: String(started['proxy-addr']), upstream: String(started['upstream-addr']), admin: String(started['admin-addr']) };
    agent = await startAgent(['http', 'web', service.addr, '--connect.url', `http://${fronts.upstream}`]);
  });

  after(async () => {
    await agent?.stop('SIGKILL');
    await cluster.stop('SIGKILL');
    await service.close();
  });

  it('prints the fronts and every node (a JSON line on stderr, a table on stdout)', () => {
    for (const addr of Object.values(fronts)) assert.match(addr, /^127\.0\.0\.1:\d+$/);
    const nodes = started.nodes as StartedNode[];
    assert.deepEqual(nodes.map((n) => n['node-id']), ['node-1', 'node-2', 'node-3']);
    const addrs = nodes.flatMap((n) => [n['proxy-addr'], n['upstream-addr'], n['admin-addr'], n['gossip-addr']]);
    for (const addr of addrs) assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.equal(new Set(addrs).size, 12, 'every node port is its own');
    const table = cluster.stdoutText.join('');
    assert.match(table, /^piko-ts test cluster: 3 nodes, round-robin/);
    assert.ok(table.includes(`proxy     ${fronts.proxy}`), table);
    for (const n of nodes) assert.match(table, new RegExp(`^${n['node-id']}\\s+${n['proxy-addr']}\\s`, 'm'));
  });

  it('serves every request through the proxy front, spread over the three nodes', async () => {
    const get = (path: string): Promise<FullResponse> => fetchRaw(fronts.proxy, { path, headers: { 'x-piko-endpoint': 'web' }, timeoutMs: 10_000 });
    // Until gossip has told every node where the endpoint is: six answers in a row (each node twice).
    let inARow = 0;
    await until(
      async () => {
        inARow = (await get('/warm-up')).status === 200 ? inARow + 1 : 0;
        return inARow >= 6;
      },
      60_000,
      'six successful requests in a row through the proxy front',
    );
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await get(`/r${i}`);
      assert.equal(res.status, 200, `request ${i}: ${res.body.toString()}`);
      assert.equal(res.body.toString(), `svc /r${i}`);
      served.add(String(res.headers[FRONT_NODE_HEADER]));
    }
    assert.deepEqual([...served].sort(), ['node-1', 'node-2', 'node-3']);
  });

  it('carries a WebSocket through the proxy front to the service', async () => {
    assert.equal(await echoOnce(`ws://${fronts.proxy}/ws`, { 'x-piko-endpoint': 'web' }, 'ping'), 'ping');
  });

  it('answers /status/cluster/nodes on the admin front with the three nodes, one holding the agent', async () => {
    let rows: NodeRow[] = [];
    await until(
      async () => {
        const res = await fetchRaw(fronts.admin, { path: '/status/cluster/nodes', timeoutMs: 5_000 });
        rows = res.status === 200 ? res.json<NodeRow[]>() : [];
        return rows.length === 3 && rows.every((r) => r.status === 'active') && rows.filter((r) => r.upstreams > 0).length === 1;
      },
      30_000,
      'three active nodes, one with the upstream',
    );
    assert.deepEqual(rows.map((r) => r.id).sort(), ['node-1', 'node-2', 'node-3']);
  });

  it('stops every node in order on SIGTERM and exits 0', async () => {
    const guard = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
    cluster.child.kill('SIGTERM');
    assert.equal(await Promise.race([cluster.exited, guard]), 0, cluster.stderrText.slice(-10).join('\n'));
    const stopped = cluster.lines.filter((l) => l.message === 'node stopped').map((l) => l['node-id']);
    assert.deepEqual(stopped, ['node-3', 'node-2', 'node-1']);
    assert.ok(cluster.lines.some((l) => l.message === 'test cluster stopped'));
    assert.ok(!cluster.lines.some((l) => l.level === 'error'), 'no error line');
  });
});

describe('piko-ts test cluster, resized by SIGHUP', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'piko-test-cluster-'));
  const file = join(dir, 'cluster.yaml');
  let cluster: Proc | undefined;

  after(async () => {
    await cluster?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** The node IDs of the next `cluster resized` line after `seen` such lines. */
  async function resized(seen: number): Promise<string[]> {
    const proc = cluster as Proc;
    await proc.waitFor(() => proc.lines.filter((l) => l.message === 'cluster resized').length > seen, 60_000);
    const line = proc.lines.filter((l) => l.message === 'cluster resized')[seen] as LogLine;
    return (line.nodes as StartedNode[]).map((n) => n['node-id']);
  }

  it('starts nodes when `nodes` grows and stops the oldest when it shrinks', async () => {
    writeFileSync(file, 'nodes: 1\n');
    cluster = spawnNode(CLI_JS, [
      'test', 'cluster', '--config.path', file,
      '--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr', '127.0.0.1:0', '--admin.bind-addr', '127.0.0.1:0',
    ]);
    const started = await cluster.waitFor((l) => l.message === 'test cluster started', 60_000);
    assert.deepEqual((started.nodes as StartedNode[]).map((n) => n['node-id']), ['node-1']);

    writeFileSync(file, 'nodes: 3\n');
    cluster.child.kill('SIGHUP');
    assert.deepEqual(await resized(0), ['node-1', 'node-2', 'node-3']);

    writeFileSync(file, 'nodes: 2\n');
    cluster.child.kill('SIGHUP');
    assert.deepEqual(await resized(1), ['node-2', 'node-3']);

    // A file that no longer loads leaves the cluster as it is.
    writeFileSync(file, 'nodes: zero\n');
    cluster.child.kill('SIGHUP');
    const failed = await cluster.waitFor((l) => l.message === 'reload failed: the cluster is unchanged', 30_000);
    assert.match(String(failed.error), /^config: nodes: must be a positive integer/);

    const guard = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
    cluster.child.kill('SIGTERM');
    assert.equal(await Promise.race([cluster.exited, guard]), 0);
    assert.deepEqual(cluster.lines.filter((l) => l.message === 'node stopped').map((l) => l['node-id']), ['node-1', 'node-3', 'node-2']);
  });

  it('exits 1 with one line naming a bad flag, before starting anything', async () => {
    const proc = spawnNode(CLI_JS, ['test', 'cluster', '--nodes', '0']);
    assert.equal(await proc.exited, 1);
    assert.deepEqual(proc.stderrText, ['config: nodes: must be a positive integer (got 0 from --nodes)']);
  });
});

describe('FrontProxy', { timeout: 60_000 }, () => {
  const clock = new SystemClock();
  let logger: InMemoryLogger;
  let front: FrontProxy;
  let targets: FrontTarget[];
  let addr: string;
  const servers: Server[] = [];

  /** An HTTP server on 127.0.0.1:0 that answers its name, and echoes WebSocket messages. */
  async function namedNode(name: string): Promise<FrontTarget> {
    const server = createServer((_req, res) => res.end(name));
    new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return { nodeId: name, addr: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  async function startFront(): Promise<void> {
    logger = new InMemoryLogger();
    targets = [];
    front = new FrontProxy({ name: 'proxy', targets: () => targets, picker: new RoundRobinPicker(), clock, logger });
    addr = formatAddress(await front.listen('127.0.0.1:0'));
  }

  afterEach(() => {
    front.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('spreads requests over its nodes in turn, naming each in a header', async () => {
    await startFront();
    targets.push(await namedNode('a'), await namedNode('b'));
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetchRaw(addr, { path: '/' });
      assert.equal(res.status, 200);
      assert.equal(res.headers[FRONT_NODE_HEADER], res.body.toString());
      answers.push(res.body.toString());
    }
    assert.deepEqual(answers, ['a', 'b', 'a', 'b']);
  });

  it('answers 503 JSON while no node is behind it', async () => {
    await startFront();
    const res = await fetchRaw(addr, { path: '/' });
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { error: 'no nodes available' });
    assert.equal((await rawExchange(addr, wsHandshake('/ws'))).status, 503);
  });

  it('answers 502 JSON naming a dead node, logs it, and goes on serving', async () => {
    await startFront();
    targets.push({ nodeId: 'dead', addr: `127.0.0.1:${await refusingPort()}` }, await namedNode('alive'));
    const first = await fetchRaw(addr, { path: '/x' });
    assert.equal(first.status, 502);
    assert.equal(first.headers[FRONT_NODE_HEADER], 'dead');
    assert.deepEqual(first.json(), { error: 'upstream unreachable' });
    const second = await fetchRaw(addr, { path: '/x' });
    assert.equal(second.status, 200);
    assert.equal(second.body.toString(), 'alive');
    const warned = logger.filter({ level: 'warn', message: 'node unreachable' });
    assert.equal(warned.length, 1);
    assert.equal(warned[0]?.fields['node-id'], 'dead');
  });

  it('answers a WebSocket upgrade to a dead node with 502 on the socket', async () => {
    await startFront();
    targets.push({ nodeId: 'dead', addr: `127.0.0.1:${await refusingPort()}` });
    const reply = await rawExchange(addr, wsHandshake('/ws'));
    assert.equal(reply.status, 502);
    assert.ok(reply.closed, 'the socket is closed after the answer');
  });

  it('carries WebSocket upgrades, and close() ends them', async () => {
    await startFront();
    targets.push(await namedNode('ws'));
    const ws = new WebSocket(`ws://${addr}/ws`, { perMessageDeflate: false });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('hello');
    assert.equal(await echoed, 'hello');
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    front.close();
    await closed;
  });

  it('answers a request it cannot parse with 400 and keeps serving', async () => {
    await startFront();
    targets.push(await namedNode('a'));
    const reply = await rawExchange(addr, 'GARBAGE\r\n\r\n');
    assert.equal(reply.status, 400);
    assert.match(reply.text, /"error":"bad request: HPE_/);
    assert.equal((await fetchRaw(addr, { path: '/' })).status, 200);
  });
});
