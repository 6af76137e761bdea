import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';

import { fetchRaw } from '../../support/http.js';
import { startInteropService, type InteropService } from '../../support/interop-service.js';
import { freePort, runPiko, SKIP_INTEROP, startGoAgent, startGoServer, type GoServer } from '../../support/piko-binary.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';

/** One node as `piko server status cluster nodes` prints it. */
interface CliNode {
  id: string;
  status: string;
  proxy_addr: string;
  admin_addr: string;
  endpoints: unknown;
  upstreams?: number;
}

/** The `# TYPE` of each `piko_*` family and the label names its samples carry (`le` aside). */
function families(text: string): Map<string, { type: string; labels: string }> {
  const out = new Map<string, { type: string; labels: string }>();
  for (const [, name, type] of text.matchAll(/^# TYPE (piko_\S+) (\S+)$/gm)) out.set(name!, { type: type!, labels: '' });
  for (const [, sample, labels] of text.matchAll(/^(piko_[a-z_]+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
    const family = out.get(sample!) ?? out.get(sample!.replace(/_(bucket|sum|count)$/, ''));
    if (family === undefined) continue;
    const names = [...labels!.matchAll(/(\w+)="/g)].map((m) => m[1]!).filter((n) => n !== 'le').sort().join(',');
    family.labels = names;
  }
  return out;
}

/**
 * Piko's status CLI against a piko-ts admin port, compared with its answers from a Piko server holding the same
 * endpoints; then the metric families of both after the same traffic.
 */
describe('interop status and metrics: Piko\'s CLI and scrapers against piko-ts', { skip: SKIP_INTEROP }, () => {
  let service: InteropService;
  let go: GoServer;
  let ts: ServerProc;
  const procs: Proc[] = [];
  const cli = (admin: string, ...args: string[]): ReturnType<typeof runPiko> =>
    runPiko(['server', 'status', ...args, '--server.url', `http://${admin}`]);

  before(async () => {
    service = await startInteropService();
    go = await startGoServer();
    ts = await startServer();
    for (const server of [go.addrs, ts.addrs]) {
      procs.push(await startGoAgent('http', 'status-a', String(service.port), server));
      procs.push(await startGoAgent('http', 'status-a', String(service.port), server));
      procs.push(await startAgent(['http', 'status-b', String(service.port), '--connect.url', `http://${server.upstream}`]));
    }
    // The same traffic through both: 200s, a 502 and a 400.
    for (const proxy of [go.addrs.proxy, ts.addrs.proxy]) {
      for (let i = 0; i < 3; i++) assert.equal((await fetchRaw(proxy, { path: '/echo/m', headers: { 'x-piko-endpoint': 'status-a' } })).status, 200);
      assert.equal((await fetchRaw(proxy, { headers: { 'x-piko-endpoint': 'nobody' } })).status, 502);
      assert.equal((await fetchRaw(proxy, { headers: { host: 'localhost' } })).status, 400);
    }
  });

  after(async () => {
    for (const proc of procs) await proc.stop();
    await go?.stop();
    await ts?.stop();
    await service?.close();
  });

  it('status upstream endpoints: the same map from both', async () => {
    const [fromGo, fromTs] = [await cli(go.addrs.admin, 'upstream', 'endpoints'), await cli(ts.addrs.admin, 'upstream', 'endpoints')];

    assert.equal(fromTs.code, 0, fromTs.stderr);
    assert.deepEqual(parse(fromTs.stdout), { 'status-a': 2, 'status-b': 1 });
    assert.deepEqual(parse(fromTs.stdout), parse(fromGo.stdout));
  });

  it('status cluster nodes: the same fields and counts, each server naming itself', async () => {
    for (const [server, admin, proxy] of [['Piko', go.addrs.admin, go.addrs.proxy], ['piko-ts', ts.addrs.admin, ts.addrs.proxy]] as const) {
      const out = await cli(admin, 'cluster', 'nodes');
      assert.equal(out.code, 0, `${server}: ${out.stderr}`);
      const { nodes } = parse(out.stdout) as { nodes: CliNode[] };
      assert.equal(nodes.length, 1, server);
      const { id, ...rest } = nodes[0]!;
      assert.match(id, /\S/, server);
      assert.deepEqual(rest, { status: 'active', proxy_addr: proxy, admin_addr: admin, endpoints: 2, upstreams: 3 }, server);
    }
    const filtered = await cli(ts.addrs.admin, 'cluster', 'nodes', '--status', 'left');
    assert.deepEqual(parse(filtered.stdout), { nodes: [] }, 'the CLI filters by status client-side');
  });

  it('status cluster node local|<id>: the endpoint map, from both', async () => {
    for (const [server, admin] of [['Piko', go.addrs.admin], ['piko-ts', ts.addrs.admin]] as const) {
      const local = await cli(admin, 'cluster', 'node', 'local');
      assert.equal(local.code, 0, `${server}: ${local.stderr}`);
      const node = parse(local.stdout) as CliNode;
      assert.deepEqual(node.endpoints, { 'status-a': 2, 'status-b': 1 }, server);
      const byId = await cli(admin, 'cluster', 'node', node.id);
      assert.deepEqual(parse(byId.stdout), node, server);
      const unknown = await cli(admin, 'cluster', 'node', 'no-such-node');
      assert.equal(unknown.code, 1, server);
      assert.match(unknown.stderr + unknown.stdout, /bad status: 404/, server);
    }
  });

  it('status gossip nodes|node <id>: the same fields and entries', async () => {
    const shapes: Array<{ meta: Record<string, unknown>; entries: Array<Record<string, unknown>> }> = [];
    for (const [server, admin] of [['Piko', go.addrs.admin], ['piko-ts', ts.addrs.admin]] as const) {
      const list = await cli(admin, 'gossip', 'nodes');
      assert.equal(list.code, 0, `${server}: ${list.stderr}`);
      const { nodes } = parse(list.stdout) as { nodes: Array<Record<string, unknown>> };
      assert.equal(nodes.length, 1, server);
      const one = await cli(admin, 'gossip', 'node', String(nodes[0]!.id));
      assert.equal(one.code, 0, `${server}: ${one.stderr}`);
      const parsed = parse(one.stdout) as { nodemetadata: Record<string, unknown>; entries: Array<Record<string, unknown>> };
      assert.deepEqual(parsed.nodemetadata, nodes[0], server);
      shapes.push({ meta: parsed.nodemetadata, entries: parsed.entries });
    }
    const [fromGo, fromTs] = shapes as [(typeof shapes)[0], (typeof shapes)[0]];
    assert.deepEqual(Object.keys(fromTs.meta), Object.keys(fromGo.meta));
    assert.deepEqual({ ...fromTs.meta, id: '', addr: '', version: 0 }, { ...fromGo.meta, id: '', addr: '', version: 0 });
    assert.match(String(fromTs.meta.addr), /^127\.0\.0\.1:\d+$/, 'the bound gossip address');
    const summary = (entries: Array<Record<string, unknown>>): unknown[] =>
      entries.map((e) => [e.key, e.key === 'proxy_addr' || e.key === 'admin_addr' ? 'addr' : e.value, e.internal, e.deleted]).sort();
    assert.deepEqual(summary(fromTs.entries), summary(fromGo.entries));
  });

  it('--forward: the local node\'s ID is served here; an unknown one fails with 404, on both', async () => {
    for (const [server, admin] of [['Piko', go.addrs.admin], ['piko-ts', ts.addrs.admin]] as const) {
      const local = parse((await cli(admin, 'cluster', 'node', 'local')).stdout) as CliNode;
      const forwarded = await cli(admin, 'upstream', 'endpoints', '--forward', local.id);
      assert.equal(forwarded.code, 0, `${server}: ${forwarded.stderr}`);
      const unknown = await cli(admin, 'upstream', 'endpoints', '--forward', 'no-such-node');
      assert.equal(unknown.code, 1, server);
      assert.match(unknown.stderr + unknown.stdout, /bad status: 404/, server);
    }
  });

  it('serves every piko_* metric family Piko serves, with the same type and label names', async () => {
    const [fromGo, fromTs] = [
      families((await fetchRaw(go.addrs.admin, { path: '/metrics' })).body.toString()),
      families((await fetchRaw(ts.addrs.admin, { path: '/metrics' })).body.toString()),
    ];

    assert.ok(fromGo.size >= 20, `Piko served ${fromGo.size} piko_* families`);
    const missing = [...fromGo].filter(([name, family]) => JSON.stringify(fromTs.get(name)) !== JSON.stringify(family));
    assert.deepEqual(missing.map(([name, family]) => [name, family, fromTs.get(name)]), []);
  });

  it('the agent metrics port (--server.enabled) serves Piko\'s piko_agent_* families with the same type and label names', { timeout: 30_000 }, async () => {
    const goPort = await freePort();
    const goAgent = await startGoAgent('http', 'agent-metrics', String(service.port), ts.addrs, [
      '--server.enabled', '--server.bind-addr', `127.0.0.1:${goPort}`,
    ]);
    procs.push(goAgent);
    const tsAgent = await startAgent([
      'http', 'agent-metrics-ts', String(service.port), '--connect.url', `http://${ts.addrs.upstream}`,
      '--server.enabled', '--server.bind-addr', '127.0.0.1:0',
    ]);
    procs.push(tsAgent);
    const tsMetricsAddr = String((await tsAgent.waitFor((l) => l.message === 'metrics server started')).addr);
    for (const endpoint of ['agent-metrics', 'agent-metrics-ts']) {
      for (let i = 0; i < 2; i++) {
        assert.equal((await fetchRaw(ts.addrs.proxy, { path: '/echo/agent', headers: { 'x-piko-endpoint': endpoint } })).status, 200);
      }
    }
    const [fromGo, fromTs] = [
      families((await fetchRaw(`127.0.0.1:${goPort}`, { path: '/metrics' })).body.toString()),
      families((await fetchRaw(tsMetricsAddr, { path: '/metrics' })).body.toString()),
    ];

    assert.equal(fromGo.size, 5, [...fromGo.keys()].join(' '));
    assert.deepEqual(Object.fromEntries(fromTs), Object.fromEntries(fromGo));
  });
});
