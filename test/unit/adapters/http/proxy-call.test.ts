import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';

import type { ForwardOutcome } from '../../../../src/application/ports/forwarder.port.js';
import { ProxyCaller, type ProxyCallOptions } from '../../../../src/adapters/http/proxy-call.js';
import { TrustedProxies } from '../../../../src/adapters/http/passes/forwarded-headers.js';
import { withSocketShape } from '../../../../src/adapters/http/socket-shape.js';
import { duplexPair } from '../../../support/duplex-pair.js';
import { FakeClock } from '../../../support/fakes/fake-clock.js';
import { untilTurns } from '../../../support/turns.js';

/*
 * ProxyCaller end to end in memory: a client, a front http.Server that hands each request to the caller, and a
 * service http.Server, joined by in-memory duplex pairs (no sockets) whose ends are plain Duplex streams, as
 * tunnel streams are. Time is a FakeClock: the header timeout fires only when the test advances it.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;


/** Emits one end of a new duplex pair as a connection of `server` and returns the other end. */
function connectTo(server: Server): Duplex {
  const [near, far] = duplexPair();
  server.emit('connection', far);
  return near;
}

interface Harness {
  readonly clock: FakeClock;
  readonly outcomes: Array<Promise<ForwardOutcome>>;
  readonly seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }>;
  /** Sends a request through the front server; resolves with the response once read whole. */
  send(options: RequestOptions, body?: (req: ReturnType<typeof request>) => void): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>;
  setHandler(h: Handler): void;
  readonly service: Server;
  readonly front: Server;
}

function harness(headerTimeoutMs: number, forwarded?: TrustedProxies, extra: Partial<ProxyCallOptions> = {}): Harness {
  const clock = new FakeClock();
  const caller = new ProxyCaller(clock);
  const seen: Harness['seen'] = [];
  let handler: Handler = (_req, res) => res.end('ok');
  const service = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body }));
    handler(req, res);
  });
  const agent = new (class extends Agent {
    // As UpstreamStreamAgent does: Node's Agent calls setKeepAlive/ref/unref on pooled connections unchecked.
    override createConnection(): Duplex {
      return withSocketShape(connectTo(service));
    }
  })({ keepAlive: true });
  const outcomes: Array<Promise<ForwardOutcome>> = [];
  const options = { target: 'http://service', agent, headerTimeoutMs, ...(forwarded ? { forwarded } : {}), ...extra };
  // As the proxy port and the agent do: a request without Host reaches the caller, which says what is wrong.
  const front = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0, requireHostHeader: false }, (req, res) => {
    const outcome = caller.web(req, res, options);
    outcomes.push(outcome);
    // As the dispatcher would try another target: here the front answers 503 itself.
    void outcome.then((o) => o.kind === 'not-sent' && res.writeHead(503).end('not sent'));
  });
  front.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => outcomes.push(caller.upgrade(req, socket, head, options)));
  const send: Harness['send'] = (reqOptions, body) =>
    new Promise((resolve, reject) => {
      const req = request({ ...reqOptions, createConnection: () => connectTo(front) }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else body(req);
    });
  return { clock, outcomes, seen, send, setHandler: (h) => (handler = h), service, front };
}

