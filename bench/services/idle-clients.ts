import { WebSocket } from 'ws';

/**
 * Holds many idle upstream connections open on one server node. Each is a plain WebSocket to
 * `<base>/<prefix><i>` that sends nothing, except answers to the server's yamux keepalive pings so that a long
 * hold does not trip the server's ping timeout.
 *
 * yamux frame header (12 bytes, big endian): version u8, type u8, flags u16, stream ID u32, length u32. Type 0
 * is data (length bytes of payload follow); type 2 is ping, where flags SYN (1) asks for a reply carrying the
 * same opaque value (the length field) with flags ACK (2).
 *
 * IPC: sends `ready`; on `go` opens the connections and sends `progress` then `done`; answers `stat`; on
 * `close` closes everything and exits.
 */
interface Spec {
  base: string;
  prefix: string;
  start: number;
  count: number;
  concurrency: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const sockets: WebSocket[] = [];
let opened = 0;
let failed = 0;
let closed = 0;
let pings = 0;
let firstError: string | undefined;

const TYPE_DATA = 0;
const TYPE_PING = 2;
const FLAG_SYN = 1;
const FLAG_ACK = 2;

/** Reads whole yamux frames from `buf` (remainder kept by the caller) and answers ping requests. */
function onFrames(ws: WebSocket, buf: Buffer): Buffer {
  let off = 0;
  while (buf.length - off >= 12) {
    const type = buf[off + 1];
    const flags = buf.readUInt16BE(off + 2);
    const length = buf.readUInt32BE(off + 8);
    const frameLen = 12 + (type === TYPE_DATA ? length : 0);
    if (buf.length - off < frameLen) break;
    if (type === TYPE_PING && (flags & FLAG_SYN) !== 0) {
      const pong = Buffer.alloc(12);
      pong[1] = TYPE_PING;
      pong.writeUInt16BE(FLAG_ACK, 2);
      pong.writeUInt32BE(length, 8);
      ws.send(pong);
      pings++;
    }
    off += frameLen;
  }
  return buf.subarray(off);
}

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${spec.base}/${spec.prefix}${i}`, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    ws.binaryType = 'nodebuffer';
    let rest: Buffer = Buffer.alloc(0);
    let settled = false;
    ws.on('open', () => {
      settled = true;
      opened++;
      sockets.push(ws);
      resolve();
    });
    ws.on('message', (data: Buffer) => {
      rest = onFrames(ws, rest.length === 0 ? data : Buffer.concat([rest, data]));
    });
    ws.on('error', (err) => {
      firstError ??= err.message;
      if (!settled) {
        settled = true;
        failed++;
        resolve();
      }
    });
    ws.on('close', () => {
      if (settled) closed++;
      else {
        settled = true;
        failed++;
        resolve();
      }
    });
  });
}

async function go(): Promise<void> {
  const t0 = performance.now();
  const progress = setInterval(() => process.send?.({ type: 'progress', opened, failed }), 500);
  let next = spec.start;
  const end = spec.start + spec.count;
  const worker = async (): Promise<void> => {
    while (next < end) await open(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, spec.concurrency) }, worker));
  clearInterval(progress);
  process.send?.({ type: 'done', opened, failed, ms: performance.now() - t0, firstError });
}

process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'go') void go();
  else if (msg.type === 'stat') process.send?.({ type: 'stat', open: opened - closed, closed, pings, failed });
  else if (msg.type === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
