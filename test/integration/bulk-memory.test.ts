import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fetchRaw, splitAddr, startService } from '../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../support/processes.js';

const GIB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < CHUNK.length; i++) CHUNK[i] = (i * 31) & 0xff;

/** Digest of `total` bytes made of repeated CHUNKs, as the other side computes it. */
function expectedDigest(total: number): string {
  const h = createHash('sha256');
  for (let sent = 0; sent < total; sent += CHUNK.length) h.update(CHUNK.subarray(0, Math.min(CHUNK.length, total - sent)));
  return h.digest('hex');
}

/** Samples the RSS of processes every 100 ms; returns the peak growth over the first sample. */
function sampleRss(procs: Proc[]): { stop(): number[] } {
  const base = procs.map((p) => p.rss());
  const peak = [...base];
  const timer = setInterval(() => procs.forEach((p, i) => (peak[i] = Math.max(peak[i]!, p.rss()))), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return peak.map((p, i) => p - base[i]!);
    },
  };
}

describe('1 GiB each way with bounded memory', () => {
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    service = await startService((req, res) => {
      if (req.method === 'POST') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') })));
        return;
      }
      const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? GIB);
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return;
        }
        res.end();
      };
      res.on('drain', pump);
      pump();
    });
    // Header timeouts of 1 s on both hops: they count from the end of the request body, so the 1 GiB upload
    // passes however long it takes (it once failed whenever it took over the agent's default 10 s).
    server = await startServer(['--proxy.access-log.disable', '--proxy.timeout', '1s']);
    agent = await startAgent([
      'http', 'bulk', String(service.port), '--connect.url', `http://${server.addrs.upstream}`, '--access-log.disable', '--timeout', '1s',
    ]);
    // Warm up both directions (64 MiB each) so the baseline is a process that has carried traffic: lazily
    // grown runtime structures are not counted as growth caused by the 1 GiB transfers.
    const warm = 64 * 1024 * 1024;
    const down = await fetchRaw(server.addrs.proxy, { path: `/download?size=${warm}`, headers: { 'x-piko-endpoint': 'bulk' } });
    assert.equal(down.body.length, warm);
    const up = await fetchRaw(server.addrs.proxy, { method: 'POST', path: '/upload', headers: { 'x-piko-endpoint': 'bulk' }, body: Buffer.alloc(warm, 1) });
    assert.equal(up.json<{ bytes: number }>().bytes, warm);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    await service?.close();
  });

  it('downloads 1 GiB byte-identical while server and agent RSS grow by less than 100 MB', async () => {
    const [host, port] = splitAddr(server.addrs.proxy);
    const rss = sampleRss([server, agent]);
    const started = Date.now();
    const { bytes, digest } = await new Promise<{ bytes: number; digest: string }>((resolve, reject) => {
      const req = request({ host, port, path: '/download', headers: { 'x-piko-endpoint': 'bulk' }, agent: false }, (res) => {
        const h = createHash('sha256');
        let n = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          n += c.length;
        });
        res.on('end', () => resolve({ bytes: n, digest: h.digest('hex') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const seconds = (Date.now() - started) / 1000;
    const growth = rss.stop();
    process.stderr.write(`download: ${(GIB / 1048576 / seconds).toFixed(0)} MiB/s, RSS growth server ${(growth[0]! / 1e6).toFixed(1)} MB agent ${(growth[1]! / 1e6).toFixed(1)} MB\n`);
    assert.equal(bytes, GIB);
    assert.equal(digest, expectedDigest(GIB));
    assert.ok(growth[0]! < 100e6, `server RSS grew ${growth[0]} bytes`);
    assert.ok(growth[1]! < 100e6, `agent RSS grew ${growth[1]} bytes`);
  });

  it('uploads 1 GiB byte-identical while server and agent RSS grow by less than 100 MB', async () => {
    const [host, port] = splitAddr(server.addrs.proxy);
    const rss = sampleRss([server, agent]);
    const started = Date.now();
    const answer = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      const req = request(
        { host, port, method: 'POST', path: '/upload', headers: { 'x-piko-endpoint': 'bulk', 'content-length': GIB }, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as { bytes: number; sha256: string }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < GIB) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return;
        }
        req.end();
      };
      req.on('drain', pump);
      pump();
    });
    const seconds = (Date.now() - started) / 1000;
    const growth = rss.stop();
    process.stderr.write(`upload: ${(GIB / 1048576 / seconds).toFixed(0)} MiB/s, RSS growth server ${(growth[0]! / 1e6).toFixed(1)} MB agent ${(growth[1]! / 1e6).toFixed(1)} MB\n`);
    assert.equal(answer.bytes, GIB);
    assert.equal(answer.sha256, expectedDigest(GIB));
    assert.ok(growth[0]! < 100e6, `server RSS grew ${growth[0]} bytes`);
    assert.ok(growth[1]! < 100e6, `agent RSS grew ${growth[1]} bytes`);
  });
});
