import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { eventually, fetchRaw, startService } from '../support/http.js';
import { readRss, startAgent, startServer, type Proc, type ServerProc } from '../support/processes.js';
import {
  allEnded,
  countFds,
  openSocket,
  openSockets,
  rawExchange,
  refusingPort,
  startEchoService,
  startSlowloris,
  wsHandshake,
} from '../support/raw-client.js';

/*
 * A hostile client of the proxy port, against a real server process with a healthy HTTP endpoint ("web"), a TCP
 * endpoint ("tcp-echo") and a TCP endpoint whose service refuses ("tcp-refused"). Every attack asserts that the
 * node stays up, that the healthy endpoints keep answering, and that descriptors (and, loosely, memory) return
 * to their baseline. No assertion depends on speed: every wait is a generous deadlock guard.
 */

/** Sends `text` over the proxy port's TCP route to `endpoint` and resolves with what comes back. */
async function tcpRouteEcho(proxy: string, endpoint: string, text = 'ping'): Promise<string> {
  const ws = new WebSocket(`ws://${proxy}/_piko/v1/tcp/${endpoint}`, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  try {
    await once(ws, 'open');
    ws.send(Buffer.from(text), { binary: true });
    const [data] = (await once(ws, 'message')) as [Buffer];
    return data.toString();
  } finally {
    ws.terminate();
  }
}

/** Closes every socket and waits until each has closed. */
async function closeAll(sockets: readonly Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => (s.destroyed ? undefined : (s.destroy(), once(s, 'close')))));
}

