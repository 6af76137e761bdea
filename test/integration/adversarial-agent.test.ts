/**
 * A malicious agent against a real server process: raw WebSocket clients on the upstream route send what no
 * honest agent sends. For each attack the server must stay up, a healthy agent on another endpoint must keep
 * being served, the attacker's session must end (or, where yamux itself tolerates the input, be harmless), and the
 * server's descriptors and memory must come back near their baseline.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { encodeFrame, FrameDecoder } from '../../src/adapters/wire/mux/codec.js';
import { Flag, FrameType, GoAwayCode, type Frame, type FrameHeader } from '../../src/adapters/wire/mux/frame.js';
import { eventually, fetchRaw, splitAddr, startService, type FullResponse } from '../support/http.js';
import { readRss, startAgent, startServer, type LogLine, type Proc, type ServerProc } from '../support/processes.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Descriptors the server may hold above its baseline once an attack is over (timers, a lingering socket). */
const FD_SLACK = 4;
/** RSS the server may keep above its baseline once an attack is over (V8 keeps freed heap for a while). */
const RSS_SLACK = 96 * MiB;
/** Pings sent by the flood test; `ADVERSARIAL_PINGS=2000000` gives the figures of the README. */
const FLOOD_PINGS = Number(process.env.ADVERSARIAL_PINGS ?? 600_000);

const frame = (h: FrameHeader, payload?: Buffer): Buffer => encodeFrame(h, payload);
const data = (streamId: number, payload: Buffer, flags = 0): Buffer =>
  frame({ type: FrameType.Data, flags, streamId, length: payload.length }, payload);
const windowUpdate = (streamId: number, flags: number, delta = 0): Buffer =>
  frame({ type: FrameType.WindowUpdate, flags, streamId, length: delta });
const ping = (opaque: number): Buffer => frame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: opaque });
const goAway = (code: number): Buffer => frame({ type: FrameType.GoAway, flags: 0, streamId: 0, length: code });

function countFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** A WebSocket client speaking raw yamux on the upstream route; it records every frame the server sends. */
class Attacker {
  readonly frames: Frame[] = [];
  readonly closed: Promise<number>;
  readonly #decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });

  private constructor(readonly ws: WebSocket) {
    ws.on('error', () => {});
    ws.on('message', (msg: Buffer) => {
      try {
        for (const f of this.#decoder.push(msg)) this.frames.push(f);
      } catch {
        // The test asserts on what it expects; bytes it cannot decode are ignored.
      }
    });
    this.closed = once(ws, 'close').then(([code]) => code as number);
  }

  static async connect(upstreamAddr: string, endpointId: string): Promise<Attacker> {
    const ws = new WebSocket(`ws://${upstreamAddr}/piko/v1/upstream/${endpointId}`, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    const attacker = new Attacker(ws);
    await once(ws, 'open');
    return attacker;
  }

  send(...parts: Buffer[]): void {
    this.ws.send(Buffer.concat(parts), { binary: true });
  }

  /** Resolves with the first SYN the server sends (a proxied request), within `timeoutMs`. */
  async nextSyn(timeoutMs = 10_000): Promise<Frame> {
    let found: Frame | undefined;
    await eventually(() => (found = this.frames.find((f) => f.flags & Flag.SYN && f.streamId % 2 === 0)) !== undefined, timeoutMs, 'a SYN from the server');
    return found!;
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * An upstream connection on a raw TCP socket that completes the WebSocket handshake and then never reads again,
 * as a flooding agent would: whatever the server sends piles up in the kernel, then in the server.
 */
async function nonReadingUpstream(upstreamAddr: string, endpointId: string): Promise<Socket> {
  const [host, port] = splitAddr(upstreamAddr);
  const socket = connect({ host, port });
  socket.on('error', () => socket.destroy());
  await once(socket, 'connect');
  socket.write(
    `GET /piko/v1/upstream/${endpointId} HTTP/1.1\r\nHost: ${upstreamAddr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
  socket.pause();
  return socket;
}

/** Resolves when `socket` can take more writes or is gone; never rejects. */
function writable(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}

/** One client-to-server binary WebSocket message (masked with a zero key, so the payload goes as it is). */
function wsBinary(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x82, 0x80 | n]) : Buffer.alloc(10);
  if (n >= 126) {
    head[0] = 0x82;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

describe('a malicious agent harms neither the server nor the other agents', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;
  let baseline: { fds: number; rss: number };
  let attackerCount = 0;

  const pid = (): number => server.child.pid ?? 0;
  const healthy = (): Promise<FullResponse> => fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'healthy' } });
  const disconnected = (id: string, timeoutMs = 15_000): Promise<LogLine> =>
    server.waitFor((l) => l.message === 'upstream disconnected' && l['endpoint-id'] === id, timeoutMs);
  const connected = (id: string): Promise<LogLine> =>
    server.waitFor((l) => l.message === 'upstream connected' && l['endpoint-id'] === id);

  async function attacker(): Promise<{ id: string; a: Attacker }> {
    const id = `evil-${++attackerCount}`;
    const a = await Attacker.connect(server.addrs.upstream, id);
    await connected(id);
    return { id, a };
  }

  async function assertUnharmed(): Promise<void> {
    assert.equal(server.child.exitCode, null, 'the server process exited');
    for (let i = 0; i < 5; i++) {
      const res = await healthy();
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'healthy');
    }
    await eventually(() => countFds(pid()) <= baseline.fds + FD_SLACK, 20_000, `descriptors back near ${baseline.fds}`).catch(() => {
      assert.fail(`descriptors ${countFds(pid())}, baseline ${baseline.fds}`);
    });
    const rss = readRss(pid());
    assert.ok(rss <= baseline.rss + RSS_SLACK, `RSS ${(rss / MiB).toFixed(0)} MB, baseline ${(baseline.rss / MiB).toFixed(0)} MB`);
  }

  before(async () => {
    service = await startService((_req, res) => res.end('healthy'));
    server = await startServer();
    agent = await startAgent(['http', 'healthy', String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
    for (let i = 0; i < 50; i++) assert.equal((await healthy()).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    baseline = { fds: countFds(pid()), rss: readRss(pid()) };
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  // Attacks after which the server must close the attacker's session, with the reason it logs.
  const closing: Array<[string, (a: Attacker) => Promise<void> | void, RegExp]> = [
    ['garbage bytes', (a) => a.send(Buffer.concat([Buffer.from([0xff]), randomBytes(4095)])), /invalid-version/],
    [
      'a frame with an oversized length',
      (a) => a.send(Buffer.from([0, FrameType.Data, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])),
      /frame-too-large/,
    ],
    ['a SYN with the server’s stream-ID parity', (a) => a.send(windowUpdate(2, Flag.SYN)), /invalid-stream-id/],
    [
      'a SYN repeating the ID of a stream the server has open',
      async (a) => {
        const request = fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': endpointOf(a) } });
        const syn = await a.nextSyn();
        a.send(windowUpdate(syn.streamId, Flag.SYN));
        assert.equal((await request).status, 502);
      },
      /invalid-stream-id|duplicate-stream/,
    ],
    [
      'data beyond the receive window',
      async (a) => {
        const request = fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': endpointOf(a) } });
        const { streamId } = await a.nextSyn();
        // FIN first, so nothing of the data is consumed (and no window returned) before the third frame.
        const chunk = Buffer.alloc(128 * KiB, 0x61);
        a.send(windowUpdate(streamId, Flag.ACK | Flag.FIN), data(streamId, chunk), data(streamId, chunk), data(streamId, chunk));
        assert.equal((await request).status, 502);
      },
      /window-exceeded/,
    ],
    [
      'a text WebSocket message (carrying a valid ping)',
      async (a) => {
        a.ws.send(ping(7).toString('latin1'));
        assert.equal(await a.closed, 1003);
        assert.deepEqual(a.frames, [], 'the text message must not reach the session');
      },
      /text WebSocket message/,
    ],
    ['go-away (protocol error) then data', (a) => a.send(goAway(GoAwayCode.ProtocolError), data(1, Buffer.from('late'))), /go-away/],
    [
      'a WebSocket message above the size limit',
      async (a) => {
        a.send(Buffer.alloc(5 * MiB));
        assert.equal(await a.closed, 1009);
      },
      /closed|payload/i,
    ],
  ];

  const endpoints = new Map<Attacker, string>();
  const endpointOf = (a: Attacker): string => endpoints.get(a)!;

  for (const [name, act, reason] of closing) {
    it(`closes the session of an agent that sends ${name}`, async () => {
      const { id, a } = await attacker();
      endpoints.set(a, id);
      const gone = disconnected(id);
      try {
        await act(a);
        assert.match(String((await gone).reason), reason);
        await a.closed;
      } finally {
        a.close();
      }
      await assertUnharmed();
    });
  }

  it('ignores data on streams it does not know, as yamux does, and the session stays usable', async () => {
    const { id, a } = await attacker();
    a.send(data(7, Buffer.alloc(64 * KiB)), data(9, Buffer.from('x'), Flag.FIN), windowUpdate(11, Flag.RST), ping(42));
    await eventually(() => a.frames.some((f) => f.type === FrameType.Ping && f.flags === Flag.ACK && f.length === 42), 10_000, 'ping reply');
    assert.ok(!a.frames.some((f) => f.type === FrameType.GoAway));
    const gone = disconnected(id);
    a.close();
    assert.equal((await gone).reason, 'closed');
    await assertUnharmed();
  });

  it('unregisters an agent that sends go-away (normal) and ignores its later data', async () => {
    const { id, a } = await attacker();
    const gone = disconnected(id);
    a.send(goAway(GoAwayCode.Normal), data(1, Buffer.from('late')), data(3, Buffer.alloc(1000)));
    assert.equal((await gone).reason, 'go-away');
    const refused = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': id } });
    assert.equal(refused.status, 502);
    a.close();
    await assertUnharmed();
  });

  it(`survives a flood of ${FLOOD_PINGS} pings from agents that do not read, with bounded memory`, async () => {
    const perMessage = 40_000; // 480 KB of pings per WebSocket message
    const message = wsBinary(Buffer.concat(Array.from({ length: perMessage }, (_, i) => ping(i))));
    const before = { fds: countFds(pid()), rss: readRss(pid()) };
    const peak = { ...before };
    const sampler = setInterval(() => {
      peak.fds = Math.max(peak.fds, countFds(pid()));
      peak.rss = Math.max(peak.rss, readRss(pid()));
    }, 50);
    let sent = 0;
    const reasons: string[] = [];
    const deadline = Date.now() + 120_000;
    try {
      while (sent < FLOOD_PINGS && Date.now() < deadline) {
        const id = `flood-${++attackerCount}`;
        const socket = await nonReadingUpstream(server.addrs.upstream, id);
        let ended = false;
        const gone = disconnected(id, 130_000).then(
          (l) => void reasons.push(String(l.reason)),
          () => {},
        );
        void gone.then(() => (ended = true));
        socket.once('close', () => (ended = true));
        while (!ended && sent < FLOOD_PINGS && Date.now() < deadline) {
          const more = socket.write(message);
          sent += perMessage;
          if (!more) await Promise.race([writable(socket), gone]);
        }
        socket.destroy();
        await gone;
      }
    } finally {
      clearInterval(sampler);
    }
    await assertUnharmed();
    const afterFigures = { fds: countFds(pid()), rss: readRss(pid()) };
    const mb = (n: number): string => `${(n / MiB).toFixed(0)} MB`;
    console.log(
      `ping flood: ${sent} pings over ${reasons.length} non-reading sessions; server RSS ${mb(before.rss)} before, ` +
        `${mb(peak.rss)} peak, ${mb(afterFigures.rss)} after; open descriptors ${before.fds} before, ${peak.fds} peak, ` +
        `${afterFigures.fds} after`,
    );
    assert.ok(sent >= FLOOD_PINGS, `only ${sent} pings sent before the deadline`);
    assert.ok(reasons.length > 0 && reasons.every((r) => /control-queue-full|closed/.test(r)), reasons.join('; '));
    assert.ok(reasons.some((r) => /control-queue-full/.test(r)), `no session was closed for its control queue: ${reasons.join('; ')}`);
    assert.ok(peak.rss - before.rss < 200 * MiB, `RSS grew by ${mb(peak.rss - before.rss)} during the flood`);
  });
});