describe('ProxyCaller', () => {
  describe('.web', () => {
    describe('having peerUnserved (the target is a peer node)', () => {
      const unserved: Handler = (_req, res) => {
        res.writeHead(502, { 'x-piko-unserved': '1', 'content-type': 'application/json' });
        res.end('{"error":"no available upstreams"}');
      };

      it('reports a body-less request the peer marked unserved as not-sent, passing nothing on', async () => {
        const h = harness(0, undefined, { peerUnserved: true });
        h.setHandler(unserved);
        const res = await h.send({ method: 'DELETE', path: '/x', headers: { host: 'svc' } });
        assert.equal((await h.outcomes[0])?.kind, 'not-sent');
        assert.deepEqual([res.status, res.body, res.headers['x-piko-unserved']], [503, 'not sent', undefined]);
      });

      it('passes an ordinary answer on whole: status, headers and body', async () => {
        const h = harness(0, undefined, { peerUnserved: true });
        h.setHandler((_req, res) => {
          res.writeHead(201, { 'x-app': 'yes', 'content-type': 'text/plain' });
          res.end('made');
        });
        const res = await h.send({ method: 'GET', path: '/x', headers: { host: 'svc' } });
        assert.deepEqual([res.status, res.headers['x-app'], res.body], [201, 'yes', 'made']);
        assert.deepEqual(await h.outcomes[0], { kind: 'ok', status: 201 });
      });

      it('passes the mark on as an ordinary 502 under a request with a body (its body is spent: never replayed)', async () => {
        const h = harness(0, undefined, { peerUnserved: true });
        h.setHandler((req, res) => {
          req.resume();
          req.on('end', () => unserved(req, res));
        });
        const res = await h.send({ method: 'POST', path: '/x', headers: { host: 'svc', 'content-length': 2 } }, (req) => req.end('hi'));
        assert.equal(res.status, 502);
        assert.deepEqual(await h.outcomes[0], { kind: 'ok', status: 502 });
      });
    });

    describe('having replaySafeOnReset (the server: a target that dies under a request)', () => {
      const dying: Handler = (req) => req.socket.destroy();

      it('reports a GET whose connection is reset before any response as not-sent, writing nothing', async () => {
        const h = harness(0, undefined, { replaySafeOnReset: true });
        h.setHandler(dying);
        const res = await h.send({ method: 'GET', path: '/x', headers: { host: 'svc' } });
        assert.equal((await h.outcomes[0])?.kind, 'not-sent');
        assert.deepEqual([res.status, res.body], [503, 'not sent'], 'the caller wrote nothing of its own');
      });

      it('answers 502 for a POST with a body: it may have reached the service, so it is never replayed', async () => {
        const h = harness(0, undefined, { replaySafeOnReset: true });
        h.setHandler(dying);
        const res = await h.send({ method: 'POST', path: '/x', headers: { host: 'svc', 'content-length': 2 } }, (req) => req.end('hi'));
        assert.equal(res.status, 502);
        assert.equal((await h.outcomes[0])?.kind, 'failed');
      });

      it('answers 502 for the same GET when it is off (the agent: its service reset the connection)', async () => {
        const h = harness(0);
        h.setHandler(dying);
        const res = await h.send({ method: 'GET', path: '/x', headers: { host: 'svc' } });
        assert.equal(res.status, 502);
        assert.deepEqual(JSON.parse(res.body), { error: 'upstream unreachable' });
      });
    });

    describe('having a header timeout of 1 s', () => {
      it('does not count a slow upload: the wait starts when the body has been sent in full', async () => {
        const h = harness(1_000);
        let received = 0;
        let answer: (() => void) | undefined;
        h.setHandler((req, res) => {
          req.on('data', (c: Buffer) => (received += c.length));
          req.on('end', () => (answer = () => res.end('done')));
        });
        const response = h.send({ method: 'POST', path: '/up', headers: { host: 'svc', 'content-length': 30 } }, (req) => {
          void (async () => {
            for (let i = 1; i <= 3; i++) {
              req.write(Buffer.alloc(10, 0x61));
              await untilTurns(() => received === i * 10, `chunk ${i}`);
              h.clock.advance(5_000); // five timeouts between two chunks
            }
            req.end();
          })();
        });
        await untilTurns(() => answer !== undefined, 'the whole body');
        await untilTurns(() => h.clock.pending === 1, 'the header timer');
        h.clock.advance(999);
        answer?.();
        const res = await response;
        assert.equal(res.status, 200);
        assert.equal(res.body, 'done');
      });

      it('answers 504 when no headers arrive within the timeout after the body ended', async () => {
        const h = harness(1_000);
        let ended = false;
        h.setHandler((req) => {
          req.resume();
          req.on('end', () => (ended = true));
        });
        const response = h.send({ method: 'POST', path: '/late', headers: { host: 'svc' } }, (req) => req.end('body'));
        await untilTurns(() => ended && h.clock.pending === 1, 'the body and the header timer');
        h.clock.advance(1_000);
        const res = await response;
        assert.equal(res.status, 504);
        assert.deepEqual(JSON.parse(res.body), { error: 'upstream timeout' });
        const outcome = await h.outcomes[0];
        assert.equal(outcome?.kind, 'failed');
      });
    });

    describe('having hop-by-hop headers', () => {
      it('passes none of them to the service, and keeps end-to-end headers', async () => {
        const h = harness(0);
        const res = await h.send({
          path: '/hop',
          headers: {
            host: 'svc',
            connection: 'keep-alive, x-hop',
            'x-hop': '1',
            'keep-alive': 'timeout=5',
            te: 'trailers',
            upgrade: 'h2c',
            'proxy-connection': 'keep-alive',
            'proxy-authorization': 'Basic c2VjcmV0',
            'x-end': 'kept',
          },
        });
        assert.equal(res.status, 200);
        const seen = h.seen[0]?.headers ?? {};
        for (const name of ['x-hop', 'keep-alive', 'te', 'upgrade', 'proxy-connection', 'proxy-authorization']) {
          assert.equal(seen[name], undefined, name);
        }
        assert.equal(seen.connection, 'keep-alive', "the hop's own Connection");
        assert.equal(seen['x-end'], 'kept');
      });

      it('removes the service\'s hop-by-hop response headers', async () => {
        const h = harness(0);
        h.setHandler((_req, res) => {
          res.setHeader('connection', 'x-resp');
          res.setHeader('x-resp', '1');
          res.setHeader('keep-alive', 'timeout=1');
          res.setHeader('proxy-connection', 'keep-alive');
          res.setHeader('x-kept', 'yes');
          res.end('ok');
        });
        const res = await h.send({ path: '/', headers: { host: 'svc' } });
        assert.equal(res.headers['x-kept'], 'yes');
        for (const name of ['x-resp', 'keep-alive', 'proxy-connection']) assert.equal(res.headers[name], undefined, name);
      });

      it('frames a chunked DELETE body itself, so the body never reads as a second request', async () => {
        const h = harness(0);
        const smuggled = 'GET /smuggled HTTP/1.1\r\nhost: svc\r\n\r\n';
        const res = await h.send({ method: 'DELETE', path: '/del', headers: { host: 'svc', 'transfer-encoding': 'chunked' } }, (req) => req.end(smuggled));
        assert.equal(res.status, 200);
        await untilTurns(() => h.seen.length >= 1, 'the service saw the DELETE');
        assert.deepEqual(h.seen.map((s) => `${s.method} ${s.url}`), ['DELETE /del']);
        assert.equal(h.seen[0]?.body, smuggled);
        assert.equal(h.seen[0]?.headers['transfer-encoding'], 'chunked');
        assert.equal(h.seen[0]?.headers['content-length'], undefined);
      });
    });

    describe('having X-Forwarded-* headers from an untrusted client', () => {
      it('overwrites Host/Proto, drops a Port it cannot know, and leaves For alone without a peer address', async () => {
        const h = harness(0, new TrustedProxies([]));
        await h.send({ path: '/', headers: { host: 'svc:81', 'x-forwarded-host': 'evil', 'x-forwarded-proto': 'https', 'x-forwarded-port': '1', 'x-forwarded-for': '192.0.2.1' } });
        const seen = h.seen[0]?.headers ?? {};
        assert.equal(seen['x-forwarded-host'], 'svc:81');
        assert.equal(seen['x-forwarded-proto'], 'http');
        assert.equal(seen['x-forwarded-port'], undefined);
        assert.equal(seen['x-forwarded-for'], '192.0.2.1');
      });
    });

    describe('having a request it cannot forward as it is', () => {
      it('answers OPTIONS * with a 400 JSON reason and sends nothing', async () => {
        const h = harness(0);
        const res = await h.send({ method: 'OPTIONS', path: '*', headers: { host: 'svc' } });
        assert.equal(res.status, 400);
        assert.match((JSON.parse(res.body) as { error: string }).error, /OPTIONS \*/);
        assert.equal(h.seen.length, 0);
        assert.equal((await h.outcomes[0])?.kind, 'failed');
      });

      it('answers a request without Host with a 400 JSON reason and sends nothing', async () => {
        const h = harness(0);
        const res = await h.send({ path: '/x', setHost: false });
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.body), { error: 'missing Host header' });
        assert.equal(h.seen.length, 0);
      });
    });
  });

  describe('.upgrade', () => {
    describe('having a service that refuses the upgrade, on a plain Duplex (a tunnel stream)', () => {
      it('passes the refusal to the client without calling a missing socket method', async () => {
        const h = harness(0);
        h.service.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
          socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope');
        });
        const res = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
          const req = request(
            { path: '/ws', headers: { host: 'svc', connection: 'Upgrade', upgrade: 'websocket' }, createConnection: () => connectTo(h.front) },
            (r) => {
              let body = '';
              r.setEncoding('latin1');
              r.on('data', (c: string) => (body += c));
              r.on('end', () => resolve({ status: r.statusCode ?? 0, body, connection: r.headers.connection }));
            },
          );
          req.on('upgrade', () => reject(new Error('upgraded')));
          req.on('error', reject);
          req.end();
        });
        assert.equal(res.status, 400);
        assert.equal(res.body, 'nope');
        assert.equal(res.connection, 'close');
        assert.deepEqual(await h.outcomes[0], { kind: 'ok', status: 400 });
      });
    });
  });
});