/** Smuggling attempts: each is followed by a request for /smuggled that must never reach the service. */
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: web.example.com\r\n\r\n';
const SMUGGLING: ReadonlyArray<readonly [string, string]> = [
  ['CL+TE', 'POST /a HTTP/1.1\r\nHost: web.example.com\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['TE+CL', 'POST /a HTTP/1.1\r\nHost: web.example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n'],
  ['duplicate Content-Length', 'POST /a HTTP/1.1\r\nHost: web.example.com\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello'],
  ['obs-fold', 'GET /a HTTP/1.1\r\nHost: web.example.com\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['space before colon', 'POST /a HTTP/1.1\r\nHost: web.example.com\r\nContent-Length : 5\r\n\r\nhello'],
  ['TE not chunked last', 'POST /a HTTP/1.1\r\nHost: web.example.com\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
  ['bad chunk size', 'POST /chunk HTTP/1.1\r\nHost: web.example.com\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n'],
  ['huge chunk size', 'POST /chunk HTTP/1.1\r\nHost: web.example.com\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n'],
  ['bare LF', 'GET /a HTTP/1.1\nHost: web.example.com\n\n'],
];

const HEADER_TIMEOUT_MS = 3_000;
/** Slack on descriptor counts (a pooled stream, a log file...): a leak of N connections is far above it. */
const FD_SLACK = 8;
const MIB = 1024 * 1024;

describe('adversarial clients of the proxy port', () => {
  let server: ServerProc;
  const agents: Proc[] = [];
  let refusedAgent: Proc;
  let web: Awaited<ReturnType<typeof startService>>;
  let echo: Awaited<ReturnType<typeof startEchoService>>;
  const seen: string[] = [];

  const pid = (): number => server.child.pid ?? 0;
  const fds = (): number => countFds(pid());
  const healthy = async (): Promise<void> => {
    assert.equal(server.child.exitCode, null, 'the server process is still running');
    const res = await fetchRaw(server.addrs.proxy, { path: '/health-check', headers: { 'x-piko-endpoint': 'web' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'web:/health-check');
    assert.equal(await tcpRouteEcho(server.addrs.proxy, 'tcp-echo'), 'ping');
  };
  const backToBaseline = (baseline: number): Promise<void> =>
    eventually(() => fds() <= baseline + FD_SLACK, 20_000, `server descriptors back near ${baseline} (now ${fds()})`);

  before(async () => {
    web = await startService((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end(`web:${req.url ?? ''}`));
    });
    echo = await startEchoService();
    server = await startServer([
      '--proxy.http.read-header-timeout', `${HEADER_TIMEOUT_MS}ms`,
      '--proxy.http.idle-timeout', '2s',
      '--proxy.http.max-header-bytes', '16384',
      '--proxy.tcp.max-message-bytes', '65536',
      '--upstream.max-streams-per-session', '32',
    ]);
    const connect = ['--connect.url', `http://${server.addrs.upstream}`];
    agents.push(await startAgent(['http', 'web', String(web.port), ...connect]));
    agents.push(await startAgent(['tcp', 'tcp-echo', `127.0.0.1:${echo.port}`, ...connect]));
    refusedAgent = await startAgent(['tcp', 'tcp-refused', `127.0.0.1:${await refusingPort()}`, ...connect]);
    agents.push(refusedAgent);
    await healthy();
  });

  after(async () => {
    for (const agent of agents) await agent.stop('SIGKILL');
    await server?.stop('SIGKILL');
    await web?.close();
    echo?.close();
  });

  describe('the TCP route', () => {
    it('answers failed WebSocket handshakes before opening any stream, and survives its agents (8.1)', async () => {
      const bad: ReadonlyArray<readonly [string, string]> = [
        ['missing key', wsHandshake('/_piko/v1/tcp/ID', { 'sec-websocket-key': undefined })],
        ['bad key', wsHandshake('/_piko/v1/tcp/ID', { 'sec-websocket-key': 'not-a-key' })],
        ['wrong version', wsHandshake('/_piko/v1/tcp/ID', { 'sec-websocket-version': '12' })],
        ['wrong method', wsHandshake('/_piko/v1/tcp/ID', {}, 'POST')],
        ['not websocket', wsHandshake('/_piko/v1/tcp/ID', { upgrade: 'h2c' })],
      ];
      const accepted = echo.accepted();
      // More rounds than the session's 32-stream limit: a stream leaked per bad handshake would exhaust it.
      for (let round = 0; round < 10; round++) {
        for (const endpoint of ['tcp-echo', 'tcp-refused']) {
          for (const [what, request] of bad) {
            const reply = await rawExchange(server.addrs.proxy, request.replace('ID', endpoint));
            assert.ok(reply.status >= 400 && reply.status < 500, `${what}: ${reply.text}`);
            assert.ok(reply.closed, `${what}: the connection is closed`);
          }
        }
      }
      assert.equal(echo.accepted(), accepted, 'no bad handshake reached the TCP service');
      await healthy();
      // The agent whose service refuses leaves: none of its streams may be orphaned in the server.
      await refusedAgent.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      await healthy();
    });

    it('answers a plain GET of the TCP route with 426 "websocket upgrade required" (7.7)', async () => {
      const res = await fetchRaw(server.addrs.proxy, { path: '/_piko/v1/tcp/tcp-echo' });
      assert.equal(res.status, 426);
      assert.equal(res.headers.upgrade, 'websocket');
      assert.deepEqual(res.json(), { error: 'websocket upgrade required' });
      assert.match(String(res.headers.connection), /close/i);
    });

    it('closes a tunnel whose client sends a message over proxy.tcp.max_message_bytes with 1009', async () => {
      const ws = new WebSocket(`ws://${server.addrs.proxy}/_piko/v1/tcp/tcp-echo`, { perMessageDeflate: false });
      ws.on('error', () => undefined);
      await once(ws, 'open');
      ws.send(Buffer.alloc(65_537), { binary: true });
      const [code] = (await once(ws, 'close')) as [number];
      assert.equal(code, 1009);
      await healthy();
    });

    it('counts tunnels, bytes and refusals in piko_proxy_tcp_* metrics (7.6)', async () => {
      const missing = await rawExchange(server.addrs.proxy, wsHandshake('/_piko/v1/tcp/nobody-home'));
      assert.equal(missing.status, 502);
      const text = (await fetchRaw(server.addrs.admin, { path: '/metrics' })).body.toString();
      const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      assert.ok(value('piko_proxy_tcp_connections_total') >= 3, text);
      assert.equal(value('piko_proxy_tcp_connections_active'), 0);
      assert.ok(value('piko_proxy_tcp_bytes_inbound_total') >= 12);
      assert.ok(value('piko_proxy_tcp_bytes_outbound_total') >= 12);
      // 4 of the 5 bad handshakes above reach the route (a non-WebSocket upgrade may be answered 426 before it).
      assert.ok(value('piko_proxy_tcp_refused_total{reason="bad_handshake"}') >= 80);
      assert.ok(value('piko_proxy_tcp_refused_total{reason="no_upstream"}') >= 1);
    });
  });

  describe('request smuggling and oversize requests', () => {
    for (const [what, request] of SMUGGLING) {
      it(`refuses ${what} with 400 and no smuggled request reaches the service`, async () => {
        const reply = await rawExchange(server.addrs.proxy, request + SMUGGLED);
        assert.equal(reply.status, 400, reply.text);
        assert.ok(reply.closed);
        assert.ok(!seen.includes('/smuggled'), `the service saw ${JSON.stringify(seen)}`);
        assert.ok(!seen.includes('/a'), 'a request refused at its headers never reaches the service');
      });
    }

    it('answers oversize headers and an oversize URL with 431 and closes', async () => {
      for (const request of [
        `GET / HTTP/1.1\r\nHost: web.example.com\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        `GET /${'u'.repeat(20_000)} HTTP/1.1\r\nHost: web.example.com\r\n\r\n`,
      ]) {
        const reply = await rawExchange(server.addrs.proxy, request);
        assert.equal(reply.status, 431, reply.text);
        assert.ok(reply.closed);
      }
      await healthy();
    });
  });

  describe('descriptors and memory (8.3)', () => {
    it('frees connections left half-open by the client after an error response', async () => {
      const baseline = fds();
      const sockets = await openSockets(server.addrs.proxy, 200);
      const replies = sockets.map(
        (s) =>
          new Promise<string>((resolve) => {
            let text = '';
            s.setEncoding('latin1').on('data', (d: string) => (text += d));
            s.once('end', () => resolve(text));
          }),
      );
      for (const s of sockets) s.write('GARBAGE \x01 NOT HTTP\r\n\r\n');
      for (const text of await Promise.all(replies)) assert.match(text, /^HTTP\/1\.1 400 /);
      // The clients keep their side open: the server must not wait for them.
      await backToBaseline(baseline);
      await closeAll(sockets);
      await healthy();
    });

    it('reaps idle keep-alive connections after proxy.http.idle_timeout', async () => {
      const baseline = fds();
      // Fewer than the session's 32-stream limit, so that every request is served at once.
      const sockets = await openSockets(server.addrs.proxy, 25);
      const answered = sockets.map(
        (s) =>
          new Promise<string>((resolve) => {
            let text = '';
            s.setEncoding('latin1').on('data', (d: string) => ((text += d).includes('\r\n\r\n') ? resolve(text) : undefined));
          }),
      );
      for (const s of sockets) s.write('GET /ka HTTP/1.1\r\nHost: x\r\nx-piko-endpoint: web\r\n\r\n');
      for (const text of await Promise.all(answered)) assert.match(text, /^HTTP\/1\.1 200 /);
      await backToBaseline(baseline);
      await closeAll(sockets);
      await healthy();
    });

    it('5,000 idle connections are closed soon after the header timeout; the node serves meanwhile', async (t) => {
      const baseline = { fds: fds(), rss: readRss(pid()) };
      const sockets = await openSockets(server.addrs.proxy, 5_000);
      const during = { fds: fds(), rss: readRss(pid()) };
      await healthy();
      // Node's default check runs every 30 s; a bound well under 30 s + the timeout shows the fix.
      await allEnded(sockets, HEADER_TIMEOUT_MS + 15_000, 'idle connections');
      await backToBaseline(baseline.fds);
      await closeAll(sockets);
      const afterwards = { fds: fds(), rss: readRss(pid()) };
      t.diagnostic(`5000 idle: fds ${baseline.fds} → ${during.fds} → ${afterwards.fds}; RSS MiB ${[baseline, during, afterwards].map((m) => (m.rss / MIB).toFixed(1)).join(' → ')}`);
      assert.ok(during.fds >= baseline.fds + 4_000, 'the connections were open at once');
      assert.ok(afterwards.rss <= baseline.rss + 128 * MIB, 'memory returns near its baseline');
      await healthy();
    });

    it('500 slowloris connections are closed near the header timeout; the node serves meanwhile', async (t) => {
      const baseline = { fds: fds(), rss: readRss(pid()) };
      const sockets = await startSlowloris(server.addrs.proxy, 500, 500);
      await new Promise((r) => setTimeout(r, 1_000));
      const during = { fds: fds(), rss: readRss(pid()) };
      await healthy();
      await allEnded(sockets, HEADER_TIMEOUT_MS + 15_000, 'slowloris connections');
      await backToBaseline(baseline.fds);
      await closeAll(sockets);
      const afterwards = { fds: fds(), rss: readRss(pid()) };
      t.diagnostic(`500 slowloris: fds ${baseline.fds} → ${during.fds} → ${afterwards.fds}; RSS MiB ${[baseline, during, afterwards].map((m) => (m.rss / MIB).toFixed(1)).join(' → ')}`);
      assert.ok(!seen.some((url) => url.startsWith('/slow-')), 'no slow request reached the service');
      assert.ok(afterwards.rss <= baseline.rss + 128 * MIB, 'memory returns near its baseline');
      await healthy();
    });
  });
});

describe('proxy.http.max_connections_per_ip', () => {
  let server: ServerProc;

  before(async () => {
    server = await startServer(['--proxy.http.max-connections-per-ip', '8']);
  });
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('answers a connection over the limit with 429 JSON and closes it; other addresses are not limited', async () => {
    const held = await openSockets(server.addrs.proxy, 8);
    const over = await rawExchange(server.addrs.proxy, '');
    assert.equal(over.status, 429, over.text);
    assert.match(over.text, /\{"error":"too many connections from this address"\}/);
    assert.ok(over.closed);

    // 127.0.0.2 is another client address on the loopback network.
    const other = await openSocket(server.addrs.proxy, { localAddress: '127.0.0.2' });
    let text = '';
    other.setEncoding('latin1').on('data', (d: string) => (text += d));
    other.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await once(other, 'end');
    assert.match(text, /^HTTP\/1\.1 400 [\s\S]*missing endpoint id/);
    other.destroy();

    await closeAll(held);
    await eventually(async () => (await rawExchange(server.addrs.proxy, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status === 400, 10_000, 'slots freed');
  });
});
