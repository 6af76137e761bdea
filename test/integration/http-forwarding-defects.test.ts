import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { fetchRaw, splitAddr, startService } from '../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../support/processes.js';

/*
 * Regression tests of the HTTP forwarding path (issues 7 and 8): timeouts measured from the end of the request
 * body, a refused WebSocket upgrade, hop-by-hop and X-Forwarded-* headers, the header size limit, OPTIONS * and
 * requests without Host, and the bytes counted by the access logs. Timeouts are small configured values and
 * delays are deliberate; nothing asserts on speed.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends raw bytes to `addr` and collects everything until the peer closes (or `idleMs` of silence). */
function rawExchange(addr: string, bytes: string | Buffer, idleMs = 3_000): Promise<string> {
  const [host, port] = splitAddr(addr);
  return new Promise((resolve) => {
    const sock = connect(port, host);
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    let timer = setTimeout(done, idleMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.write(bytes);
  });
}

/** Status code of the first response in raw HTTP text. */
function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
}

/** Body of the first response in raw HTTP text (after the blank line). */
function bodyOf(raw: string): string {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? '' : raw.slice(i + 4);
}

/** POSTs `chunks` pieces of `size` bytes, one every `gapMs` (a slow upload), and reads the whole answer. */
function trickleUpload(addr: string, path: string, headers: Record<string, string>, chunks: number, size: number, gapMs: number) {
  const [host, port] = splitAddr(addr);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host, port, method: 'POST', path, headers: { ...headers, 'content-length': chunks * size }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let sent = 0;
    const next = (): void => {
      if (req.destroyed) return;
      req.write(Buffer.alloc(size, 0x61));
      sent++;
      if (sent === chunks) req.end();
      else setTimeout(next, gapMs);
    };
    next();
  });
}

/** A service that counts the body of every POST; `/late` answers only `lateMs` after the body ended. */
async function uploadService(lateMs: number) {
  return startService((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      const answer = (): void => {
        res.end(JSON.stringify({ bytes: n }));
      };
      if (req.url === '/late') {
        const t = setTimeout(answer, lateMs);
        res.on('close', () => clearTimeout(t));
      } else answer();
    });
  });
}

describe('the response-header timeouts start when the request body has been sent (issue 7 #1)', () => {
  // 6 chunks, 400 ms apart: the upload lasts 2 s, twice the 1 s timeouts.
  const CHUNKS = 6;
  const SIZE = 16 * 1024;
  const GAP = 400;

  for (const where of ['server', 'agent'] as const) {
    describe(`with the ${where}'s timeout at 1 s`, () => {
      let server: ServerProc;
      let agent: Proc;
      let service: Awaited<ReturnType<typeof uploadService>>;
      const ep = { 'x-piko-endpoint': `up-${where}` };

      before(async () => {
        service = await uploadService(2_500);
        server = await startServer(['--proxy.timeout', where === 'server' ? '1s' : '0s']);
        agent = await startAgent([
          'http', `up-${where}`, String(service.port),
          '--connect.url', `http://${server.addrs.upstream}`,
          '--timeout', where === 'agent' ? '1s' : '0s',
        ]);
      });

      after(async () => {
        await agent?.stop();
        await server?.stop();
        await service?.close();
      });

      it('lets a slow upload (longer than the timeout) through when the service answers at once', async () => {
        const res = await trickleUpload(server.addrs.proxy, '/upload', ep, CHUNKS, SIZE, GAP);
        assert.equal(res.status, 200, res.body);
        assert.deepEqual(JSON.parse(res.body), { bytes: CHUNKS * SIZE });
      });

      it('still answers 504 when the service takes longer than the timeout after the body ended', async () => {
        const res = await trickleUpload(server.addrs.proxy, '/late', ep, 3, SIZE, 100);
        assert.equal(res.status, 504);
        assert.deepEqual(JSON.parse(res.body), { error: 'upstream timeout' });
      });
    });
  }
});

