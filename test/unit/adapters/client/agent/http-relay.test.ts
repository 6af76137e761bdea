import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { HttpRelay } from '../../../../../src/adapters/client/agent/http-relay.js';
import type { AccessEntry } from '../../../../../src/adapters/http/access-entry.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

/** One dialled service connection, seen from the service's side. */
interface FakeService {
  /** The service's end: what it writes reaches the relay. */
  readonly end: Duplex;
  /** The relay's end (the "socket" the relay was given). */
  readonly socket: Duplex;
  readonly received: Buffer[];
  closed: boolean;
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(options: { timeoutMs?: number; maxHeaderBytes?: number; neverConnects?: boolean; highWaterMark?: number } = {}) {
  const clock = new FakeClock(1_000);
  const entries: AccessEntry[] = [];
  const services: FakeService[] = [];
  const dial = (): Socket => {
    const [socket, end] = duplexPair();
    const service: FakeService = { end, socket, received: [], closed: false };
    Object.assign(socket, { connecting: options.neverConnects === true });
    end.on('data', (chunk: Buffer) => service.received.push(chunk));
    end.on('error', () => {});
    socket.on('close', () => (service.closed = true));
    services.push(service);
    return socket as unknown as Socket;
  };
  const relay = new HttpRelay(
    { host: '127.0.0.1', port: 8080, timeoutMs: options.timeoutMs ?? 1_000, endpointId: 'ep-1', maxHeaderBytes: options.maxHeaderBytes ?? 1024 },
    clock,
    (entry) => entries.push(entry),
    undefined,
    dial,
  );
  const [streamEnd, client] = duplexPair(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
  const fromRelay: Buffer[] = [];
  let ended = false;
  client.on('data', (chunk: Buffer) => fromRelay.push(chunk));
  client.on('end', () => {
    ended = true;
    client.end();
  });
  client.on('error', () => {});
  relay.handle(streamEnd);
  cleanups.push(() => {
    client.destroy();
    for (const s of services) s.end.destroy();
  });
  return {
    clock,
    entries,
    services,
    relay,
    client,
    streamEnd,
    /** What the client has read so far, as latin1 text. */
    read: () => Buffer.concat(fromRelay).toString('latin1'),
    ended: () => ended,
    /** What service `i` has read so far. */
    got: (i: number) => Buffer.concat(services[i]?.received ?? []).toString('latin1'),
    async send(text: string | Buffer): Promise<void> {
      client.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
      await flush();
    },
    async answer(i: number, text: string): Promise<void> {
      services[i]!.end.write(Buffer.from(text, 'latin1'));
      await flush();
    },
  };
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: svc.local\r\n${extra}\r\n`;
const OK = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

function jsonError(text: string, status: number, message: string): void {
  assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
  assert.ok(text.endsWith(`${JSON.stringify({ error: message })}\n`), text);
}

describe('HttpRelay', () => {
  it('relays a GET and its response byte for byte and logs the exchange', async () => {
    const t = setup();
    const request = 'GET /a/b?x=1 HTTP/1.1\r\nHost: svc.local\r\nX-Odd:  Case \r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\r\n';
    await t.send(request);
    assert.equal(t.got(0), request);
    assert.equal(t.relay.requestsInFlight, 1);
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Reply: yes\r\n\r\nhello';
    await t.answer(0, response);
    assert.equal(t.read(), response);
    assert.equal(t.relay.requestsInFlight, 0);
    assert.equal(t.ended(), false, 'the stream stays open for the next request');
    assert.equal(t.entries.length, 1);
    const e = t.entries[0]!;
    assert.deepEqual(
      { method: e.method, host: e.host, path: e.path, proto: e.proto, status: e.status, bytesIn: e.bytesIn, bytesOut: e.bytesOut, endpointId: e.endpointId, clientIp: e.clientIp },
      { method: 'GET', host: 'svc.local', path: '/a/b', proto: 'HTTP/1.1', status: 200, bytesIn: 0, bytesOut: 5, endpointId: 'ep-1', clientIp: '10.0.0.2' },
    );
    assert.equal(e.requestHeaders['x-odd'], 'Case');
    assert.equal(e.responseHeaders['x-reply'], 'yes');
  });

  it('reuses one service connection for requests in sequence', async () => {
    const t = setup();
    await t.send(GET('/1'));
    await t.answer(0, OK('one'));
    await t.send(GET('/2'));
    assert.equal(t.got(0), GET('/1') + GET('/2'));
    await t.answer(0, OK('two'));
    assert.equal(t.read(), OK('one') + OK('two'));
    assert.equal(t.services.length, 1);
    assert.deepEqual(t.entries.map((e) => [e.path, e.bytesOut]), [['/1', 3], ['/2', 3]]);
  });

  it('holds a pipelined request until the response before it is complete', async () => {
    const t = setup();
    await t.send(GET('/1') + GET('/2'));
    assert.equal(t.got(0), GET('/1'), 'the second request waits');
    await t.answer(0, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\non');
    assert.equal(t.got(0), GET('/1'));
    await t.answer(0, 'e');
    assert.equal(t.got(0), GET('/1') + GET('/2'));
    await t.answer(0, OK('two'));
    assert.equal(t.read(), OK('one') + OK('two'));
    assert.equal(t.services.length, 1);
  });

  it('relays chunked bodies both ways as they came; the header timeout starts once the request is sent', async () => {
    const t = setup();
    const head = 'POST /up HTTP/1.1\r\nHost: svc.local\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n';
    await t.send(head + body.slice(0, 9));
    t.clock.advance(5_000);
    await flush();
    assert.equal(t.read(), '', 'no timeout while the request body is still coming');
    await t.send(body.slice(9, 20));
    await t.send(body.slice(20));
    assert.equal(t.got(0), head + body);
    const response = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n';
    await t.answer(0, response.slice(0, 30));
    await t.answer(0, response.slice(30, 55));
    await t.answer(0, response.slice(55));
    assert.equal(t.read(), response);
    const e = t.entries[0]!;
    assert.deepEqual([e.method, e.status, e.bytesIn, e.bytesOut], ['POST', 201, 8, 4]);
  });

  it('does not reuse a service connection idle for 4 s or more (a keep-alive close may be racing the request)', async () => {
    const t = setup();
    await t.send(GET('/1'));
    await t.answer(0, OK('one'));
    t.clock.advance(3_999);
    await t.send(GET('/2'));
    assert.equal(t.services.length, 1, 'reused under 4 s');
    await t.answer(0, OK('two'));
    t.clock.advance(4_000);
    await t.send(`POST /3 HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 1\r\n\r\nx`);
    assert.equal(t.services.length, 2, 'a fresh connection after 4 s idle');
    assert.equal(t.services[0]!.closed, true, 'the idle one is closed');
    assert.equal(t.got(1), `POST /3 HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 1\r\n\r\nx`);
  });

  it('dials again when the service closed an idle connection', async () => {
    const t = setup();
    await t.send(GET('/1'));
    await t.answer(0, OK('one'));
    t.services[0]!.end.destroy();
    await flush();
    await t.send(GET('/2'));
    assert.equal(t.services.length, 2);
    assert.equal(t.got(1), GET('/2'));
    await t.answer(1, OK('two'));
    assert.equal(t.read(), OK('one') + OK('two'));
  });

  it('sends a GET again, once, on a new connection when a reused one closes before answering', async () => {
    const t = setup();
    await t.send(GET('/1'));
    await t.answer(0, OK('one'));
    await t.send(GET('/2'));
    t.services[0]!.end.destroy();
    await flush();
    assert.equal(t.services.length, 2);
    assert.equal(t.got(1), GET('/2'));
    t.services[1]!.end.destroy();
    await flush();
    assert.equal(t.services.length, 2, 'a fresh connection is not retried');
    jsonError(t.read().slice(OK('one').length), 502, 'upstream unreachable');
    assert.deepEqual(t.entries.map((e) => e.status), [200, 502]);
  });

  it('answers 502 rather than send a POST again when a reused connection closes', async () => {
    const t = setup();
    await t.send(GET('/1'));
    await t.answer(0, OK('one'));
    await t.send('POST /p HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 2\r\n\r\nhi');
    t.services[0]!.end.destroy();
    await flush();
    assert.equal(t.services.length, 1);
    jsonError(t.read().slice(OK('one').length), 502, 'upstream unreachable');
    assert.equal(t.entries[1]?.status, 502);
    assert.equal(t.entries[1]?.bytesIn, 2);
  });

  it('answers 504 upstream timeout when the service never answers, and not before', async () => {
    const t = setup({ timeoutMs: 1_000 });
    await t.send(GET('/slow'));
    t.clock.advance(999);
    await flush();
    assert.equal(t.read(), '');
    t.clock.advance(1);
    await flush();
    jsonError(t.read(), 504, 'upstream timeout');
    assert.equal(t.services[0]!.closed, true);
    assert.equal(t.ended(), true);
    assert.deepEqual([t.entries[0]?.status, t.entries[0]?.durationMs], [504, 1_000]);
  });

  it('answers 504 when the service never accepts the connection', async () => {
    const t = setup({ timeoutMs: 500, neverConnects: true });
    await t.send('POST /p HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 10\r\n\r\nabc');
    t.clock.advance(500);
    await flush();
    jsonError(t.read(), 504, 'upstream timeout');
  });

  it('ends a response without a length at the service close, and the stream with it', async () => {
    const t = setup();
    await t.send(GET('/stream'));
    await t.answer(0, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabc');
    await t.answer(0, 'defg');
    assert.equal(t.ended(), false);
    t.services[0]!.end.destroy();
    await flush();
    assert.equal(t.read(), 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabcdefg');
    assert.equal(t.ended(), true);
    assert.deepEqual([t.entries[0]?.status, t.entries[0]?.bytesOut], [200, 7]);
  });

  const malformed: ReadonlyArray<readonly [string, string]> = [
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : svc.local\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n'],
    ['an absolute target', 'GET http://svc.local/ HTTP/1.1\r\nHost: svc.local\r\n\r\n'],
    ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nHost: svc.local\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc'],
  ];
  for (const [what, request] of malformed) {
    it(`answers 400 to a request with ${what} and sends nothing to the service`, async () => {
      const t = setup();
      await t.send(request);
      assert.equal(t.services.length, 0);
      assert.match(t.read(), /^HTTP\/1\.1 400 Bad Request\r\n[^]*connection: close\r\n\r\n\{"error":"/);
      assert.equal(t.ended(), true);
    });
  }

  it('answers 431 to a request head over the limit, before its end arrives', async () => {
    const t = setup({ maxHeaderBytes: 256 });
    await t.send(`GET / HTTP/1.1\r\nHost: svc.local\r\nX-Big: ${'a'.repeat(300)}`);
    assert.equal(t.services.length, 0);
    assert.match(t.read(), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(t.read(), /request header fields too large: over 256 bytes/);
  });

  it('answers 400 to a broken chunked request body after its head went out, and closes the service connection', async () => {
    const t = setup();
    await t.send('POST / HTTP/1.1\r\nHost: svc.local\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    assert.match(t.read(), /^HTTP\/1\.1 400 /);
    assert.equal(t.services[0]!.closed, true);
    assert.equal(t.entries[0]?.status, 400);
  });

  it('answers 502 when the service sends garbage', async () => {
    const t = setup();
    await t.send(GET('/'));
    await t.answer(0, 'SSH-2.0-OpenSSH\r\n\r\n');
    jsonError(t.read(), 502, 'upstream unreachable');
    assert.equal(t.services[0]!.closed, true);
    assert.equal(t.entries[0]?.status, 502);
  });

  it('passes interim responses before the final one', async () => {
    const t = setup();
    await t.send('POST / HTTP/1.1\r\nHost: svc.local\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
    await t.answer(0, 'HTTP/1.1 100 Continue\r\n\r\n');
    await t.send('ok');
    await t.answer(0, OK('done'));
    assert.equal(t.read(), `HTTP/1.1 100 Continue\r\n\r\n${OK('done')}`);
    assert.equal(t.entries[0]?.status, 200);
  });

  it('turns into a raw pipe both ways after a 101 answer to an upgrade', async () => {
    const t = setup();
    const request = GET('/ws', 'Connection: Upgrade\r\nUpgrade: websocket\r\n');
    await t.send(request);
    await t.send('early-frame');
    assert.equal(t.got(0), request, 'bytes after an upgrade request wait for its answer');
    const switching = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
    await t.answer(0, `${switching}\x81\x02hi`);
    assert.equal(t.read(), `${switching}\x81\x02hi`);
    assert.equal(t.got(0), `${request}early-frame`);
    await t.send('GET / HTTP/1.1\r\n\r\n\x00\xff');
    await t.answer(0, 'HTTP/1.1 999 not parsed');
    assert.equal(t.got(0), `${request}early-frameGET / HTTP/1.1\r\n\r\n\x00\xff`);
    assert.equal(t.read(), `${switching}\x81\x02hiHTTP/1.1 999 not parsed`);
    assert.equal(t.entries.length, 0, 'upgrades are not access-logged');
    t.client.destroy();
    await flush();
    assert.equal(t.services[0]!.closed, true);
  });

  it('destroys the service connection and logs 499 when the stream goes away mid-request', async () => {
    const t = setup();
    await t.send('PUT /f HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 10\r\n\r\nabc');
    t.client.destroy();
    await flush();
    assert.equal(t.services[0]!.closed, true);
    assert.deepEqual([t.entries[0]?.method, t.entries[0]?.status, t.entries[0]?.bytesIn, t.entries[0]?.bytesOut], ['PUT', 499, 3, 0]);
    assert.equal(t.relay.requestsInFlight, 0);
  });

  it('closes the stream after a response to a request asking for Connection: close', async () => {
    const t = setup();
    await t.send(GET('/', 'Connection: close\r\n'));
    await t.answer(0, OK('x'));
    assert.equal(t.ended(), true);
    assert.equal(t.services[0]!.closed, true);
  });

  it('drops a service connection that sends more than the answer, and dials anew for the request held meanwhile', async () => {
    const t = setup();
    await t.send(GET('/1') + GET('/2'));
    await t.answer(0, `${OK('one')}HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfake`);
    assert.equal(t.services[0]!.closed, true);
    assert.equal(t.got(0), GET('/1'), 'the held request does not go to the connection being dropped');
    assert.equal(t.services.length, 2);
    assert.equal(t.got(1), GET('/2'));
    await t.answer(1, OK('two'));
    assert.equal(t.read(), OK('one') + OK('two'));
  });

  it('drops a service connection that sends a body after an answer to HEAD', async () => {
    const t = setup();
    await t.send(`HEAD / HTTP/1.1\r\nHost: svc.local\r\n\r\n${GET('/2')}`);
    await t.answer(0, OK('hello'));
    assert.equal(t.services[0]!.closed, true);
    assert.equal(t.got(1), GET('/2'));
    await t.answer(1, OK('two'));
    assert.equal(t.read(), `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n${OK('two')}`);
  });

  it('answers every request held when the server ends its side, then ends the stream', async () => {
    const t = setup();
    t.client.write(GET('/1') + GET('/2'));
    t.client.end();
    await flush();
    await t.answer(0, OK('one'));
    assert.equal(t.got(0), GET('/1') + GET('/2'));
    await t.answer(0, OK('two'));
    assert.equal(t.read(), OK('one') + OK('two'));
    assert.equal(t.services[0]!.closed, true);
  });

  it('gives up a request whose body can no longer come when the server ends its side', async () => {
    const t = setup();
    await t.send('POST /p HTTP/1.1\r\nHost: svc.local\r\nContent-Length: 10\r\n\r\nabc');
    t.client.end();
    await flush();
    assert.equal(t.services[0]!.closed, true);
    assert.deepEqual([t.entries[0]?.status, t.entries[0]?.bytesIn], [499, 3]);
  });

  it('stops reading the service while the stream is full, and resumes when it drains', async () => {
    const t = setup({ highWaterMark: 64 });
    await t.send(GET('/big'));
    t.client.pause();
    const body = 'x'.repeat(1000);
    await t.answer(0, OK(body));
    assert.equal(t.services[0]!.socket.isPaused(), true);
    t.client.resume();
    await flush();
    assert.equal(t.services[0]!.socket.isPaused(), false);
    assert.equal(t.read(), OK(body));
    assert.equal(t.entries[0]?.bytesOut, 1000);
  });

  it('closeIdleStreams ends idle streams only', async () => {
    const idle = setup();
    const busy = setup();
    await idle.send(GET('/'));
    await idle.answer(0, OK('x'));
    await busy.send(GET('/'));
    idle.relay.closeIdleStreams();
    busy.relay.closeIdleStreams();
    await flush();
    assert.equal(idle.ended(), true);
    assert.equal(busy.ended(), false);
  });
});
