/**
 * Interop of our yamux session with an independent implementation (@chainsafe/libp2p-yamux) over an in-memory
 * byte pipe, and with node:http using mux streams as sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream as LpStream, StreamMuxer } from '@libp2p/interface';
import { defaultLogger } from '@libp2p/logger';
import { AbstractMultiaddrConnection, type SendResult } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { MuxStreamResetError } from '../../src/adapters/wire/mux/errors.js';
import { MuxSession } from '../../src/adapters/wire/mux/session.js';
import type { MuxStream } from '../../src/adapters/wire/mux/stream.js';
import { duplexPair } from '../support/duplex-pair.js';
import { FakeClock } from '../support/fakes/fake-clock.js';

const KiB = 1024;

/** The byte-list type of the installed @libp2p/utils (taken from it, as versions of the package differ). */
type Uint8ArrayList = Parameters<AbstractMultiaddrConnection['sendData']>[0];

/** Adapts one end of a Node byte pipe to libp2p's MessageStream, which their muxer runs over. */
class DuplexConnection extends AbstractMultiaddrConnection {
  readonly #duplex: Duplex;

  constructor(duplex: Duplex, direction: 'inbound' | 'outbound') {
    super({
      remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4001'),
      direction,
      log: defaultLogger().forComponent(`test:mux-interop:${direction}`),
    });
    this.#duplex = duplex;
    duplex.on('data', (chunk: Buffer) => this.onData(chunk));
    duplex.on('drain', () => this.safeDispatchEvent('drain'));
    duplex.on('end', () => this.onTransportClosed());
    duplex.on('error', (error) => this.abort(error));
  }

  override sendData(data: Uint8ArrayList): SendResult {
    let canSendMore = true;
    for (const chunk of data) canSendMore = this.#duplex.write(chunk);
    return { sentBytes: data.byteLength, canSendMore };
  }

  sendReset(): void {
    this.#duplex.destroy();
  }

  async sendClose(): Promise<void> {
    this.#duplex.end();
  }

  sendPause(): void {
    this.#duplex.pause();
  }

  sendResume(): void {
    this.#duplex.resume();
  }
}

function pattern(length: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 131 + seed * 7) & 0xff;
  return b;
}

async function readOurs(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readTheirs(stream: LpStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c.subarray()));
  return Buffer.concat(chunks);
}

/** Sends `data` on a libp2p stream in 16 KiB pieces, honouring its backpressure, then half-closes it. */
async function writeTheirs(stream: LpStream, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 16 * KiB) {
    if (!stream.send(data.subarray(at, at + 16 * KiB))) await stream.onDrain();
  }
  await stream.close();
}

/**
 * Resolves with the next stream they accept, and the bytes read from it. Reading starts inside the event: a
 * libp2p stream's async iterator only ends on FIN events that happen after it was created.
 */
function nextTheirStream(muxer: StreamMuxer): Promise<{ stream: LpStream; body: Promise<Buffer> }> {
  return new Promise((resolve) => {
    muxer.addEventListener('stream', (evt) => resolve({ stream: evt.detail, body: readTheirs(evt.detail) }), { once: true });
  });
}

