import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { splitAddr } from './http.js';

/** Open descriptors of a process, from /proc (0 if it is gone). */
export function countFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Opens a TCP connection to `addr` that keeps its write side open when the peer ends (half-open allowed). */
export async function openSocket(addr: string, options: { localAddress?: string } = {}): Promise<Socket> {
  const [host, port] = splitAddr(addr);
  const socket = connect({ host, port, allowHalfOpen: true, ...options });
  socket.on('error', () => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Opens `n` connections to `addr`, `batch` at a time (bounded, so the listen backlog is not overrun). */
export async function openSockets(addr: string, n: number, batch = 250): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += batch) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => openSocket(addr)))));
  }
  return sockets;
}

/** What a raw exchange saw: the bytes the server sent, and whether it closed the connection. */
export interface RawReply {
  readonly text: string;
  /** The status code of the first response line, or 0. */
  readonly status: number;
  /** True when the server ended or reset the connection before the wait ran out. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` on a fresh connection and collects what comes back until the server closes or `waitMs`
 * passes (the client never closes first, so a server that leaves the connection half-open is seen).
 */
export async function rawExchange(addr: string, bytes: string | Buffer, waitMs = 5_000): Promise<RawReply> {
  const socket = await openSocket(addr);
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  socket.write(bytes);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('end', done);
    socket.once('close', done);
  });
  socket.destroy();
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return { text, status: m ? Number(m[1]) : 0, closed };
}

/** A WebSocket handshake request for `path`, with `overrides` replacing (or, with `undefined`, removing) headers. */
export function wsHandshake(path: string, overrides: Record<string, string | undefined> = {}, method = 'GET'): string {
  const headers: Record<string, string | undefined> = {
    host: 'localhost',
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...overrides,
  };
  const lines = Object.entries(headers)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/** A TCP service on 127.0.0.1:0 that echoes what it reads and counts the connections it accepted. */
export async function startEchoService(): Promise<{ server: Server; port: number; accepted(): number; close(): void }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  };
}

/** A port on 127.0.0.1 that refuses connections (bound once, then closed). */
export async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * Opens `n` connections that send a request line and then one header line every `intervalMs`, never finishing
 * the headers (slowloris). Resolves with the sockets once all are open; each stops sending when it closes.
 */
export async function startSlowloris(addr: string, n: number, intervalMs: number): Promise<Socket[]> {
  const sockets = await openSockets(addr, n);
  for (const [i, s] of sockets.entries()) {
    s.resume(); // read (and drop) whatever the server answers, so its FIN is seen
    s.write(`GET /slow-${i} HTTP/1.1\r\nHost: web.example.com\r\n`);
    const timer = setInterval(() => (s.writable ? s.write(`x-slow-${i}: 1\r\n`) : undefined), intervalMs);
    s.once('end', () => clearInterval(timer));
    s.once('close', () => clearInterval(timer));
  }
  return sockets;
}

/** Resolves once every socket has seen the server's FIN (or closed); rejects after `timeoutMs`. */
export async function allEnded(sockets: readonly Socket[], timeoutMs: number, what: string): Promise<void> {
  const ended = sockets.map((s) => (s.readableEnded || s.destroyed ? undefined : (s.resume(), new Promise((r) => (s.once('end', r), s.once('close', r))))));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(ended),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still open after ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
