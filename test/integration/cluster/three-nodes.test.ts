import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { clusterNodes, poll, type NodeRow } from '../../support/cluster/loopback-cluster.js';
import { fetchRaw, splitAddr, startService } from '../../support/http.js';
import { startAgent, startForward, startServer, type ForwardProc, type Proc, type ServerProc } from '../../support/processes.js';

/** The gossip address a server logged at start (it binds port 0). */
async function gossipAddr(p: Proc): Promise<string> {
  const line = await p.waitFor((l) => l.message === 'gossip started');
  return String(line['bind-addr']);
}

const statusOf = (rows: NodeRow[] | undefined, id: string): string | undefined => rows?.find((r) => r.id === id)?.status;

describe('three server processes joined over UDP gossip', { timeout: 120_000 }, () => {
  const procs: Proc[] = [];
  let a: ServerProc;
  let b: ServerProc;
  let c: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  let echo: Server;
  const echoSockets = new Set<Socket>();
  let fwd: ForwardProc;
  let agentConnectedAt = 0;

  before(async () => {
    service = await startService((req, res) => res.end(`svc ${req.url}`));
    const wss = new WebSocketServer({ server: service.server });
    wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    echo = createServer((s) => {
      echoSockets.add(s);
      s.on('error', () => undefined).on('close', () => echoSockets.delete(s));
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));

    a = await startServer(['--cluster.node-id', 'node-a']);
    procs.push(a);
    const seed = await gossipAddr(a);
    b = await startServer(['--cluster.node-id', 'node-b', '--cluster.join', seed]);
    procs.push(b);
    c = await startServer(['--cluster.node-id', 'node-c', '--cluster.join', seed]);
    procs.push(c);
    procs.push(await startAgent(['http', 'web', `127.0.0.1:${service.port}`, '--connect.url', `http://${a.addrs.upstream}`]));
    agentConnectedAt = Date.now();
    procs.push(await startAgent(['tcp', 'echo', `127.0.0.1:${(echo.address() as AddressInfo).port}`, '--connect.url', `http://${a.addrs.upstream}`]));
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    for (const s of echoSockets) s.destroy();
    echo?.close();
    await service?.close();
  });

  it('serves HTTP through B and C, which have no upstream, within a bounded wait', async () => {
    const ok = async (node: ServerProc): Promise<boolean> => {
      try {
        const res = await fetchRaw(node.addrs.proxy, { path: '/hello', headers: { 'x-piko-endpoint': 'web' }, timeoutMs: 5_000 });
        return res.status === 200 && res.body.toString() === 'svc /hello';
      } catch {
        return false;
      }
    };
    await poll(async () => (await ok(b)) && (await ok(c)), 15_000, 'requests through B and C to succeed');
    console.log(`# agent connected on A -> requests through B and C succeed: ${Date.now() - agentConnectedAt} ms`);
    for (const node of [b, c]) {
      const res = await fetchRaw(node.addrs.proxy, { path: '/again', headers: { 'x-piko-endpoint': 'web' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'svc /again');
    }
  });

  it('carries a WebSocket through C to the service on A', async () => {
    const ws = new WebSocket(`ws://${c.addrs.proxy}/ws`, { headers: { 'x-piko-endpoint': 'web' }, perMessageDeflate: false });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const reply = new Promise<string>((resolve, reject) => {
        ws.once('message', (d: Buffer) => resolve(d.toString()));
        ws.once('error', reject);
      });
      ws.send('ping over c');
      assert.equal(await reply, 'ping over c');
    } finally {
      ws.terminate();
    }
  });

  it('carries TCP bytes through a forward on B to the echo behind the agent on A', async () => {
    fwd = await startForward('echo', b.addrs.proxy);
    procs.push(fwd);
    const [host, port] = splitAddr(fwd.addr);
    const sock = connect(port, host);
    try {
      const got = await new Promise<string>((resolve, reject) => {
        let acc = '';
        sock.setEncoding('utf8');
        sock.on('error', reject);
        sock.on('data', (d: string) => {
          acc += d;
          if (acc.length >= 12) resolve(acc);
        });
        sock.on('connect', () => sock.write('tcp via b!!\n'));
        setTimeout(() => reject(new Error(`no echo; got ${JSON.stringify(acc)}`)), 15_000).unref();
      });
      assert.equal(got, 'tcp via b!!\n');
    } finally {
      sock.destroy();
    }
  });

  it('lists 3 active nodes on every node', async () => {
    for (const node of [a, b, c]) {
      await poll(
        async () => {
          const rows = await clusterNodes(node.addrs.admin);
          return rows !== undefined && rows.length === 3 && rows.every((r) => r.status === 'active');
        },
        15_000,
        `3 active nodes on ${node.addrs.admin}`,
      );
      const rows = (await clusterNodes(node.addrs.admin)) ?? [];
      assert.deepEqual(rows.map((r) => r.id).sort(), ['node-a', 'node-b', 'node-c']);
      assert.equal(rows.find((r) => r.id === 'node-a')?.endpoints, 2, 'A publishes the http and tcp endpoints');
    }
  });

  it('marks A unreachable on B and C after A is killed with SIGKILL', async () => {
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const times: number[] = [];
    await Promise.all(
      [b, c].map(async (node) => {
        await poll(async () => statusOf(await clusterNodes(node.addrs.admin), 'node-a') === 'unreachable', 15_000, `A unreachable on ${node.addrs.admin}`);
        times.push(Date.now() - killedAt);
      }),
    );
    console.log(`# SIGKILL of A -> unreachable on B and C after ${times.sort((x, y) => x - y).join(' ms, ')} ms`);
  });

  it('sees C leave promptly after SIGTERM and never active again', async () => {
    const stoppedAt = Date.now();
    const exit = c.stop('SIGTERM');
    const leftOrGone = (rows: NodeRow[] | undefined): boolean => rows !== undefined && ['left', undefined].includes(statusOf(rows, 'node-c'));
    await poll(async () => leftOrGone(await clusterNodes(b.addrs.admin)), 15_000, 'C left on B');
    console.log(`# SIGTERM of C -> left (or gone) on B after ${Date.now() - stoppedAt} ms`);
    assert.equal(await exit, 0);
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const status = statusOf(await clusterNodes(b.addrs.admin), 'node-c');
      assert.notEqual(status, 'active', 'C is never active again');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
