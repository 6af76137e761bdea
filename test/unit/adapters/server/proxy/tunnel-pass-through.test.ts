import assert from 'node:assert/strict';
import { createServer, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';

import type { ForwardOutcome } from '../../../../../src/application/ports/forwarder.port.js';
import { UpstreamGoneError, type TunnelStream } from '../../../../../src/application/ports/upstream-transport.port.js';
import { TunnelPassThrough } from '../../../../../src/adapters/server/proxy/tunnel-pass-through.js';
import { TrustedProxies } from '../../../../../src/adapters/http/passes/forwarded-headers.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { FakeUpstreamConnection } from '../../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../../support/fixtures/endpoint.fixtures.js';
import { untilTurns } from '../../../../support/turns.js';

/*
 * TunnelPassThrough end to end in memory: a client, a front http.Server that hands each request to the
 * pass-through, and an upstream connection whose tunnel streams are in-memory duplex pairs. The far end of each
 * stream goes to a service http.Server (as the agent's relay would pass the bytes on) or to a scripted agent
 * that answers with raw bytes. Time is a FakeClock: the header timeout fires only when the test advances it.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;


/** An upstream connection whose streams are duplex pairs; the far end of each goes to `onStream`. */
class PairUpstream extends FakeUpstreamConnection {
  readonly far: Duplex[] = [];
  onStream: (far: Duplex) => void = () => {};

  override openStream(): TunnelStream {
    this.openStreamCalls += 1;
    if (!this.accepting) throw new UpstreamGoneError('not accepting');
    const [near, far] = duplexPair();
    far.on('error', () => {});
    this.far.push(far);
    this.onStream(far);
    return near;
  }
}

/** A scripted agent: calls `onHead` with the stream and the request head (text) each time one is complete. */
function scripted(onHead: (far: Duplex, head: string, index: number) => void): (far: Duplex) => void {
  let count = 0;
  return (far) => {
    let buf = '';
    far.setEncoding('latin1');
    far.on('data', (c: string) => {
      buf += c;
      const at = buf.indexOf('\r\n\r\n');
      if (at < 0) return;
      const head = buf.slice(0, at + 4);
      buf = buf.slice(at + 4);
      onHead(far, head, count++);
    });
  };
}

interface Harness {
  readonly clock: FakeClock;
  readonly upstream: PairUpstream;
  readonly passThrough: TunnelPassThrough;
  readonly outcomes: Array<Promise<ForwardOutcome>>;
  readonly seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }>;
  /** Sends a request through the front server; resolves with the response once read whole. */
  send(options: RequestOptions, body?: (req: ClientRequest) => void): Promise<{ status: number; message: string; headers: IncomingHttpHeaders; raw: string[]; body: string }>;
  setHandler(h: Handler): void;
  readonly front: Server;
}

function harness(headerTimeoutMs = 0): Harness {
  const clock = new FakeClock();
  const passThrough = new TunnelPassThrough(clock);
  const upstream = new PairUpstream('u1', EndpointFixtures.any);
  const seen: Harness['seen'] = [];
  let handler: Handler = (_req, res) => res.end('ok');
  const service: Server = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body }));
    handler(req, res);
  });
  upstream.onStream = (far) => service.emit('connection', far);
  const outcomes: Array<Promise<ForwardOutcome>> = [];
  const forwarded = new TrustedProxies([]);
  const front = createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
    const outcome = passThrough.web(req, res, upstream, { headerTimeoutMs, forwarded });
    outcomes.push(outcome);
    // As the dispatcher would try another upstream: here the front answers 503 itself.
    void outcome.then((o) => o.kind === 'not-sent' && res.writeHead(503).end('not sent'));
  });
  const send: Harness['send'] = (reqOptions, body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          ...reqOptions,
          createConnection: () => {
            const [near, far] = duplexPair();
            front.emit('connection', far);
            return near as never;
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (c: string) => (text += c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', headers: res.headers, raw: res.rawHeaders, body: text }));
        },
      );
      req.on('error', reject);
      if (body === undefined) req.end();
      else body(req);
    });
  return { clock, upstream, passThrough, outcomes, seen, send, setHandler: (h) => (handler = h), front };
}

const GET = { method: 'GET', path: '/x', headers: { host: 'svc' } } as const;

