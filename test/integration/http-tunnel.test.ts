import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { eventually, fetchRaw, openStream, startService } from '../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../support/processes.js';

const EP = { 'x-piko-endpoint': 'my-app' };

describe('HTTP through the tunnel (server + agent processes, real service)', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;
  const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];
  const aborted: string[] = [];

  before(async () => {
    service = await startService((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(chunks).toString() });
        if (req.url === '/sse') {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
          let n = 0;
          const timer = setInterval(() => {
            res.write(`data: ${n++} ${Date.now()}\n\n`);
            if (n === 5) {
              clearInterval(timer);
              res.end();
            }
          }, 200);
          res.on('close', () => clearInterval(timer));
          return;
        }
        if (req.url === '/slow-headers') {
          const t = setTimeout(() => res.end('late'), 3_000);
          res.on('close', () => clearTimeout(t));
          return;
        }
        if (req.url === '/endless') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(64 * 1024, 7);
          const pump = (): void => {
            while (res.write(chunk)) {
              /* keep writing until backpressure */
            }
          };
          res.on('drain', pump);
          res.on('close', () => aborted.push('endless'));
          pump();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-service', 'yes');
        res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString() }));
      });
    });
    const ws = new WebSocketServer({ server: service.server });
    ws.on('connection', (sock) => sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary })));
    server = await startServer(['--proxy.timeout', '1s']);
    agent = await startAgent(['http', 'my-app', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  it('carries a GET and a POST with bodies intact, keeping Host and adding X-Forwarded-*', async () => {
    const get = await fetchRaw(server.addrs.proxy, { path: '/hello?x=1', headers: { ...EP, host: 'example.test' } });
    assert.equal(get.status, 200);
    assert.equal(get.headers['x-service'], 'yes');
    assert.deepEqual(get.json(), { method: 'GET', url: '/hello?x=1', body: '' });
    const body = 'x'.repeat(100_000);
    const post = await fetchRaw(server.addrs.proxy, { method: 'POST', path: '/p', headers: { ...EP, 'content-type': 'text/plain' }, body });
    assert.equal(post.status, 200);
    assert.equal(post.json<{ body: string }>().body, body);
    const last = seen.find((s) => s.url === '/hello?x=1');
    assert.ok(last);
    assert.equal(last.headers.host, 'example.test');
    assert.equal(last.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(last.headers['x-forwarded-proto'], 'http');
  });

  it('routes by the first label of Host', async () => {
    const res = await fetchRaw(server.addrs.proxy, { path: '/by-host', headers: { host: 'my-app.piko.example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.json<{ url: string }>().url, '/by-host');
  });

  it('never passes the tunnel\'s internal headers to the service', async () => {
    await fetchRaw(server.addrs.proxy, {
      path: '/internal',
      headers: { ...EP, 'x-piko-authorization': 'Bearer secret', 'x-piko-forward': 'true', authorization: 'Bearer app' },
    });
    const s = seen.find((x) => x.url === '/internal');
    assert.ok(s);
    assert.equal(s.headers['x-piko-authorization'], undefined);
    assert.equal(s.headers['x-piko-endpoint'], undefined);
    assert.equal(s.headers['x-piko-forward'], undefined);
    assert.equal(s.headers.authorization, 'Bearer app', 'the application\'s own Authorization is kept');
  });

  it('answers 400 for a missing or invalid endpoint and 502 for an endpoint with no upstream', async () => {
    const missing = await fetchRaw(server.addrs.proxy, { headers: { host: 'localhost' } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json(), { error: 'missing endpoint id' });
    const ip = await fetchRaw(server.addrs.proxy, { headers: { host: '1.2.3.4:8000' } });
    assert.equal(ip.status, 400);
    const invalid = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'bad/id' } });
    assert.equal(invalid.status, 400);
    assert.match(invalid.json<{ error: string }>().error, /invalid endpoint id/);
    const none = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'nobody-here' } });
    assert.equal(none.status, 502);
    assert.deepEqual(none.json(), { error: 'no available upstreams' });
  });

  it('answers 504 when the service sends no headers within proxy.timeout', async () => {
    const started = Date.now();
    const res = await fetchRaw(server.addrs.proxy, { path: '/slow-headers', headers: EP });
    assert.equal(res.status, 504);
    assert.deepEqual(res.json(), { error: 'upstream timeout' });
    assert.ok(Date.now() - started < 2_500, 'the timeout fires near 1 s');
  });

  it('streams SSE events as the service sends them, past proxy.timeout (1 s)', async () => {
    const { res } = await openStream(server.addrs.proxy, '/sse', EP);
    assert.equal(res.statusCode, 200);
    const arrivals: Array<{ n: number; lagMs: number }> = [];
    let buf = '';
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const [n, sentAt] = buf.slice(6, i).split(' ').map(Number);
        arrivals.push({ n: n ?? -1, lagMs: Date.now() - (sentAt ?? 0) });
        buf = buf.slice(i + 2);
      }
    }
    assert.deepEqual(arrivals.map((a) => a.n), [0, 1, 2, 3, 4]);
    for (const a of arrivals) assert.ok(a.lagMs < 150, `event ${a.n} arrived ${a.lagMs} ms after it was sent`);
  });

  it('carries a WebSocket upgrade end to end (echo)', async () => {
    const [host, port] = server.addrs.proxy.split(':');
    const ws = new WebSocket(`ws://${host}:${port}/echo`, { headers: EP });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(String(d)));
    for (const m of ['one', 'two', 'three']) ws.send(m);
    const big = Buffer.alloc(300_000, 3);
    ws.send(big);
    await eventually(() => replies.length === 4, 5_000, 'echo replies');
    assert.deepEqual(replies.slice(0, 3), ['one', 'two', 'three']);
    assert.equal(replies[3]?.length, big.length);
    ws.close();
  });

  it('resets the stream when the client disconnects mid-download, and the agent aborts its local request', async () => {
    const { res, abort } = await openStream(server.addrs.proxy, '/endless', EP);
    let received = 0;
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received > 2 * 1024 * 1024) resolve();
      });
    });
    abort();
    await eventually(() => aborted.includes('endless'), 5_000, 'the service to see its response closed');
  });

  it('keeps the downstream connection alive across requests', async () => {
    const { Agent, request } = await import('node:http');
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const [host, port] = server.addrs.proxy.split(':');
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host, port: Number(port), path: '/ka', headers: EP, agent: keepAlive }, (res) => {
          ports.add(res.socket.localPort ?? 0);
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
    }
    keepAlive.destroy();
    assert.equal(ports.size, 1, 'one client connection served all five requests');
  });

  it('exposes health, readiness, metrics and the endpoint status on the admin port', async () => {
    assert.equal((await fetchRaw(server.addrs.admin, { path: '/health' })).status, 200);
    assert.equal((await fetchRaw(server.addrs.admin, { path: '/ready' })).status, 200);
    const metrics = (await fetchRaw(server.addrs.admin, { path: '/metrics' })).body.toString();
    assert.match(metrics, /piko_proxy_requests_total\{status="200",method="GET"\} \d+/);
    assert.match(metrics, /piko_upstreams_connected_upstreams 1/);
    const status = await fetchRaw(server.addrs.admin, { path: '/status/upstream/endpoints' });
    assert.deepEqual(status.json(), { 'my-app': 1 });
  });

  it('writes an access-log line per proxied request, with credentials redacted', async () => {
    await fetchRaw(server.addrs.proxy, { path: '/logged', headers: { ...EP, authorization: 'Bearer top-secret' } });
    const line = await server.waitFor((l) => l.subsystem === 'proxy.access' && JSON.stringify(l).includes('/logged'));
    const text = JSON.stringify(line);
    assert.ok(!text.includes('top-secret'), 'the token is not logged');
    assert.match(text, /"status":200/);
    assert.equal(line['endpoint-id'], 'my-app');
  });
});

