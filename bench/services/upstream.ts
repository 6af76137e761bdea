import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

/**
 * The upstream service every scenario measures against, in its own process so that its CPU is apart from the
 * proxies'. HTTP: any path answers 1 KiB; `/bulk/<bytes>` streams that many bytes (at most 1 GiB). TCP: a sink
 * that discards what it reads and, when a connection ends, reports over IPC how many bytes it read and when
 * the first and the last arrived (wall-clock milliseconds, comparable across processes on this machine).
 */

const BODY = Buffer.alloc(1024, 'x');
const CHUNK = Buffer.alloc(1 << 20, 'y');
const MAX_BULK = 1 << 30;

function sendBulk(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let left = total;
  res.on('close', () => (left = 0));
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const http = createHttpServer((req, res) => {
  const bulk = /^\/bulk\/(\d+)$/.exec(req.url ?? '');
  if (bulk) {
    sendBulk(res, Math.min(MAX_BULK, Number(bulk[1])));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1024' });
  res.end(BODY);
});
// Proxies keep pooled connections for longer than Node's default 5 s; closing them under load makes errors.
http.keepAliveTimeout = 65_000;
http.headersTimeout = 66_000;

const now = (): number => performance.timeOrigin + performance.now();

/** Bytes read so far on each open sink connection, for a diagnosis when a stream stalls. */
const openSinks = new Map<object, () => number>();
process.on('message', (m: { type?: string }) => {
  if (m.type === 'sink-open') process.send?.({ type: 'sink-open', bytes: [...openSinks.values()].map((f) => f()) });
});

const sink = createTcpServer((sock) => {
  let bytes = 0;
  openSinks.set(sock, () => bytes);
  let firstAt = 0;
  let lastAt = 0;
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    process.send?.({ type: 'sink', bytes, firstAt, lastAt });
  };
  sock.on('data', (chunk: Buffer) => {
    if (bytes === 0) firstAt = now();
    bytes += chunk.length;
    lastAt = now();
  });
  sock.on('end', () => {
    report();
    sock.end();
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    openSinks.delete(sock);
    report();
  });
});

let listening = 0;
const onListening = (): void => {
  if (++listening < 2) return;
  process.send?.({
    type: 'ready',
    httpPort: (http.address() as AddressInfo).port,
    sinkPort: (sink.address() as AddressInfo).port,
  });
};
http.listen(0, '127.0.0.1', onListening);
sink.listen(0, '127.0.0.1', onListening);

// Ends with the bench: the IPC channel closes when the parent exits, even on SIGKILL.
process.on('disconnect', () => process.exit(0));