describe('TunnelPassThrough', () => {
  describe('.web', () => {
    describe('having a healthy agent', () => {
      it('passes the request and the whole response on: status, reason, headers (lists kept), body', async () => {
        const h = harness();
        h.setHandler((_req, res) => {
          res.statusMessage = 'Made Here';
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.setHeader('x-app', 'yes');
          res.writeHead(201, { 'content-type': 'text/plain' });
          res.end('made');
        });
        const res = await h.send({ method: 'GET', path: '/p/../q?z=1', headers: { host: 'svc', 'x-piko-x': 'kept', 'proxy-authorization': 'secret' } });
        assert.deepEqual([res.status, res.message, res.headers['x-app'], res.headers['set-cookie'], res.body], [201, 'Made Here', 'yes', ['a=1', 'b=2'], 'made']);
        assert.deepEqual(await h.outcomes[0], { kind: 'ok', status: 201 });
        const seen = h.seen[0]!;
        assert.equal(seen.url, '/q?z=1');
        assert.equal(seen.headers.connection, 'keep-alive');
        assert.equal(seen.headers['proxy-authorization'], undefined, 'hop-by-hop request headers are removed');
        assert.equal(seen.headers['x-forwarded-proto'], 'http');
        assert.equal(seen.headers.host, 'svc');
      });

      it('reuses the stream after a complete exchange, and keeps it idle in the pool', async () => {
        const h = harness();
        for (let i = 0; i < 3; i++) assert.equal((await h.send(GET)).body, 'ok');
        assert.equal(h.upstream.openStreamCalls, 1);
        assert.equal(h.passThrough.idleStreams(h.upstream), 1);
      });

      it('does not reuse a stream after the service asked to close (Connection: close)', async () => {
        const h = harness();
        h.setHandler((_req, res) => {
          res.setHeader('connection', 'close');
          res.end('bye');
        });
        assert.equal((await h.send(GET)).body, 'bye');
        assert.equal((await h.send(GET)).body, 'bye');
        assert.equal(h.upstream.openStreamCalls, 2);
        assert.equal(h.passThrough.idleStreams(h.upstream), 0);
      });

      it('sends a Content-Length body as it is, and a chunked one chunked again', async () => {
        const h = harness();
        h.setHandler((req, res) => req.on('end', () => res.end(`${req.headers['content-length']}|${req.headers['transfer-encoding']}`)).resume());
        const fixed = await h.send({ method: 'POST', path: '/u', headers: { host: 'svc', 'content-length': 5 } }, (req) => req.end('hello'));
        assert.equal(fixed.body, '5|undefined');
        const chunked = await h.send({ method: 'POST', path: '/u', headers: { host: 'svc' } }, (req) => {
          req.write('abc');
          req.write('defgh');
          req.end('!');
        });
        assert.equal(chunked.body, 'undefined|chunked');
        assert.deepEqual(h.seen.map((s) => s.body), ['hello', 'abcdefgh!']);
        assert.equal(h.upstream.openStreamCalls, 1, 'both exchanges were complete: one stream');
      });

      it('frames a chunked request body on the wire as chunks of what the client sent', async () => {
        const h = harness();
        let wire = '';
        h.upstream.onStream = (far) => {
          far.setEncoding('latin1');
          far.on('data', (c: string) => {
            wire += c;
            if (wire.endsWith('0\r\n\r\n')) far.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
          });
        };
        await h.send({ method: 'PUT', path: '/c', headers: { host: 'svc' } }, (req) => {
          req.write('abc');
          req.end('de');
        });
        assert.match(wire, /^PUT \/c HTTP\/1\.1\r\n/);
        assert.match(wire, /\r\ntransfer-encoding: chunked\r\n/);
        assert.ok(wire.endsWith('\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'), JSON.stringify(wire));
      });

      it('sends Content-Length: 0 for a body-less request as the general path does (none for GET, HEAD, TRACE)', async () => {
        const h = harness();
        const heads: string[] = [];
        h.upstream.onStream = scripted((far, head) => {
          heads.push(head);
          far.write('HTTP/1.1 204 No Content\r\n\r\n');
        });
        for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'GET', 'HEAD', 'TRACE']) {
          const [near, far] = duplexPair();
          h.front.emit('connection', far);
          near.write(`${method} / HTTP/1.1\r\nhost: svc\r\n\r\n`);
          await untilTurns(() => heads.length > 0, `${method} sent`);
          const head = heads.pop()!;
          const expected = ['GET', 'HEAD', 'TRACE'].includes(method) ? undefined : '0';
          assert.equal(/\r\ncontent-length: (\S+)\r\n/.exec(head)?.[1], expected, `${method}: ${JSON.stringify(head)}`);
          assert.doesNotMatch(head, /transfer-encoding/);
          near.destroy();
        }
      });

      for (const [what, method, status] of [
        ['HEAD', 'HEAD', 200],
        ['204', 'GET', 204],
        ['304', 'GET', 304],
      ] as const) {
        it(`passes no body for ${what}, and the stream stays reusable`, async () => {
          const h = harness();
          h.setHandler((_req, res) => {
            res.writeHead(status, status === 200 ? { 'content-length': '4', etag: '"e"' } : { etag: '"e"' });
            res.end(status === 200 ? 'body' : undefined);
          });
          const first = await h.send({ method, path: '/n', headers: { host: 'svc' } });
          assert.deepEqual([first.status, first.body, first.headers.etag], [status, '', '"e"']);
          await h.send({ method, path: '/n', headers: { host: 'svc' } });
          assert.equal(h.upstream.openStreamCalls, 1);
        });
      }

      it('does not reuse a stream that sent more than the response (out of step)', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => far.write('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'));
        assert.equal((await h.send(GET)).status, 204);
        assert.equal((await h.send(GET)).status, 204);
        assert.equal(h.upstream.openStreamCalls, 2);
      });

      it('decodes a chunked response for Node to frame, skips a 103, and reuses the stream', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => {
          far.write('HTTP/1.1 103 Early Hints\r\nlink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\nx-a: 2\r\n\r\n');
          far.write('4\r\nwiki\r\n5;ext=1\r\npedia\r\n0\r\nx-trailer: t\r\n\r\n');
        });
        const res = await h.send(GET);
        assert.deepEqual([res.status, res.body, res.headers['x-a']], [200, 'wikipedia', '1, 2']);
        assert.equal(res.headers['transfer-encoding'], 'chunked', 'Node framed the body for the client');
        assert.equal(res.headers.link, undefined);
        await h.send(GET);
        assert.equal(h.upstream.openStreamCalls, 1);
      });

      it('passes a body delimited by the close of the stream, and does not reuse that stream', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => far.end('HTTP/1.1 200 OK\r\n\r\nall of it'));
        const res = await h.send(GET);
        assert.equal(res.body, 'all of it');
        await untilTurns(() => h.upstream.far[0]!.destroyed, 'stream closed');
        assert.equal(h.passThrough.idleStreams(h.upstream), 0);
      });
    });

    describe('having an agent that fails', () => {
      it('retries a GET once on a fresh stream when a reused one turns out closed (stale keep-alive)', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far, _head, i) => {
          if (i === 1) far.destroy(); // the first stream dies under the second request
          else far.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        });
        assert.equal((await h.send(GET)).body, 'ok');
        const second = await h.send(GET);
        assert.deepEqual([second.status, second.body], [200, 'ok']);
        assert.deepEqual(await h.outcomes[1], { kind: 'ok', status: 200 });
        assert.equal(h.upstream.openStreamCalls, 2);
      });

      it('reports a GET whose fresh stream is reset before any response as not-sent, writing nothing', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => far.destroy());
        const res = await h.send(GET);
        assert.equal((await h.outcomes[0])?.kind, 'not-sent');
        assert.deepEqual([res.status, res.body], [503, 'not sent']);
        assert.equal(h.upstream.openStreamCalls, 1, 'a fresh stream is not retried');
      });

      it('answers 502 for a POST whose stream is reset before any response (its body is spent)', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => far.destroy());
        const res = await h.send({ method: 'POST', path: '/x', headers: { host: 'svc', 'content-length': 2 } }, (req) => req.end('hi'));
        assert.deepEqual([res.status, JSON.parse(res.body)], [502, { error: 'upstream unreachable' }]);
        const outcome = await h.outcomes[0];
        assert.deepEqual([outcome?.kind, outcome?.kind === 'failed' && outcome.status], ['failed', 502]);
      });

      it('reports not-sent, writing nothing, when no stream can be opened', async () => {
        const h = harness();
        h.upstream.accepting = false;
        const res = await h.send(GET);
        const outcome = await h.outcomes[0];
        assert.equal(outcome?.kind, 'not-sent');
        assert.ok(outcome?.kind === 'not-sent' && outcome.error instanceof UpstreamGoneError);
        assert.equal(res.status, 503);
      });

      for (const [what, bytes] of [
        ['a malformed status line', 'HTTP/1.1 2xx OK\r\n\r\n'],
        ['a 101 to a request that asked for no upgrade', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n'],
        ['both framing headers', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n'],
      ] as const) {
        it(`answers 502 for ${what}, and destroys the stream`, async () => {
          const h = harness();
          h.upstream.onStream = scripted((far) => far.write(bytes));
          const res = await h.send(GET);
          assert.deepEqual([res.status, JSON.parse(res.body)], [502, { error: 'upstream unreachable' }]);
          await untilTurns(() => h.upstream.far[0]!.destroyed, 'stream destroyed');
        });
      }

      it('answers 502 for a response head larger than 1 MiB', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => far.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`));
        assert.equal((await h.send(GET)).status, 502);
      });

      it('cuts the client response (never a hang) when the agent dies mid-body', async () => {
        const h = harness();
        h.upstream.onStream = scripted((far) => {
          far.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..');
          setImmediate(() => far.destroy());
        });
        await assert.rejects(h.send(GET));
        assert.deepEqual(await h.outcomes[0], { kind: 'ok', status: 200 });
      });
    });

    describe('having a header timeout', () => {
      it('answers 504 once no head came within the timeout of the end of the body, and never reuses the stream', async () => {
        const h = harness(1_000);
        h.upstream.onStream = scripted(() => {});
        let client!: ClientRequest;
        const pending = h.send({ method: 'POST', path: '/slow', headers: { host: 'svc', 'content-length': 4 } }, (req) => {
          client = req;
          req.write('ab');
        });
        await untilTurns(() => h.upstream.far.length === 1, 'stream opened');
        for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
        h.clock.advance(5_000);
        assert.equal(h.clock.pending, 0, 'no timer runs while the body is still coming');
        client.end('cd');
        await untilTurns(() => h.clock.pending === 1, 'timer started');
        h.clock.advance(999);
        assert.equal(h.outcomes.length, 1);
        h.clock.advance(1);
        const res = await pending;
        assert.deepEqual([res.status, JSON.parse(res.body)], [504, { error: 'upstream timeout' }]);
        const outcome = await h.outcomes[0];
        assert.ok(outcome?.kind === 'failed' && outcome.status === 504 && outcome.error.name === 'HeaderTimeoutError');
        await untilTurns(() => h.upstream.far[0]!.destroyed, 'stream destroyed');
        assert.equal(h.passThrough.idleStreams(h.upstream), 0);
      });
    });

    describe('having a client that goes away', () => {
      it('reports 499 and destroys the stream', async () => {
        const h = harness();
        h.upstream.onStream = scripted(() => {});
        const req = request({ ...GET, createConnection: () => {
          const [near, far] = duplexPair();
          h.front.emit('connection', far);
          return near as never;
        } });
        req.on('error', () => {});
        req.end();
        await untilTurns(() => h.upstream.far.length === 1, 'stream opened');
        req.destroy();
        const outcome = await h.outcomes[0];
        assert.ok(outcome?.kind === 'failed' && outcome.status === 499 && outcome.error.name === 'ClientGoneError');
        await untilTurns(() => h.upstream.far[0]!.destroyed, 'stream destroyed');
      });
    });

    describe('having an upstream that stops accepting', () => {
      it('ends idle streams at once, and opens none afterwards', async () => {
        const h = harness();
        await h.send(GET);
        assert.equal(h.passThrough.idleStreams(h.upstream), 1);
        h.upstream.stopAccepting();
        assert.equal(h.passThrough.idleStreams(h.upstream), 0);
        await untilTurns(() => h.upstream.far[0]!.readableEnded || h.upstream.far[0]!.destroyed, 'stream ended');
        assert.equal((await h.send(GET)).status, 503);
      });
    });
  });
});