describe('load sharing and failover', () => {
  it('shares requests between three agents on one endpoint', async () => {
    const services = await Promise.all(
      [0, 1, 2].map((i) => startService((_req, res) => res.end(String(i)))),
    );
    const server = await startServer();
    const agents = await Promise.all(
      services.map((s) => startAgent(['http', 'shared', String(s.port), '--connect.url', `http://${server.addrs.upstream}`])),
    );
    try {
      const counts = [0, 0, 0];
      for (let i = 0; i < 30; i++) {
        const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'shared' } });
        assert.equal(res.status, 200);
        counts[Number(res.body.toString())]! += 1;
      }
      assert.deepEqual(counts, [10, 10, 10], 'round-robin over the three upstreams');
    } finally {
      await Promise.all(agents.map((a) => a.stop()));
      await server.stop();
      await Promise.all(services.map((s) => s.close()));
    }
  });

  it('answers 502 promptly when the agent is killed mid-request, and routes to the survivor afterwards', async () => {
    const hang = await startService((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.end('alive');
    });
    const server = await startServer(['--proxy.timeout', '0s']);
    const a1 = await startAgent(['http', 'fo', String(hang.port), '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      const pending = fetchRaw(server.addrs.proxy, { path: '/hang', headers: { 'x-piko-endpoint': 'fo' } });
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = Date.now();
      await a1.stop('SIGKILL');
      const res = await pending;
      assert.equal(res.status, 502);
      assert.deepEqual(res.json(), { error: 'upstream unreachable' });
      assert.ok(Date.now() - killedAt < 2_000, 'no hang after the agent died');
      await eventually(async () => (await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'fo' } })).status === 502, 5_000);
      const a2 = await startAgent(['http', 'fo', String(hang.port), '--connect.url', `http://${server.addrs.upstream}`]);
      const ok = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'fo' } });
      assert.equal(ok.status, 200);
      await a2.stop();
    } finally {
      await server.stop();
      await hang.close();
    }
  });

  it('reconnects by itself after the server restarts, and traffic resumes', async () => {
    const svc = await startService((_req, res) => res.end('back'));
    const first = await startServer();
    const upstreamPort = first.addrs.upstream.split(':')[1]!;
    const agent = await startAgent(['http', 'rc', String(svc.port), '--connect.url', `http://${first.addrs.upstream}`]);
    try {
      assert.equal((await fetchRaw(first.addrs.proxy, { headers: { 'x-piko-endpoint': 'rc' } })).status, 200);
      assert.equal(await first.stop(), 0, 'graceful stop exits 0');
      await agent.waitFor((l) => l.message === 'disconnected; reconnecting');
      const second = await startServer(['--upstream.bind-addr', `127.0.0.1:${upstreamPort}`]);
      try {
        await agent.waitFor((l) => l.message === 'connected' && l.reconnect === true, 20_000);
        const res = await fetchRaw(second.addrs.proxy, { headers: { 'x-piko-endpoint': 'rc' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), 'back');
      } finally {
        await second.stop();
      }
    } finally {
      await agent.stop();
      await svc.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets in-flight requests finish on SIGTERM of the server and of the agent, then exits 0', async () => {
    const svc = await startService((_req, res) => setTimeout(() => res.end('done'), 800));
    const server = await startServer();
    const agent = await startAgent(['http', 'gs', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      const viaAgent = fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'gs' } });
      await new Promise((r) => setTimeout(r, 200));
      const agentExit = agent.stop('SIGTERM');
      const res = await viaAgent;
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'done');
      assert.equal(await agentExit, 0);

      const agent2 = await startAgent(['http', 'gs', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`]);
      const viaServer = fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'gs' } });
      await new Promise((r) => setTimeout(r, 200));
      const serverExit = server.stop('SIGTERM');
      await eventually(async () => (await fetchRaw(server.addrs.admin, { path: '/ready' }).catch(() => ({ status: 0 }))).status !== 200, 2_000);
      const res2 = await viaServer;
      assert.equal(res2.status, 200);
      assert.equal(await serverExit, 0);
      await agent2.stop();
    } finally {
      await server.stop();
      await svc.close();
    }
  });
});

/** Hex SHA-256 of a buffer. */
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('draining an agent under load', () => {
  it('loses no request when one of two agents is stopped (SIGTERM) while traffic flows', async () => {
    const svc = await startService((_req, res) => setTimeout(() => res.end('ok'), 20));
    const server = await startServer();
    const args = ['http', 'drain', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`];
    const a1 = await startAgent(args);
    const a2 = await startAgent(args);
    try {
      const statuses: number[] = [];
      let stopped: Promise<number | null> | undefined;
      // 10 workers × 40 requests each (bounded), the first agent stopped after the first 100 answers.
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < 40; i++) {
            const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'drain' } });
            statuses.push(res.status);
            if (statuses.length === 100) stopped = a1.stop('SIGTERM');
          }
        }),
      );
      assert.equal(statuses.length, 400);
      assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every request succeeded');
      assert.equal(await stopped, 0, 'the drained agent exited 0');
    } finally {
      await a1.stop();
      await a2.stop();
      await server.stop();
      await svc.close();
    }
  });
});