for (const ourRole of ['server', 'client'] as const) {
  describe(`yamux interop: our ${ourRole} session with @chainsafe/libp2p-yamux`, () => {
    let ours: MuxSession;
    let theirs: StreamMuxer;

    before(() => {
      const [ourEnd, theirEnd] = duplexPair();
      ours = new MuxSession(ourEnd, { role: ourRole, clock: new FakeClock(), keepAliveIntervalMs: 0 });
      // libp2p picks its role from the connection direction: 'outbound' is the client (odd IDs).
      const connection = new DuplexConnection(theirEnd, ourRole === 'server' ? 'outbound' : 'inbound');
      theirs = yamux()()
        .createStreamMuxer(connection);
    });

    after(async () => {
      await theirs.close().catch(() => {});
      ours.close();
    });

    it('answers their ping and gets answers to ours', async () => {
      const theirRtt = await (theirs as unknown as { ping(): Promise<number> }).ping();
      assert.ok(theirRtt >= 0);
      assert.equal(await ours.ping(), 0);
    });

    it('opens a stream to them and moves more than a window both ways, with FIN each way', async () => {
      const inbound = nextTheirStream(theirs);
      const stream = ours.openStream();
      assert.equal(stream.id % 2, ourRole === 'server' ? 0 : 1);
      const up = pattern(1024 * KiB + 123, 1);
      const down = pattern(900 * KiB + 7, 2);
      stream.end(up);
      const reading = readOurs(stream);
      const { stream: peer, body } = await inbound;
      const [received, , echoed] = await Promise.all([body, writeTheirs(peer, down), reading]);
      assert.ok(received.equals(up), 'our bytes arrive intact (and our FIN ends their read side)');
      assert.ok(echoed.equals(down), 'their bytes arrive intact (and their FIN ends our read side)');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(ours.streamCount, 0);
    });

    it('accepts a stream they open and echoes more than a window', async () => {
      const inbound = once(ours, 'stream') as Promise<[MuxStream]>;
      const stream = await theirs.createStream();
      const data = pattern(2 * 1024 * KiB, 3);
      const writing = writeTheirs(stream, data);
      const [peer] = await inbound;
      assert.equal(peer.id % 2, ourRole === 'server' ? 1 : 0);
      peer.pipe(peer);
      const [echoed] = await Promise.all([readTheirs(stream), writing]);
      assert.ok(echoed.equals(data));
    });

    it('keeps the write side open after their FIN (half-close)', async () => {
      const inbound = once(ours, 'stream') as Promise<[MuxStream]>;
      const stream = await theirs.createStream();
      stream.send(Buffer.from('request'));
      await stream.close();
      const response = readTheirs(stream);
      const [peer] = await inbound;
      assert.equal((await readOurs(peer)).toString(), 'request');
      peer.end(pattern(400 * KiB, 4));
      assert.ok((await response).equals(pattern(400 * KiB, 4)));
    });

    it('carries many concurrent streams', async () => {
      const seen: MuxStream[] = [];
      const onStream = (s: MuxStream): void => {
        seen.push(s);
        s.pipe(s);
      };
      ours.on('stream', onStream);
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const stream = await theirs.createStream();
          const data = pattern(50 * KiB + i, i);
          const [echoed] = await Promise.all([readTheirs(stream), writeTheirs(stream, data)]);
          return echoed.equals(data);
        }),
      );
      ours.off('stream', onStream);
      assert.deepEqual(results, results.map(() => true));
      assert.equal(seen.length, 20);
    });

    it('resets their stream when we destroy ours', async () => {
      const inbound = nextTheirStream(theirs);
      const stream = ours.openStream();
      stream.write('x');
      const { stream: peer, body } = await inbound;
      body.catch(() => {});
      const closed = new Promise<Error | undefined>((resolve) => {
        peer.addEventListener('close', (evt) => resolve(evt.error), { once: true });
      });
      stream.destroy();
      const error = await closed;
      assert.ok(error instanceof Error, 'their stream closes with a reset error');
    });

    it('fails our stream with MuxStreamResetError when they reset theirs', async () => {
      const inbound = once(ours, 'stream') as Promise<[MuxStream]>;
      const stream = await theirs.createStream();
      stream.send(Buffer.from('x'));
      const [peer] = await inbound;
      const errored = once(peer, 'error');
      stream.abort(new Error('test reset'));
      const [error] = await errored;
      assert.ok(error instanceof MuxStreamResetError);
    });

    it('is still healthy after all of the above', async () => {
      assert.equal(ours.closed, false);
      assert.equal(await ours.ping(), 0);
    });
  });
}

describe('node:http over mux streams', () => {
  let server: MuxSession;
  let client: MuxSession;
  let httpServer: http.Server;

  before(() => {
    const clock = new FakeClock();
    const [a, b] = duplexPair();
    server = new MuxSession(a, { role: 'server', clock, keepAliveIntervalMs: 0 });
    client = new MuxSession(b, { role: 'client', clock, keepAliveIntervalMs: 0 });
    httpServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.setHeader('x-remote', String(req.socket.remoteAddress));
        res.setHeader('x-path', req.url ?? '');
        res.end(body);
      });
    });
    client.on('stream', (stream) => {
      stream.remoteAddress = '198.51.100.9';
      httpServer.emit('connection', stream);
    });
  });

  after(() => {
    server.close();
    client.close();
  });

  class MuxAgent extends http.Agent {
    override createConnection(): Duplex {
      return server.openStream();
    }
  }

  async function request(body: Buffer, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const agent = new MuxAgent({ keepAlive: false });
    const req = http.request({ agent, method: 'POST', path, host: 'tunnel.invalid', headers: { connection: 'close' } });
    req.end(body);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  it('serves a request on an accepted stream and a client request on an opened stream', async () => {
    const body = pattern(1024 * KiB, 9);
    const res = await request(body, '/echo?x=1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-path'], '/echo?x=1');
    assert.equal(res.headers['x-remote'], '198.51.100.9');
    assert.ok(res.body.equals(body));
  });

  it('runs many requests concurrently and releases every stream', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await request(pattern(10 * KiB + i, i), `/r/${i}`)).body.equals(pattern(10 * KiB + i, i))),
    );
    assert.deepEqual(results, results.map(() => true));
    for (let i = 0; i < 20 && (server.streamCount > 0 || client.streamCount > 0); i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(server.streamCount, 0);
    assert.equal(client.streamCount, 0);
  });

  it('fails a pending request promptly when the session dies', async () => {
    const slowServer = http.createServer(() => {
      // never responds
    });
    const clock = new FakeClock();
    const [a, b] = duplexPair();
    const s = new MuxSession(a, { role: 'server', clock, keepAliveIntervalMs: 0 });
    const c = new MuxSession(b, { role: 'client', clock, keepAliveIntervalMs: 0 });
    c.on('stream', (stream) => {
      stream.on('error', () => {});
      slowServer.emit('connection', stream);
    });
    const agent = new (class extends http.Agent {
      override createConnection(): Duplex {
        return s.openStream();
      }
    })();
    const req = http.request({ agent, path: '/', host: 'tunnel.invalid' });
    req.end();
    await new Promise((resolve) => setImmediate(resolve));
    const failed = once(req, 'error');
    c.close();
    const [error] = (await failed) as [Error];
    assert.ok(error instanceof Error);
    s.close();
  });
});
