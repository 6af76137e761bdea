import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dial, listen, serveHttp } from '../../src/index.js';
import { eventually, fetchRaw, splitAddr } from '../support/http.js';
import { startAgent, startForward, startServer, type ForwardProc, type Proc, type ServerProc } from '../support/processes.js';

/** A TCP service on 127.0.0.1:0. */
async function tcpService(onConn: (s: Socket) => void): Promise<{ server: Server; port: number; close(): void }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  return { server, port: (server.address() as AddressInfo).port, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

/** Reads a socket to its end. */
async function readAll(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function connectTo(addr: string): Promise<Socket> {
  const [host, port] = splitAddr(addr);
  const s = connect({ host, port, allowHalfOpen: true });
  return once(s, 'connect').then(() => s);
}

/** Half-close aware echo: answers `bye:<bytes received>` after the client's FIN, then closes. */
const halfCloseService = (s: Socket): void => {
  let n = 0;
  s.on('data', (c: Buffer) => (n += c.length));
  s.on('end', () => s.end(`bye:${n}`));
  s.on('error', () => s.destroy());
};

describe('TCP through forward → server → agent → service', () => {
  let server: ServerProc;
  let agent: Proc;
  let fwd: ForwardProc;
  let svc: Awaited<ReturnType<typeof tcpService>>;

  before(async () => {
    svc = await tcpService(halfCloseService);
    server = await startServer();
    agent = await startAgent(['tcp', 'tcp-svc', `127.0.0.1:${svc.port}`, '--connect.url', `http://${server.addrs.upstream}`]);
    fwd = await startForward('tcp-svc', server.addrs.proxy);
  });

  after(async () => {
    await fwd?.stop();
    await agent?.stop();
    await server?.stop();
    svc?.close();
  });

  it('keeps half-close: the client shuts its write side and still reads the answer', async () => {
    const s = await connectTo(fwd.addr);
    s.write('hello ');
    s.end('world');
    const reply = await readAll(s);
    assert.equal(reply.toString(), 'bye:11');
  });

  it('carries 500 concurrent connections over one agent', async () => {
    const sockets = await Promise.all(Array.from({ length: 500 }, () => connectTo(fwd.addr)));
    const replies = sockets.map((s) => readAll(s));
    // Every connection is open at once before any finishes.
    sockets.forEach((s, i) => s.end(`conn-${i}`));
    const texts = (await Promise.all(replies)).map((b) => b.toString());
    texts.forEach((t, i) => assert.equal(t, `bye:${`conn-${i}`.length}`));
  });

  it('reconnects the agent after a restart while forward is idle; the next connection works', async () => {
    await agent.stop('SIGKILL');
    agent = await startAgent(['tcp', 'tcp-svc', `127.0.0.1:${svc.port}`, '--connect.url', `http://${server.addrs.upstream}`]);
    const s = await connectTo(fwd.addr);
    s.end('again');
    assert.equal((await readAll(s)).toString(), 'bye:5');
  });

  it('closes the local connection with a logged reason when the endpoint has no upstream', async () => {
    const other = await startForward('nobody-home', server.addrs.proxy);
    try {
      const s = await connectTo(other.addr);
      const data = await readAll(s).catch(() => Buffer.alloc(0));
      assert.equal(data.length, 0);
      const line = await other.waitFor((l) => l.message === 'tunnel refused');
      assert.match(String(line.error), /502: no available upstreams/);
    } finally {
      await other.stop();
    }
  });

  it('answers the TCP route with 502 JSON before the upgrade when no upstream exists', async () => {
    const res = await fetchRaw(server.addrs.proxy, {
      path: '/_piko/v1/tcp/nobody-home',
      headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'no available upstreams' });
  });
});

describe('a real TCP protocol: Redis through the tunnel', () => {
  const haveRedis = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

  it('serves redis-cli and redis-benchmark through forward → server → agent → redis-server', { skip: haveRedis ? false : 'redis-server/redis-cli not installed (.ci/run installs them)' }, async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const server = await startServer();
    let agent: Proc | undefined;
    let fwd: ForwardProc | undefined;
    try {
      await eventually(() => spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG') ?? false, 10_000, 'redis');
      agent = await startAgent(['tcp', 'redis', `127.0.0.1:${port}`, '--connect.url', `http://${server.addrs.upstream}`]);
      fwd = await startForward('redis', server.addrs.proxy);
      const [, fport] = splitAddr(fwd.addr);
      const set = spawnSync('redis-cli', ['-p', String(fport), 'set', 'greeting', 'through the tunnel'], { encoding: 'utf8' });
      assert.equal(set.stdout.trim(), 'OK');
      const get = spawnSync('redis-cli', ['-p', String(fport), 'get', 'greeting'], { encoding: 'utf8' });
      assert.equal(get.stdout.trim(), 'through the tunnel');
      const bench = spawnSync('redis-benchmark', ['-p', String(fport), '-n', '2000', '-c', '20', '-q', '-t', 'set,get'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(bench.status, 0, bench.stderr);
      assert.match(bench.stdout, /SET: .*requests per second/);
      assert.match(bench.stdout, /GET: .*requests per second/);
    } finally {
      await fwd?.stop();
      await agent?.stop();
      await server.stop();
      redis.kill();
    }
  });
});

describe('SDK', () => {
  let server: ServerProc;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('serves an HTTP app from the process with serveHttp (no agent)', async () => {
    const listener = await serveHttp('sdk-http', (req, res) => res.end(`sdk saw ${req.method} ${req.url}`), {
      url: `http://${server.addrs.upstream}`,
    });
    try {
      const res = await fetchRaw(server.addrs.proxy, { path: '/from-sdk', headers: { 'x-piko-endpoint': 'sdk-http' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'sdk saw GET /from-sdk');
    } finally {
      listener.shutdown();
    }
  });

  it('listens for raw TCP connections and dials them, with half-close, and close() drains', async () => {
    const listener = await listen('sdk-echo', { url: `http://${server.addrs.upstream}` });
    let connections = 0;
    listener.on('connection', (socket) => {
      connections++;
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => socket.end(Buffer.concat(chunks).toString().toUpperCase()));
    });
    const conn = await dial('sdk-echo', { url: `http://${server.addrs.proxy}` });
    conn.end('shout please');
    const chunks: Buffer[] = [];
    for await (const c of conn) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'SHOUT PLEASE');
    assert.equal(connections, 1);
    await listener.close();
    await assert.rejects(dial('sdk-echo', { url: `http://${server.addrs.proxy}` }), /502: no available upstreams/);
  });
});

/** Sends 1 GiB to `addr`, ends, and reads the service's answer: a digest line, then 1 GiB. */
async function roundTrip(addr: string, GIB: number, CHUNK: Buffer): Promise<{ header: string; received: number; digest: string; seconds: number }> {
  const s = await connectTo(addr);
  const t0 = Date.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < GIB) {
        sent += CHUNK.length;
        if (!s.write(CHUNK)) return;
      }
      s.end();
      resolve();
    };
    s.on('drain', pump);
    pump();
  });
  const h = createHash('sha256');
  let header = '';
  let received = 0;
  for await (const c of s) {
    let chunk = c as Buffer;
    if (!header.endsWith('\n')) {
      const nl = chunk.indexOf(10);
      header += chunk.subarray(0, nl < 0 ? chunk.length : nl + 1).toString();
      chunk = nl < 0 ? Buffer.alloc(0) : chunk.subarray(nl + 1);
    }
    h.update(chunk);
    received += chunk.length;
  }
  return { header, received, digest: h.digest('hex'), seconds: (Date.now() - t0) / 1000 };
}