describe('keep-alive to the local service', () => {
  it('sends a safe request again on a fresh connection when a reused one turns out closed (reset)', async () => {
    // A service that answers the first request of each connection with keep-alive, then resets the connection
    // when a second request arrives on it, as a server does when its idle timeout races the client's reuse.
    const { createServer: createTcpServer } = await import('node:net');
    let connections = 0;
    const svc = createTcpServer((sock) => {
      connections++;
      let requests = 0;
      sock.on('data', () => {
        requests++;
        if (requests === 1) sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
        else sock.resetAndDestroy();
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => svc.listen(0, '127.0.0.1', r));
    const port = (svc.address() as { port: number }).port;
    const server = await startServer();
    const agent = await startAgent(['http', 'stale', `127.0.0.1:${port}`, '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'stale' } });
        assert.equal(res.status, 200, `request ${i + 1}`);
        assert.equal(res.body.toString(), 'ok');
      }
      assert.equal(connections, 3, 'each reset connection was replaced by a fresh one');
      const post = await fetchRaw(server.addrs.proxy, { method: 'POST', headers: { 'x-piko-endpoint': 'stale' }, body: 'x' });
      assert.equal(post.status, 502, 'a request with a body is not replayed');
    } finally {
      await agent.stop();
      await server.stop();
      svc.close();
    }
  });
});

describe('the agent listener timeout', () => {
  it('answers 504 from the agent when the local service sends no headers within --timeout, but never cuts a slow body', async () => {
    const svc = await startService((req, res) => {
      if (req.url === '/stall') return; // no headers, ever
      res.writeHead(200);
      res.write('a');
      setTimeout(() => res.end('b'), 1_200); // body slower than the timeout
    });
    const server = await startServer(['--proxy.timeout', '0s']);
    const agent = await startAgent(['http', 'slow', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`, '--timeout', '500ms']);
    try {
      const t0 = Date.now();
      const stalled = await fetchRaw(server.addrs.proxy, { path: '/stall', headers: { 'x-piko-endpoint': 'slow' } });
      assert.equal(stalled.status, 504);
      assert.deepEqual(stalled.json(), { error: 'upstream timeout' });
      assert.ok(Date.now() - t0 < 3_000);
      const slowBody = await fetchRaw(server.addrs.proxy, { path: '/drip', headers: { 'x-piko-endpoint': 'slow' } });
      assert.equal(slowBody.status, 200);
      assert.equal(slowBody.body.toString(), 'ab');
    } finally {
      await agent.stop();
      await server.stop();
      await svc.close();
    }
  });
});