describe('a local service refusing a WebSocket upgrade (issue 8 #2)', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    // `/plain` goes to the request handler (no upgrade listener answers it): an ordinary 200.
    service = await startService((_req, res) => res.end('no websocket here'));
    service.server.on('upgrade', (req, socket) => {
      if (req.url === '/plain') {
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 17\r\nconnection: close\r\n\r\nno websocket here');
        return;
      }
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nbad upgrade');
    });
    server = await startServer();
    agent = await startAgent(['http', 'no-ws', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  for (const [path, status, body] of [['/refuse', 400, 'bad upgrade'], ['/plain', 200, 'no websocket here']] as const) {
    it(`passes the service's ${status} to the client and the agent stays up`, async () => {
      const [host, port] = splitAddr(server.addrs.proxy);
      const ws = new WebSocket(`ws://${host}:${port}${path}`, { headers: { 'x-piko-endpoint': 'no-ws' } });
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.once('unexpected-response', (_req, r: IncomingMessage) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
        });
        ws.once('open', () => reject(new Error('the upgrade was accepted')));
        ws.once('error', (err) => reject(err));
      }).finally(() => ws.terminate());
      assert.equal(res.status, status);
      assert.equal(res.body, body);
      await sleep(300);
      assert.equal(agent.child.exitCode, null, `the agent is still running; stderr:\n${agent.stderrText.join('\n')}`);
      const after = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'no-ws' } });
      assert.equal(after.status, 200);
      assert.equal(after.body.toString(), 'no websocket here');
    });
  }
});

describe('headers that must not pass, and X-Forwarded-* (issue 8 #5)', () => {
  let server: ServerProc;
  let trusting: ServerProc;
  let agents: Proc[] = [];
  let service: Awaited<ReturnType<typeof startService>>;
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];

  before(async () => {
    service = await startService((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body });
        if (req.url === '/hop-response') {
          res.setHeader('connection', 'x-resp-hop');
          res.setHeader('x-resp-hop', 'secret');
          res.setHeader('keep-alive', 'timeout=1');
          res.setHeader('proxy-connection', 'keep-alive');
          res.setHeader('upgrade', 'foo/1');
          res.setHeader('x-kept', 'yes');
        }
        res.end('ok');
      });
    });
    server = await startServer();
    trusting = await startServer(['--proxy.http.trusted-proxies', '127.0.0.0/8,::1']);
    agents = [
      await startAgent(['http', 'hop', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]),
      await startAgent(['http', 'hop', String(service.port), '--connect.url', `http://${trusting.addrs.upstream}`]),
    ];
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await server?.stop();
    await trusting?.stop();
    await service?.close();
  });

  const find = (url: string) => {
    const s = seen.find((x) => x.url === url);
    assert.ok(s, `the service saw ${url}`);
    return s;
  };

  it('never passes Connection, the headers it names, Keep-Alive, TE, Trailer, Upgrade, Proxy-* to the service', async () => {
    const raw = await rawExchange(
      server.addrs.proxy,
      'GET /hop-request HTTP/1.1\r\nHost: hop.example.com\r\n' +
        'Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
        'Trailer: x-trailer\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic c2VjcmV0\r\n' +
        'X-End-To-End: kept\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(raw), 200, raw);
    const h = find('/hop-request').headers;
    for (const name of ['x-secret-hop', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authorization']) {
      assert.equal(h[name], undefined, `${name} reached the service`);
    }
    assert.notEqual(h.connection, 'keep-alive, X-Secret-Hop');
    assert.equal(h['x-end-to-end'], 'kept');
  });

  it('serves an h2c upgrade attempt as an ordinary request, without the Upgrade header', async () => {
    const raw = await rawExchange(
      server.addrs.proxy,
      'GET /h2c HTTP/1.1\r\nHost: hop.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
      1_000,
    );
    assert.equal(statusOf(raw), 200, raw);
    const h = find('/h2c').headers;
    assert.equal(h.upgrade, undefined);
    assert.equal(h['http2-settings'], undefined);
  });

  it('frames a chunked DELETE body for the service itself: its body cannot become a second request', async () => {
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: hop.example.com\r\n\r\n';
    const raw = await rawExchange(
      server.addrs.proxy,
      'DELETE /del HTTP/1.1\r\nHost: hop.example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`,
    );
    assert.equal(statusOf(raw), 200, raw);
    await sleep(200);
    assert.equal(seen.find((s) => s.url === '/smuggled'), undefined, 'the body was sent as a request of its own');
    assert.equal(find('/del').body, smuggled);
  });

  it('never passes the service\'s hop-by-hop response headers to the client', async () => {
    const res = await fetchRaw(server.addrs.proxy, { path: '/hop-response', headers: { host: 'hop.example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-kept'], 'yes');
    for (const name of ['x-resp-hop', 'keep-alive', 'proxy-connection', 'upgrade']) {
      assert.equal(res.headers[name], undefined, `${name} reached the client`);
    }
  });

  it('appends the client to X-Forwarded-For and overwrites X-Forwarded-Host/-Proto/-Port by default', async () => {
    const res = await fetchRaw(server.addrs.proxy, {
      path: '/xfwd',
      headers: {
        host: 'hop.example.com:1234',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '1',
      },
    });
    assert.equal(res.status, 200);
    const h = find('/xfwd').headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-host'], 'hop.example.com:1234');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-port'], String(splitAddr(server.addrs.proxy)[1]));
    assert.equal(h.host, 'hop.example.com:1234', 'Host is kept');
  });

  it('keeps incoming X-Forwarded-* from a trusted proxy (proxy.http.trusted_proxies)', async () => {
    const res = await fetchRaw(trusting.addrs.proxy, {
      path: '/xfwd-trusted',
      headers: {
        host: 'hop.example.com',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'public.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
      },
    });
    assert.equal(res.status, 200);
    const h = find('/xfwd-trusted').headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-host'], 'public.example');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-port'], '443');
  });
});

