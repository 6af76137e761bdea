import { createHash } from 'node:crypto';
import { createServer, request, Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer } from 'ws';

import { splitAddr } from './http.js';

const CHUNK = 64 * 1024;
/** A deterministic 64 KiB block; each generated chunk is this block stamped with its index. */
const BLOCK = (() => {
  const out = Buffer.alloc(CHUNK);
  let seed = createHash('sha256').update('piko-interop').digest();
  for (let off = 0; off < CHUNK; off += seed.length) {
    seed.copy(out, off);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
})();

/** Chunk `i` of the test pattern (`size` bytes at most): reordered, lost or repeated chunks change the hash. */
function patternChunk(i: number, size: number): Buffer {
  const chunk = Buffer.from(BLOCK.subarray(0, size));
  chunk.writeUInt32BE(i, 0);
  return chunk;
}

/** `bytes` bytes of the test pattern as a stream. */
export function patternStream(bytes: number): Readable {
  let i = 0;
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, left);
      left -= size;
      this.push(patternChunk(i++, size));
    },
  });
}

/** SHA-256 (hex) of `bytes` bytes of the test pattern. */
export function patternSha256(bytes: number): string {
  const hash = createHash('sha256');
  for (let i = 0, left = bytes; left > 0; i++) {
    const size = Math.min(CHUNK, left);
    hash.update(patternChunk(i, size));
    left -= size;
  }
  return hash.digest('hex');
}

/**
 * An HTTP service for interop tests, on 127.0.0.1:0:
 * - `GET /echo/<tag>`: JSON `{ method, url }`; the request headers are kept in `seen.get(tag)`;
 * - `GET /download?bytes=N`: N bytes of the test pattern;
 * - `POST /upload`: JSON `{ bytes, sha256 }` of the body received;
 * - `GET /sse`: a text/event-stream of `SSE_EVENTS` events; event k+1 is written only after the test calls
 *   `sseNext()`, so a proxy that held events back until the end would stall the test;
 * - `GET /slow`: never answers (for timeouts);
 * - WebSocket upgrades on any path: an echo.
 */
export interface InteropService {
  readonly port: number;
  readonly addr: string;
  readonly seen: Map<string, IncomingHttpHeaders>;
  /** Allows the SSE handler to write its next event. */
  sseNext(): void;
  close(): Promise<void>;
}

/** Events the SSE route sends. */
export const SSE_EVENTS = 5;

/** Starts the {@link InteropService}. */
export async function startInteropService(): Promise<InteropService> {
  const seen = new Map<string, IncomingHttpHeaders>();
  let permits = 0;
  let wake: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    req.on('error', () => res.destroy());
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/echo/')) {
      seen.set(url.pathname.slice('/echo/'.length), { ...req.headers });
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-service', 'interop');
        res.end(JSON.stringify({ method: req.method, url: req.url }));
      });
      return;
    }
    if (url.pathname === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      pipeline(patternStream(Number(url.searchParams.get('bytes') ?? 0)), res).catch(() => res.destroy());
      return;
    }
    if (url.pathname === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
      });
      return;
    }
    if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      permits = 0;
      let closed = false;
      res.on('close', () => {
        closed = true;
        wake?.();
      });
      void (async () => {
        for (let k = 0; k < SSE_EVENTS && !closed; k++) {
          if (k > 0) {
            while (permits === 0 && !closed) await new Promise<void>((r) => (wake = r));
            permits--;
          }
          res.write(`id: ${k}\ndata: event ${k}\n\n`);
        }
        res.end();
      })();
      return;
    }
    if (url.pathname === '/slow') {
      req.resume();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such test route\n');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (sock) => {
    sock.on('error', () => sock.terminate());
    sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    seen,
    sseNext: () => {
      permits++;
      wake?.();
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Downloads `path` through `proxyAddr` and returns the status, byte count and SHA-256 of the body. */
export function downloadSha256(proxyAddr: string, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; bytes: number; sha256: string }> {
  const [host, port] = splitAddr(proxyAddr);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('download timed out (deadlock guard)')));
    req.on('error', reject);
    req.end();
  });
}

/** Uploads `bytes` bytes of the pattern to `/upload` through `proxyAddr`; resolves with the service's answer. */
export function uploadPattern(proxyAddr: string, bytes: number, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  const [host, port] = splitAddr(proxyAddr);
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, method: 'POST', path: '/upload', headers: { ...headers, 'content-length': bytes }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('upload timed out (deadlock guard)')));
    req.on('error', reject);
    pipeline(patternStream(bytes), req).catch(reject);
  });
}

/**
 * Sends `total` GETs for `path` through `proxyAddr`, `parallel` at a time over keep-alive connections, and
 * counts the outcomes by status (`'error: <code>'` for a failed request).
 */
export async function concurrentGets(
  proxyAddr: string,
  path: string,
  headers: OutgoingHttpHeaders,
  total: number,
  parallel: number,
): Promise<Record<string, number>> {
  const [host, port] = splitAddr(proxyAddr);
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const outcomes: Record<string, number> = {};
  let next = 0;
  const one = (): Promise<string> =>
    new Promise((resolve) => {
      const req = request({ host, port, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (e: NodeJS.ErrnoException) => resolve(`error: ${e.code ?? e.message}`));
      });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`error: ${e.code ?? e.message}`));
      req.end();
    });
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      const outcome = await one();
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    agent.destroy();
  }
  return outcomes;
}
