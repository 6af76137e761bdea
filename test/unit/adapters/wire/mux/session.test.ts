import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import {
  MuxGoAwayError,
  MuxProtocolError,
  MuxSessionClosedError,
  MuxStreamLimitError,
  MuxStreamResetError,
  MuxTimeoutError,
} from '../../../../../src/adapters/wire/mux/errors.js';
import {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  type Frame,
  type FrameHeader,
} from '../../../../../src/adapters/wire/mux/frame.js';
import { MuxSession, type MuxSessionOptions } from '../../../../../src/adapters/wire/mux/session.js';
import type { MuxStream } from '../../../../../src/adapters/wire/mux/stream.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

const KiB = 1024;
const WINDOW = INITIAL_STREAM_WINDOW;

/** Lets in-memory I/O (nextTick/microtask/immediate chains) settle. Not a timer: no wall-clock waiting. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function pattern(length: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

type Options = Partial<MuxSessionOptions>;

/** Two sessions over an in-memory pipe, sharing one fake clock; keepalive off unless asked for. */
function sessionPair(options: { server?: Options; client?: Options; highWaterMark?: number } = {}) {
  const clock = new FakeClock();
  const pipe = options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
  const [serverEnd, clientEnd] = duplexPair(pipe);
  const server = new MuxSession(serverEnd, { role: 'server', clock, keepAliveIntervalMs: 0, ...options.server });
  const client = new MuxSession(clientEnd, { role: 'client', clock, keepAliveIntervalMs: 0, ...options.client });
  return { clock, server, client, serverEnd, clientEnd };
}

/** Our session on one end; the test speaks raw frames on the other end and records what it receives. */
class RawPeer {
  readonly frames: Frame[] = [];
  /** Each transport write as received, to check that a write is exactly one frame. */
  readonly writes: Buffer[] = [];
  readonly #decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });

  constructor(readonly end: Duplex) {
    end.on('data', (chunk: Buffer) => {
      this.writes.push(chunk);
      for (const f of this.#decoder.push(chunk)) this.frames.push(f);
    });
    end.on('error', () => {});
  }

  send(header: FrameHeader, payload?: Buffer): void {
    this.end.write(encodeFrame(header, payload));
  }

  data(streamId: number, payload: Buffer, flags = 0): void {
    this.send({ type: FrameType.Data, flags, streamId, length: payload.length }, payload);
  }

  windowUpdate(streamId: number, delta: number, flags = 0): void {
    this.send({ type: FrameType.WindowUpdate, flags, streamId, length: delta });
  }

  take(): Frame[] {
    return this.frames.splice(0);
  }

  dataBytes(streamId?: number): number {
    return this.frames
      .filter((f) => f.type === FrameType.Data && (streamId === undefined || f.streamId === streamId))
      .reduce((n, f) => n + f.length, 0);
  }
}

function rawPair(options: Options & { highWaterMark?: number } = {}) {
  const clock = new FakeClock();
  const { highWaterMark, ...sessionOptions } = options;
  const [ours, theirs] = duplexPair(highWaterMark === undefined ? {} : { highWaterMark });
  const session = new MuxSession(ours, { role: 'server', clock, keepAliveIntervalMs: 0, ...sessionOptions });
  const peer = new RawPeer(theirs);
  const closes: Array<Error | undefined> = [];
  session.on('close', (e) => closes.push(e));
  return { clock, session, peer, ours, closes };
}

const headerOf = (f: Frame) => ({ type: f.type, flags: f.flags, streamId: f.streamId, length: f.length });

describe('MuxSession', () => {
  describe('construction', () => {
    it('rejects a window below 256 KiB, which the peer may always use', () => {
      const [a] = duplexPair();
      assert.throws(() => new MuxSession(a, { role: 'server', clock: new FakeClock(), initialWindow: 1000 }), RangeError);
    });

    it('rejects an unknown role', () => {
      const [a] = duplexPair();
      assert.throws(() => new MuxSession(a, { role: 'x' as 'client', clock: new FakeClock() }), TypeError);
    });
  });

  describe('.openStream', () => {
    it('sends SYN at once as a window update on the next even ID (server role)', async () => {
      const { session, peer } = rawPair();
      const s1 = session.openStream();
      const s2 = session.openStream();
      assert.equal(s1.id, 2);
      assert.equal(s2.id, 4);
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 2, length: 0 },
        { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 4, length: 0 },
      ]);
      assert.equal(session.streamCount, 2);
    });

    it('uses odd IDs from 1 in the client role', () => {
      const [a] = duplexPair();
      const session = new MuxSession(a, { role: 'client', clock: new FakeClock(), keepAliveIntervalMs: 0 });
      assert.deepEqual([session.openStream().id, session.openStream().id], [1, 3]);
    });

    it('lets data follow the SYN before any ACK', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      s.write('hi');
      await settle();
      const frames = peer.take();
      assert.deepEqual(frames.map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 2, length: 0 },
        { type: FrameType.Data, flags: 0, streamId: 2, length: 2 },
      ]);
      assert.equal(frames[1]?.payload?.toString(), 'hi');
    });

    it('grants a window above 256 KiB in the SYN', async () => {
      const { session, peer } = rawPair({ initialWindow: 1024 * KiB });
      session.openStream();
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 2, length: 1024 * KiB - WINDOW },
      ]);
    });

    it('throws MuxStreamLimitError at maxStreams', () => {
      const { session } = rawPair({ maxStreams: 2 });
      session.openStream();
      session.openStream();
      assert.throws(() => session.openStream(), MuxStreamLimitError);
    });

    it('frees a slot when a stream finishes', async () => {
      const { server, client } = sessionPair({ server: { maxStreams: 1 } });
      client.on('stream', (s) => {
        s.resume();
        s.end();
      });
      const s = server.openStream();
      s.resume();
      s.end();
      await once(s, 'close');
      await settle();
      assert.equal(server.streamCount, 0);
      assert.doesNotThrow(() => server.openStream());
    });

    it('counts the window it grants in the SYN, so the peer may fill it before any read', async () => {
      const big = 1024 * KiB;
      const { session, peer, closes } = rawPair({ initialWindow: big });
      const s = session.openStream();
      await settle();
      const syn = peer.take().find((f) => f.streamId === s.id && f.type === FrameType.WindowUpdate);
      assert.equal(syn?.length, big - WINDOW, 'the SYN grants the window above 256 KiB');
      peer.windowUpdate(s.id, 0, Flag.ACK);
      // The peer uses the whole granted window before we read anything.
      for (let sent = 0; sent < big; sent += 64 * KiB) peer.data(s.id, pattern(64 * KiB, sent));
      await settle();
      assert.deepEqual(closes, [], 'no window violation');
      const updates = peer.take().filter((f) => f.type === FrameType.WindowUpdate && f.streamId === s.id);
      assert.deepEqual(updates.map((f) => f.length), [], 'nothing was read, so no window is returned yet');
      assert.equal(s.readableLength, big);
    });

    it('throws MuxSessionClosedError once closed', () => {
      const { session } = rawPair();
      session.close();
      assert.throws(() => session.openStream(), MuxSessionClosedError);
    });
  });

  describe('inbound streams', () => {
    it("emits 'stream' for a SYN and ACKs it with a window update", async () => {
      const { session, peer } = rawPair({ role: 'client' });
      const streams: MuxStream[] = [];
      session.on('stream', (s) => streams.push(s));
      peer.windowUpdate(2, 0, Flag.SYN);
      await settle();
      assert.equal(streams.length, 1);
      assert.equal(streams[0]?.id, 2);
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 2, length: 0 },
      ]);
    });

    it('delivers data sent with the SYN', async () => {
      const { session, peer } = rawPair({ role: 'client' });
      const got = new Promise<Buffer>((resolve) => session.on('stream', (s) => resolve(readAll(s))));
      peer.data(2, Buffer.from('GET / HTTP/1.1\r\n\r\n'), Flag.SYN);
      peer.windowUpdate(2, 0, Flag.FIN);
      assert.equal((await got).toString(), 'GET / HTTP/1.1\r\n\r\n');
    });

    it('carries the ACK on data written synchronously by the listener, without a separate frame', async () => {
      const { session, peer } = rawPair({ role: 'client' });
      session.on('stream', (s) => s.write('yo'));
      peer.windowUpdate(2, 0, Flag.SYN);
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [{ type: FrameType.Data, flags: Flag.ACK, streamId: 2, length: 2 }]);
    });

    it('holds SYNs in a backlog until a listener arrives, then ACKs them in order', async () => {
      const { session, peer } = rawPair({ role: 'client', acceptBacklog: 2 });
      peer.windowUpdate(2, 0, Flag.SYN);
      peer.data(4, Buffer.from('x'), Flag.SYN);
      peer.windowUpdate(6, 0, Flag.SYN);
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 6, length: 0 },
      ]);
      assert.equal(session.streamCount, 2);
      const ids: number[] = [];
      session.on('stream', (s) => ids.push(s.id));
      await settle();
      assert.deepEqual(ids, [2, 4]);
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 2, length: 0 },
        { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 4, length: 0 },
      ]);
    });

    it('crashes nothing when a stream waiting in the backlog is reset by the peer or ends with the session', async () => {
      const { session, peer } = rawPair();
      peer.windowUpdate(1, 0, Flag.SYN);
      peer.windowUpdate(3, 0, Flag.SYN);
      peer.windowUpdate(1, 0, Flag.RST);
      await settle();
      session.close(new Error('bye'));
      await settle();
      assert.equal(session.streamCount, 0);
      // A listener arriving now gets nothing (the streams ended before anyone owned them).
      const late: MuxStream[] = [];
      session.on('stream', (s) => late.push(s));
      await settle();
      assert.deepEqual(late, []);
    });

    it('delivers a backlogged stream with its errors intact once a listener takes it', async () => {
      const { session, peer } = rawPair();
      peer.windowUpdate(1, 0, Flag.SYN);
      await settle();
      const stream = await new Promise<MuxStream>((resolve) => session.once('stream', resolve));
      const failed = once(stream, 'error');
      peer.windowUpdate(1, 0, Flag.RST);
      const [error] = await failed;
      assert.ok(error instanceof MuxStreamResetError);
    });

    it('answers a SYN beyond maxStreams with RST, and the opener sees MuxStreamResetError', async () => {
      const { server, client } = sessionPair({ client: { maxStreams: 1 } });
      client.on('stream', () => {});
      const first = server.openStream();
      const second = server.openStream();
      const [error] = await once(second, 'error');
      assert.ok(error instanceof MuxStreamResetError);
      assert.equal(error.streamId, 4);
      assert.equal(first.destroyed, false);
      assert.equal(client.streamCount, 1);
    });

    it('grants a window above 256 KiB in the ACK', async () => {
      const { session, peer } = rawPair({ role: 'client', initialWindow: 512 * KiB });
      session.on('stream', () => {});
      peer.windowUpdate(2, 0, Flag.SYN);
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 2, length: 256 * KiB },
      ]);
    });

    it('accepts SYNs out of ID order, as Go yamux sends them (it reserves an ID, then sends the SYN later)', async () => {
      const { session, peer, closes } = rawPair();
      const ids: number[] = [];
      session.on('stream', (s) => ids.push(s.id));
      peer.windowUpdate(1437, 0, Flag.SYN);
      peer.windowUpdate(1441, 0, Flag.SYN);
      peer.data(1438 + 1, Buffer.from('x'), Flag.SYN);
      peer.windowUpdate(1, 0, Flag.SYN);
      await settle();
      assert.deepEqual(closes, []);
      assert.equal(session.closed, false);
      assert.deepEqual(ids, [1437, 1441, 1439, 1]);
      assert.deepEqual(
        peer.take().map((f) => [f.streamId, f.flags]),
        [1437, 1441, 1439, 1].map((id) => [id, Flag.ACK]),
      );
    });

    it('accepts a SYN reusing the ID of a stream that has closed, as a new stream', async () => {
      const { session, peer, closes } = rawPair();
      const streams: MuxStream[] = [];
      session.on('stream', (s) => streams.push(s.on('error', () => {})));
      peer.windowUpdate(3, 0, Flag.SYN);
      peer.windowUpdate(3, 0, Flag.RST);
      await settle();
      peer.data(3, Buffer.from('again'), Flag.SYN);
      await settle();
      assert.deepEqual(closes, []);
      assert.equal(streams.length, 2);
      assert.equal(streams[0]?.destroyed, true);
      assert.equal(streams[1]?.destroyed, false);
      assert.equal(streams[1]?.read()?.toString(), 'again');
    });

    it('ignores data and window updates on stream 0 without SYN, as Go yamux does (no stream 0 exists)', async () => {
      const { session, peer, closes } = rawPair();
      peer.data(0, Buffer.from('x'));
      peer.windowUpdate(0, 100);
      await settle();
      assert.deepEqual(closes, []);
      assert.equal(session.closed, false);
      assert.deepEqual(peer.take(), []);
    });

    it('ignores frames for unknown streams (e.g. one we reset)', async () => {
      const { session, peer, closes } = rawPair({ role: 'client' });
      peer.data(9, Buffer.from('late'));
      peer.windowUpdate(9, 100, Flag.FIN);
      await settle();
      assert.equal(session.closed, false);
      assert.deepEqual(closes, []);
      assert.deepEqual(peer.take(), []);
    });
  });

  describe('data transfer', () => {
    it('carries bytes both ways on many concurrent streams', async () => {
      const { server, client } = sessionPair();
      client.on('stream', (s) => s.pipe(s)); // echo
      const sizes = [0, 1, 1000, 64 * KiB, 300 * KiB, 1024 * KiB];
      const results = await Promise.all(
        sizes.map(async (size, i) => {
          const s = server.openStream();
          const data = pattern(size, i);
          s.end(data);
          const echoed = await readAll(s);
          return echoed.equals(data);
        }),
      );
      assert.deepEqual(results, sizes.map(() => true));
      await settle();
      assert.equal(server.streamCount, 0);
      assert.equal(client.streamCount, 0);
    });

    it('sends small frames as one transport write and large payloads as a header then a view, none over maxFramePayload', async () => {
      const { session, peer } = rawPair({ maxFramePayload: 16 * KiB });
      const s = session.openStream();
      s.write(pattern(50 * KiB));
      await settle();
      const writesBefore = peer.writes.length;
      const datas = peer.take().filter((f) => f.type === FrameType.Data);
      assert.deepEqual(
        datas.map((f) => f.length),
        [16 * KiB, 16 * KiB, 16 * KiB, 2 * KiB],
      );
      assert.ok(writesBefore > 0);
      for (const w of peer.writes) {
        // Each write is either whole frames (small ones: header and payload together), a lone 12-byte header of
        // a large data frame, or that frame's payload; never more than one frame's payload.
        assert.ok(w.length <= 16 * KiB || w.length === HEADER_LENGTH + 2 * KiB, `write of ${w.length} bytes`);
      }
    });

    it('completes a large write only after the transport flushed the payload views', async () => {
      const { session, peer } = rawPair({ maxFramePayload: 16 * KiB });
      const s = session.openStream();
      const buf = pattern(32 * KiB);
      let done = false;
      s.write(buf, () => (done = true));
      await settle();
      assert.equal(done, true);
      const got = Buffer.concat(peer.take().filter((f) => f.type === FrameType.Data).map((f) => f.payload!));
      assert.deepEqual(got, buf);
    });

    it('packs corked writes into one data frame', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      await settle();
      peer.take();
      s.cork();
      s.write('a');
      s.write('bc');
      s.write('def');
      s.uncork();
      await settle();
      const frames = peer.take();
      assert.equal(frames.length, 1);
      assert.equal(frames[0]?.payload?.toString(), 'abcdef');
    });

    it('counts bytes read and written', async () => {
      const { server, client } = sessionPair();
      const inbound = once(client, 'stream');
      const s = server.openStream();
      s.write('12345');
      const [peer] = (await inbound) as [MuxStream];
      peer.write('abc');
      peer.resume();
      s.resume();
      await settle();
      assert.equal(s.bytesWritten, 5);
      assert.equal(peer.bytesRead, 5);
      assert.equal(peer.bytesWritten, 3);
      assert.equal(s.bytesRead, 3);
    });
  });

  describe('flow control', () => {
    it('never sends more than the peer window, and resumes on window updates', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      let done = false;
      s.write(pattern(WINDOW + 100 * KiB), () => {
        done = true;
      });
      await settle();
      assert.equal(peer.dataBytes(2), WINDOW);
      assert.equal(done, false, 'the write completes only when all bytes are handed to the transport');
      peer.windowUpdate(2, 60 * KiB);
      await settle();
      assert.equal(peer.dataBytes(2), WINDOW + 60 * KiB);
      assert.equal(done, false);
      peer.windowUpdate(2, 40 * KiB);
      await settle();
      assert.equal(peer.dataBytes(2), WINDOW + 100 * KiB);
      assert.equal(done, true);
    });

    it('returns window only as the application consumes, in batches of at least half a window', async () => {
      const { session, peer } = rawPair({ role: 'client' });
      let stream: MuxStream | undefined;
      session.on('stream', (s) => {
        stream = s;
      });
      peer.windowUpdate(2, 0, Flag.SYN);
      for (let i = 0; i < 4; i++) peer.data(2, pattern(64 * KiB, i));
      await settle();
      assert.ok(stream);
      const updates = () => peer.frames.filter((f) => f.type === FrameType.WindowUpdate && f.flags === 0);
      assert.deepEqual(updates(), [], 'nothing consumed yet, so no window update');
      assert.equal(stream.readableLength, WINDOW);

      assert.equal(stream.read(64 * KiB)?.length, 64 * KiB);
      await settle();
      assert.deepEqual(updates(), [], 'a quarter window consumed is not enough for an update');

      assert.equal(stream.read(64 * KiB)?.length, 64 * KiB);
      await settle();
      assert.deepEqual(updates().map((f) => f.length), [128 * KiB]);
    });

    it('treats data beyond the window as a protocol error: go-away(1), then close', async () => {
      const { session, peer, closes } = rawPair({ role: 'client' });
      session.on('stream', (s) => s.on('error', () => {}));
      peer.windowUpdate(2, 0, Flag.SYN);
      peer.data(2, Buffer.alloc(WINDOW));
      peer.data(2, Buffer.alloc(1));
      await settle();
      assert.equal(session.closed, true);
      assert.equal(closes.length, 1);
      assert.ok(closes[0] instanceof MuxProtocolError);
      assert.equal(closes[0].reason, 'window-exceeded');
      const goAway = peer.frames.find((f) => f.type === FrameType.GoAway);
      assert.equal(goAway?.length, GoAwayCode.ProtocolError);
    });

    it('slows a writer to its reader end to end, with bounded buffering', async () => {
      const { server, client } = sessionPair();
      const inbound = once(client, 'stream');
      const writer = server.openStream();
      const total = 2 * 1024 * KiB;
      const data = pattern(total);
      let written = 0;
      const pump = (): void => {
        while (written < total) {
          const n = Math.min(16 * KiB, total - written);
          const more = writer.write(data.subarray(written, written + n));
          written += n;
          if (!more) return void writer.once('drain', pump);
        }
        writer.end();
      };
      pump();
      const [reader] = (await inbound) as [MuxStream];
      await settle();
      // Nobody reads: the reader holds one window, the writer a little more than its high-water mark.
      assert.equal(reader.readableLength, WINDOW);
      assert.ok(written < WINDOW + 2 * writer.writableHighWaterMark + 16 * KiB, `writer ran ahead: ${written}`);
      // Now read slowly; everything arrives intact.
      const got = await readAll(reader);
      assert.ok(got.equals(data));
    });

    it('keeps other streams flowing while one consumer is stalled', async () => {
      const { server, client } = sessionPair();
      const inbound: MuxStream[] = [];
      client.on('stream', (s) => inbound.push(s));
      const slow = server.openStream();
      const fast = server.openStream();
      slow.write(pattern(1024 * KiB));
      const data = pattern(1024 * KiB, 3);
      fast.end(data);
      await settle();
      const [slowPeer, fastPeer] = inbound;
      assert.ok(slowPeer && fastPeer);
      const got = await readAll(fastPeer);
      assert.ok(got.equals(data));
      assert.equal(slowPeer.readableLength, WINDOW, 'the stalled stream holds exactly one window');
    });

    it('waits for transport drain before writing more data frames', async () => {
      const { session, peer, ours } = rawPair({ highWaterMark: 1024 });
      peer.end.pause();
      const s = session.openStream();
      let done = false;
      s.write(pattern(100 * KiB), () => {
        done = true;
      });
      await settle();
      // One 64 KiB frame was accepted by the transport, which now reports backpressure; the rest waits.
      assert.ok(ours.writableLength <= HEADER_LENGTH * 2 + 64 * KiB, `queued ${ours.writableLength}`);
      assert.equal(done, false);
      peer.end.resume();
      await settle();
      assert.equal(done, true);
      assert.equal(peer.dataBytes(2), 100 * KiB);
    });

    it('keeps answering control frames while data is blocked on drain', async () => {
      const { session, peer } = rawPair({ highWaterMark: 1024 });
      const s = session.openStream();
      s.write(pattern(200 * KiB));
      await settle();
      peer.end.pause();
      peer.send({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 5 });
      await settle();
      peer.end.resume();
      await settle();
      assert.ok(peer.frames.some((f) => f.type === FrameType.Ping && f.flags === Flag.ACK && f.length === 5));
    });
  });

  describe('half-close', () => {
    it('ends the readable side on FIN while the writable side keeps working', async () => {
      const { server, client } = sessionPair();
      const inbound = once(client, 'stream');
      const s = server.openStream();
      s.end('request');
      const [peer] = (await inbound) as [MuxStream];
      assert.equal((await readAll(peer)).toString(), 'request');
      assert.equal(client.streamCount, 1, 'still open for writing');
      peer.write('response part 1, ');
      peer.end('part 2');
      assert.equal((await readAll(s)).toString(), 'response part 1, part 2');
      await settle();
      assert.equal(client.streamCount, 0);
      assert.equal(server.streamCount, 0);
    });

    it('sends FIN after pending data, then nothing more when the stream closes normally', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      s.end(pattern(300 * KiB));
      await settle();
      peer.windowUpdate(2, 300 * KiB);
      await settle();
      peer.windowUpdate(2, 0, Flag.ACK | Flag.FIN);
      s.resume();
      await once(s, 'close');
      await settle();
      const frames = peer.take().map(headerOf);
      const last = frames.at(-1);
      assert.deepEqual(last, { type: FrameType.WindowUpdate, flags: Flag.FIN, streamId: 2, length: 0 });
      assert.equal(frames.filter((f) => f.flags & Flag.RST).length, 0);
      assert.equal(session.streamCount, 0);
    });

    it('resets a half-closed stream whose peer never sends FIN (stream close timeout)', async () => {
      const { session, peer, clock } = rawPair({ streamCloseTimeoutMs: 1000 });
      const s = session.openStream();
      s.resume();
      s.end();
      await settle();
      peer.take();
      const errored = once(s, 'error');
      clock.advance(1000);
      const [error] = await errored;
      assert.ok(error instanceof MuxTimeoutError);
      assert.equal(error.kind, 'stream-close');
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 2, length: 0 },
      ]);
    });
  });

  describe('reset', () => {
    it('sends RST when a stream is destroyed before both sides finished', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      s.destroy();
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: 2, length: 0 },
        { type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 2, length: 0 },
      ]);
      assert.equal(session.streamCount, 0);
    });

    it('destroys the stream with MuxStreamResetError on a received RST, without answering', async () => {
      const { session, peer } = rawPair();
      const s = session.openStream();
      let callbackError: unknown;
      s.write(pattern(WINDOW + 10), (e) => {
        callbackError = e;
      });
      await settle();
      peer.take();
      peer.windowUpdate(2, 0, Flag.RST);
      const [error] = await once(s, 'error');
      assert.ok(error instanceof MuxStreamResetError);
      assert.equal(error.code, 'TUN_ERR_MUX_STREAM_RESET');
      await settle();
      assert.ok(callbackError instanceof Error, 'the pending write fails');
      assert.deepEqual(peer.take(), []);
      assert.equal(session.streamCount, 0);
    });

    it('resets the peer stream end to end between two sessions', async () => {
      const { server, client } = sessionPair();
      const inbound = once(client, 'stream');
      const s = server.openStream();
      s.write('x');
      const [peer] = (await inbound) as [MuxStream];
      s.destroy();
      const [error] = await once(peer, 'error');
      assert.ok(error instanceof MuxStreamResetError);
    });

    it('drops data the peer sent before it saw our RST', async () => {
      const { session, peer, closes } = rawPair({ role: 'client' });
      session.on('stream', (s) => s.destroy());
      peer.data(2, Buffer.from('a'), Flag.SYN);
      peer.data(2, Buffer.from('b'));
      await settle();
      assert.deepEqual(closes, []);
      assert.equal(session.streamCount, 0);
    });
  });

  describe('go-away', () => {
    it('.goAway tells the peer, which then refuses to open streams; existing streams continue', async () => {
      const { server, client } = sessionPair();
      client.on('stream', (s) => s.pipe(s));
      const existing = server.openStream();
      await settle();
      const codes: number[] = [];
      server.on('goaway', (code) => codes.push(code));
      client.goAway();
      assert.equal(client.localGoAway, true);
      await settle();
      assert.deepEqual(codes, [GoAwayCode.Normal]);
      assert.equal(server.remoteGoAway, true);
      assert.throws(
        () => server.openStream(),
        (e: unknown) => e instanceof MuxGoAwayError && e.code === 'TUN_ERR_MUX_GO_AWAY',
      );
      existing.end('still works');
      assert.equal((await readAll(existing)).toString(), 'still works');
      assert.equal(server.closed, false);
      assert.equal(client.closed, false);
    });

    it('accepts a SYN the peer sent before it read our go-away, and refuses with RST those after it did', async () => {
      const { session, peer } = rawPair({ role: 'client' });
      const streams: MuxStream[] = [];
      session.on('stream', (s) => streams.push(s));
      session.goAway();
      session.goAway(); // idempotent
      await settle();
      const [goAway, ping] = peer.take();
      assert.deepEqual(goAway && headerOf(goAway), { type: FrameType.GoAway, flags: 0, streamId: 0, length: 0 });
      assert.deepEqual(ping && { type: ping.type, flags: ping.flags }, { type: FrameType.Ping, flags: Flag.SYN }, 'a ping follows the go-away');
      // The peer routed a request here before reading the go-away: it is served, not lost.
      peer.windowUpdate(2, 0, Flag.SYN);
      await settle();
      assert.equal(streams.length, 1);
      assert.equal(session.goAwaySeen, false);
      // The peer answers the ping after reading the go-away: from now on a SYN breaks the rule and is refused.
      peer.send({ type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: ping?.length ?? 0 });
      await settle();
      assert.equal(session.goAwaySeen, true);
      peer.take();
      peer.windowUpdate(4, 0, Flag.SYN);
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [{ type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 4, length: 0 }]);
      assert.equal(streams.length, 1);
    });

    it('closes on a go-away with an error code', async () => {
      const { session, peer, closes } = rawPair();
      const s = session.openStream();
      const codes: number[] = [];
      session.on('goaway', (c) => codes.push(c));
      peer.send({ type: FrameType.GoAway, flags: 0, streamId: 0, length: GoAwayCode.InternalError });
      const [error] = await once(s, 'error');
      assert.ok(error instanceof MuxSessionClosedError);
      assert.deepEqual(codes, [GoAwayCode.InternalError]);
      assert.ok(closes[0] instanceof MuxGoAwayError);
      assert.equal(closes[0].goAwayCode, GoAwayCode.InternalError);
    });
  });

  describe('.ping and keepalive', () => {
    it('answers a peer ping with ACK and the same opaque value', async () => {
      const { peer } = rawPair();
      peer.send({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 0xcafe });
      await settle();
      assert.deepEqual(peer.take().map(headerOf), [
        { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 0xcafe },
      ]);
    });

    it('resolves with the round-trip time on the session clock', async () => {
      const { session, peer, clock } = rawPair();
      const rtt = session.ping();
      await settle();
      const [ping] = peer.take();
      assert.equal(ping?.type, FrameType.Ping);
      assert.equal(ping.flags, Flag.SYN);
      clock.advance(42);
      peer.send({ type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: ping.length });
      assert.equal(await rtt, 42);
    });

    it('works between two sessions', async () => {
      const { server, client } = sessionPair();
      assert.equal(await server.ping(), 0);
      assert.equal(await client.ping(), 0);
    });

    it('rejects pending pings when the session closes', async () => {
      const { session } = rawPair();
      const rtt = session.ping();
      session.close();
      await assert.rejects(rtt, MuxSessionClosedError);
      await assert.rejects(session.ping(), MuxSessionClosedError);
    });

    it('pings every interval and stays open while pings are answered', async () => {
      const { server, client, clock } = sessionPair({
        server: { keepAliveIntervalMs: 30_000, keepAliveTimeoutMs: 10_000 },
      });
      let pings = 0;
      client.on('close', () => {});
      for (let i = 0; i < 5; i++) {
        clock.advance(30_000);
        pings++;
        await settle();
      }
      clock.advance(10_000);
      assert.equal(pings, 5);
      assert.equal(server.closed, false);
      assert.equal(client.closed, false);
    });

    it('closes with a keepalive timeout when a ping is not answered in time', async () => {
      const { session, peer, clock, closes } = rawPair({ keepAliveIntervalMs: 30_000, keepAliveTimeoutMs: 10_000 });
      const s = session.openStream();
      s.on('error', () => {});
      clock.advance(29_999);
      await settle();
      assert.equal(peer.take().filter((f) => f.type === FrameType.Ping).length, 0);
      clock.advance(1);
      await settle();
      assert.equal(peer.take().filter((f) => f.type === FrameType.Ping && f.flags === Flag.SYN).length, 1);
      clock.advance(9_999);
      assert.equal(session.closed, false);
      clock.advance(1);
      assert.equal(session.closed, true);
      assert.ok(closes[0] instanceof MuxTimeoutError);
      assert.equal(closes[0].kind, 'keepalive');
      assert.equal(s.destroyed, true);
    });

    it('sends no pings when the interval is 0', async () => {
      const { peer, clock } = rawPair({ keepAliveIntervalMs: 0 });
      clock.advance(10 * 60_000);
      await settle();
      assert.deepEqual(peer.take(), []);
      assert.equal(clock.pending, 0);
    });
  });

  describe('closing the transport', () => {
    it('drops the flush deadline when the transport closes without finishing (nothing keeps the process alive)', async () => {
      const clock = new FakeClock();
      // A transport whose end never completes (its peer stopped reading), then is destroyed by its owner.
      const transport = new Duplex({ read() {}, write(_c, _e, cb) { cb(); }, final() {} });
      const session = new MuxSession(transport, { role: 'client', clock, keepAliveIntervalMs: 0 });
      session.close();
      await settle();
      assert.equal(clock.pending, 1, 'the flush deadline is armed while the end is pending');
      transport.destroy();
      await settle();
      assert.equal(clock.pending, 0);
    });
  });

  describe('stream open timeout', () => {
    it('closes the session when a SYN is not ACKed in time (as yamux does)', async () => {
      const { session, clock, closes } = rawPair({ streamOpenTimeoutMs: 75_000 });
      session.openStream().on('error', () => {});
      clock.advance(75_000);
      assert.equal(session.closed, true);
      assert.ok(closes[0] instanceof MuxTimeoutError);
      assert.equal(closes[0].kind, 'stream-open');
    });

    it('is cancelled by the ACK', async () => {
      const { session, peer, clock } = rawPair({ streamOpenTimeoutMs: 75_000 });
      session.openStream();
      peer.windowUpdate(2, 0, Flag.ACK);
      await settle();
      clock.advance(100_000);
      assert.equal(session.closed, false);
    });
  });

  describe('protocol errors', () => {
    const cases: Array<[string, Options, (peer: RawPeer) => void, string]> = [
      ['a bad version', {}, (p) => p.end.write(Buffer.from('050000000000000000000000', 'hex')), 'invalid-version'],
      ['an unknown type', {}, (p) => p.end.write(Buffer.from('000900000000000000000000', 'hex')), 'invalid-type'],
      ['a SYN with our own ID parity', {}, (p) => p.windowUpdate(2, 0, Flag.SYN), 'invalid-stream-id'],
      [
        'a SYN for a stream that is open',
        {},
        (p) => {
          p.windowUpdate(3, 0, Flag.SYN);
          p.windowUpdate(3, 0, Flag.SYN);
        },
        'duplicate-stream',
      ],
      [
        'a SYN for a stream that is half-closed (still open one way)',
        {},
        (p) => {
          p.windowUpdate(3, 0, Flag.SYN | Flag.FIN);
          p.windowUpdate(3, 0, Flag.SYN);
        },
        'duplicate-stream',
      ],
      ['a SYN on stream 0 (the session)', {}, (p) => p.windowUpdate(0, 0, Flag.SYN), 'invalid-stream-id'],
      // 1 MiB, over the largest window of a session whose windows do not grow (the default cap is 2 MiB).
      ['an oversized data frame', { windowCap: 256 * 1024 }, (p) => p.end.write(Buffer.from('000000000000000100100000', 'hex')), 'frame-too-large'],
      ['a data frame over the window cap', {}, (p) => p.end.write(Buffer.from('000000000000000100200001', 'hex')), 'frame-too-large'],
    ];
    for (const [name, options, act, reason] of cases) {
      it(`answers ${name} with go-away(1) and closes with MuxProtocolError(${reason})`, async () => {
        const { session, peer, closes } = rawPair(options);
        session.on('stream', (s) => s.on('error', () => {}));
        act(peer);
        await settle();
        assert.equal(session.closed, true);
        assert.equal(closes.length, 1);
        assert.ok(closes[0] instanceof MuxProtocolError);
        assert.equal(closes[0].reason, reason);
        const goAways = peer.frames.filter((f) => f.type === FrameType.GoAway);
        assert.deepEqual(goAways.map((f) => f.length), [GoAwayCode.ProtocolError]);
      });
    }

    it('never lets random bytes throw out of the transport handler', async () => {
      let seed = 99;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      for (let round = 0; round < 50; round++) {
        const { session, peer } = rawPair({ role: 'client' });
        session.on('stream', (s) => s.on('error', () => {}).resume());
        const bytes = Buffer.alloc(400);
        for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.7 ? 0 : Math.floor(random() * 256);
        for (let at = 0; at < bytes.length; at += 37) peer.end.write(bytes.subarray(at, at + 37));
        await settle(5);
        session.close();
      }
    });
  });

  describe('session end', () => {
    it("emits 'close' once when the transport ends, and fails open streams promptly", async () => {
      const { session, peer, closes } = rawPair();
      const s = session.openStream();
      let callbackError: unknown;
      s.write(pattern(WINDOW + 1), (e) => {
        callbackError = e;
      });
      peer.end.end();
      const [error] = await once(s, 'error');
      assert.ok(error instanceof MuxSessionClosedError);
      assert.equal(error.code, 'TUN_ERR_MUX_SESSION_CLOSED');
      await settle();
      assert.equal(closes.length, 1);
      assert.ok(callbackError instanceof Error);
      assert.equal(session.streamCount, 0);
    });

    it('closes with the transport error', async () => {
      const { session, ours, closes } = rawPair();
      const s = session.openStream();
      s.on('error', () => {});
      const boom = new Error('boom');
      ours.destroy(boom);
      await settle();
      assert.deepEqual(closes, [boom]);
      assert.equal(s.destroyed, true);
    });

    it('closes when the transport is destroyed without an error', async () => {
      const { session, peer, closes } = rawPair();
      peer.end.destroy();
      await settle();
      assert.equal(session.closed, true);
      assert.equal(closes.length, 1);
    });

    it('.close is idempotent, ends the transport, and the peer session closes too', async () => {
      const { server, client } = sessionPair();
      const serverCloses: Array<Error | undefined> = [];
      server.on('close', (e) => serverCloses.push(e));
      const clientClosed = once(client, 'close');
      const s = server.openStream();
      const inbound = (await once(client, 'stream')) as [MuxStream];
      inbound[0].on('error', () => {});
      const errored = once(s, 'error');
      const reason = new Error('shutting down');
      server.close(reason);
      server.close();
      assert.deepEqual(serverCloses, [reason]);
      const [error] = await errored;
      assert.ok(error instanceof MuxSessionClosedError);
      assert.equal(error.cause, reason);
      await clientClosed;
      assert.equal(client.closed, true);
    });

    it('does not destroy streams that already finished both ways', async () => {
      const { server, client } = sessionPair();
      client.on('stream', (s) => s.end('bye'));
      const s = server.openStream();
      s.end();
      const body = await readAll(s);
      assert.equal(body.toString(), 'bye');
      await settle();
      let errored = false;
      s.on('error', () => {
        errored = true;
      });
      server.close();
      await settle();
      assert.equal(errored, false);
    });
  });
});