describe('request header size (issue 8 #6)', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: { port: number; close(): Promise<void> };
  const sizes: number[] = [];

  before(async () => {
    // The service itself accepts large headers (Node's default is 16 KiB).
    const big = createServer({ maxHeaderSize: 8 * 1024 * 1024 }, (req, res) => {
      sizes.push(String(req.headers['x-big'] ?? '').length);
      res.end('ok');
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    service = {
      port: (big.address() as AddressInfo).port,
      close: () => new Promise<void>((r) => (big.closeAllConnections(), big.close(() => r()))),
    };

    server = await startServer(['--proxy.http.max-header-bytes', String(256 * 1024)]);
    agent = await startAgent(['http', 'big', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  for (const kib of [17, 200]) {
    it(`passes ${kib} KiB of headers (under the server's limit) to the service`, async () => {
      const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'big', 'x-big': 'b'.repeat(kib * 1024) } });
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(sizes.at(-1), kib * 1024);
    });
  }

  it('answers 431 with a JSON error to headers over the server\'s limit', async () => {
    const raw = await rawExchange(
      server.addrs.proxy,
      `GET / HTTP/1.1\r\nHost: big.example.com\r\nx-big: ${'b'.repeat(300 * 1024)}\r\n\r\n`,
      1_000,
    );
    assert.equal(statusOf(raw), 431, raw.slice(0, 200));
    assert.match(bodyOf(raw), /"error":"request header fields too large/);
  });

  it('lets the agent answer 431 (and log why) when the server allows more than the agent does', async () => {
    const big = await startServer(['--proxy.http.max-header-bytes', String(4 * 1024 * 1024)]);
    const small = await startAgent(['http', 'small', String(service.port), '--connect.url', `http://${big.addrs.upstream}`, '--max-header-bytes', '65536']);
    try {
      const res = await fetchRaw(big.addrs.proxy, { headers: { 'x-piko-endpoint': 'small', 'x-big': 'b'.repeat(100 * 1024) } });
      assert.equal(res.status, 431);
      assert.match(res.json<{ error: string }>().error, /request header fields too large/);
      const warning = await small.waitFor((l) => l.level === 'warn' && l.status === 431, 5_000);
      assert.equal(warning['max-header-bytes'], 65536);
      const ok = await fetchRaw(big.addrs.proxy, { headers: { 'x-piko-endpoint': 'small' } });
      assert.equal(ok.status, 200, 'the listener keeps serving');
    } finally {
      await small.stop();
      await big.stop();
    }
  });
});

describe('requests the proxy cannot route as they are (issue 8 #7)', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;
  const urls: string[] = [];

  before(async () => {
    service = await startService((req, res) => {
      urls.push(`${req.method} ${req.url} host=${req.headers.host ?? ''}`);
      res.end('ok');
    });
    server = await startServer();
    agent = await startAgent(['http', 'star', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  it('answers OPTIONS * with 400 and a JSON reason, and never sends OPTIONS /* to the service', async () => {
    const raw = await rawExchange(server.addrs.proxy, 'OPTIONS * HTTP/1.1\r\nHost: star.example.com\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(raw), 400, raw);
    assert.match(JSON.parse(bodyOf(raw)).error as string, /OPTIONS \*/);
    assert.deepEqual(urls.filter((u) => u.startsWith('OPTIONS')), []);
  });

  it('answers an HTTP/1.0 request without Host with 400 and a JSON reason, and never makes a Host up', async () => {
    const raw = await rawExchange(server.addrs.proxy, 'GET /no-host HTTP/1.0\r\nx-piko-endpoint: star\r\n\r\n');
    assert.equal(statusOf(raw), 400, raw);
    assert.match(JSON.parse(bodyOf(raw)).error as string, /Host/);
    assert.deepEqual(urls.filter((u) => u.includes('/no-host')), []);
  });

  it('still serves an HTTP/1.0 request with Host', async () => {
    const raw = await rawExchange(server.addrs.proxy, 'GET /with-host HTTP/1.0\r\nHost: star.example.com\r\n\r\n');
    assert.equal(statusOf(raw), 200, raw);
    assert.ok(urls.includes('GET /with-host host=star.example.com'));
  });
});

describe('access logs count body bytes on the server and on the agent (issue 7 #7)', () => {
  it('logs bytes-in/bytes-out as body bytes and duration_ms with at most 3 decimals', async () => {
    const body = 'x'.repeat(1234);
    const service = await startService((req, res) => {
      req.resume();
      req.on('end', () => {
        res.write(body.slice(0, 1000)); // chunked: no Content-Length
        res.end(body.slice(1000));
      });
    });
    const server = await startServer();
    const agent = await startAgent(['http', 'bytes', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      const res = await fetchRaw(server.addrs.proxy, { method: 'POST', path: '/counted', headers: { 'x-piko-endpoint': 'bytes' }, body: 'y'.repeat(321) });
      assert.equal(res.body.toString(), body);
      const isLine = (l: Record<string, unknown>) => JSON.stringify(l).includes('/counted') && 'bytes-out' in l;
      const onServer = await server.waitFor((l) => l.subsystem === 'proxy.access' && isLine(l));
      const onAgent = await agent.waitFor((l) => l.subsystem === 'proxy.http.access' && isLine(l));
      for (const line of [onServer, onAgent]) {
        assert.equal(line['bytes-in'], 321);
        assert.equal(line['bytes-out'], 1234);
        const ms = (line.request as { duration_ms: number }).duration_ms;
        assert.equal(Math.round(ms * 1000) / 1000, ms, `duration_ms ${ms} has more than 3 decimals`);
      }
    } finally {
      await agent.stop();
      await server.stop();
      await service.close();
    }
  });
});