describe('1 GiB each way through forward with bounded memory', () => {
  const GIB = 1024 * 1024 * 1024;
  const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

  it('moves 1 GiB up and 1 GiB down byte-identical; server, agent and forward RSS grow < 100 MB', async () => {
    // The service hashes what it receives and, after the client's FIN, sends as many bytes back.
    const svc = await tcpService((s) => {
      const h = createHash('sha256');
      let n = 0;
      s.on('data', (c: Buffer) => (h.update(c), (n += c.length)));
      s.on('end', () => {
        s.write(`${n}:${h.digest('hex')}\n`);
        let sent = 0;
        const pump = (): void => {
          while (sent < n) {
            sent += CHUNK.length;
            if (!s.write(CHUNK)) return;
          }
          s.end();
        };
        s.on('drain', pump);
        pump();
      });
    });
    const server = await startServer(['--proxy.access-log.disable']);
    const agent = await startAgent(['tcp', 'bulk-tcp', `127.0.0.1:${svc.port}`, '--connect.url', `http://${server.addrs.upstream}`]);
    const fwd = await startForward('bulk-tcp', server.addrs.proxy);
    try {
      // Warm-up: 64 MiB each way on another connection, so the baseline is a process that has carried traffic.
      const warm = await connectTo(fwd.addr);
      warm.end(Buffer.alloc(64 * 1024 * 1024, 1));
      let warmBack = 0;
      for await (const c of warm) warmBack += (c as Buffer).length;
      assert.ok(warmBack > 64 * 1024 * 1024);
      const procs = [server, agent, fwd];
      const base = procs.map((p) => p.rss());
      const peak = [...base];
      const timer = setInterval(() => procs.forEach((p, i) => (peak[i] = Math.max(peak[i]!, p.rss()))), 100);
      const { header, received, digest: downDigest, seconds } = await roundTrip(fwd.addr, GIB, CHUNK);
      clearInterval(timer);
      const growth = peak.map((p, i) => p - base[i]!);
      process.stderr.write(
        `tcp 2 GiB round trip: ${((2 * GIB) / 1048576 / seconds).toFixed(0)} MiB/s; RSS growth server ${(growth[0]! / 1e6).toFixed(1)} MB, agent ${(growth[1]! / 1e6).toFixed(1)} MB, forward ${(growth[2]! / 1e6).toFixed(1)} MB\n`,
      );
      const expected = createHash('sha256');
      for (let i = 0; i < GIB / CHUNK.length; i++) expected.update(CHUNK);
      const digest = expected.digest('hex');
      assert.equal(header.trim(), `${GIB}:${digest}`, 'upload intact');
      assert.equal(received, GIB);
      assert.equal(downDigest, digest, 'download intact');
      const direct = await roundTrip(`127.0.0.1:${svc.port}`, GIB, CHUNK);
      assert.equal(direct.received, GIB);
      process.stderr.write(`tcp 2 GiB round trip direct to the service: ${((2 * GIB) / 1048576 / direct.seconds).toFixed(0)} MiB/s\n`);
      growth.forEach((g, i) => assert.ok(g < 100e6, `process ${i} RSS grew ${g} bytes`));
    } finally {
      await fwd.stop();
      await agent.stop();
      await server.stop();
      svc.close();
    }
  });
});
