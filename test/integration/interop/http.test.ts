import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';

import { fetchRaw, openStream } from '../../support/http.js';
import {
  concurrentGets,
  downloadSha256,
  patternSha256,
  SSE_EVENTS,
  startInteropService,
  uploadPattern,
  type InteropService,
} from '../../support/interop-service.js';
import { SKIP_INTEROP, startGoAgent, startGoServer, waitForEndpoint } from '../../support/piko-binary.js';
import { startAgent, startServer, type Proc } from '../../support/processes.js';

/** 50 MB each way: large enough to cross every window and buffer many times. */
const BULK = 50 * 1024 * 1024;
const ENDPOINT = 'interop-http';
const EP = { 'x-piko-endpoint': ENDPOINT };

interface Pairing {
  readonly name: string;
  /** Starts the server and the agent; returns the proxy address and the processes to stop (agent first). */
  start(service: InteropService): Promise<{ proxy: string; procs: Proc[] }>;
}

const PAIRINGS: readonly Pairing[] = [
  {
    name: 'Piko agent → piko-ts server',
    start: async (service) => {
      const server = await startServer();
      const agent = await startGoAgent('http', ENDPOINT, String(service.port), server.addrs);
      return { proxy: server.addrs.proxy, procs: [agent, server] };
    },
  },
  {
    name: 'piko-ts agent → Piko server',
    start: async (service) => {
      const server = await startGoServer();
      const agent = await startAgent(['http', ENDPOINT, String(service.port), '--connect.url', `http://${server.addrs.upstream}`]);
      await waitForEndpoint(server.addrs.admin, ENDPOINT);
      return { proxy: server.addrs.proxy, procs: [agent, server] };
    },
  },
];

for (const pairing of PAIRINGS) {
  describe(`interop HTTP: ${pairing.name}`, { skip: SKIP_INTEROP }, () => {
    let service: InteropService;
    let proxy: string;
    let procs: Proc[] = [];

    before(async () => {
      service = await startInteropService();
      ({ proxy, procs } = await pairing.start(service));
    });

    after(async () => {
      for (const proc of procs) await proc.stop();
      await service?.close();
    });

    it('carries a GET with query, status, body and the service\'s headers', async () => {
      const res = await fetchRaw(proxy, { path: '/echo/get?x=1', headers: EP });

      assert.equal(res.status, 200);
      assert.equal(res.headers['x-service'], 'interop');
      assert.deepEqual(res.json(), { method: 'GET', url: '/echo/get?x=1' });
    });

    it('downloads 50 MB byte-identical (SHA-256)', { timeout: 90_000 }, async () => {
      const got = await downloadSha256(proxy, `/download?bytes=${BULK}`, EP);

      assert.equal(got.status, 200);
      assert.equal(got.bytes, BULK);
      assert.equal(got.sha256, patternSha256(BULK));
    });

    it('uploads 50 MB byte-identical (SHA-256)', { timeout: 90_000 }, async () => {
      const got = await uploadPattern(proxy, BULK, EP);

      assert.equal(got.status, 200, got.body);
      assert.deepEqual(JSON.parse(got.body), { bytes: BULK, sha256: patternSha256(BULK) });
    });

    it('delivers each SSE event while the stream is open (event k+1 is sent only once event k has arrived)', { timeout: 30_000 }, async () => {
      const { res, abort } = await openStream(proxy, '/sse', EP);
      try {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /^text\/event-stream/);
        const ids: number[] = [];
        let ended = false;
        res.on('end', () => (ended = true));
        let buf = '';
        res.setEncoding('utf8');
        for await (const chunk of res) {
          buf += chunk as string;
          let sep: number;
          while ((sep = buf.indexOf('\n\n')) >= 0) {
            const event = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            const id = Number(/^id: (\d+)$/m.exec(event)?.[1]);
            assert.equal(ended, false, 'an event arrived before the end of the stream');
            ids.push(id);
            service.sseNext();
          }
        }
        assert.deepEqual(ids, Array.from({ length: SSE_EVENTS }, (_, k) => k));
      } finally {
        abort();
      }
    });

    it('echoes WebSocket text and binary messages, a 1 MiB one included', { timeout: 30_000 }, async () => {
      const ws = new WebSocket(`ws://${proxy}/ws`, { headers: EP, perMessageDeflate: false });
      try {
        await new Promise<void>((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        const replies: Array<{ data: Buffer; binary: boolean }> = [];
        const three = new Promise<void>((resolve) =>
          ws.on('message', (data: Buffer, binary) => {
            replies.push({ data, binary });
            if (replies.length === 3) resolve();
          }),
        );
        const big = Buffer.alloc(1024 * 1024, 0xab);
        ws.send('hello');
        ws.send(Buffer.from([0, 1, 2, 255]));
        ws.send(big);
        await three;
        assert.deepEqual(replies.map((r) => [r.binary, r.data.length]), [[false, 5], [true, 4], [true, big.length]]);
        assert.equal(replies[0]?.data.toString(), 'hello');
        assert.ok(replies[2]?.data.equals(big));
      } finally {
        ws.terminate();
      }
    });

    it('answers 1000 GETs sent 50 at a time, all 200', { timeout: 90_000 }, async () => {
      const outcomes = await concurrentGets(proxy, '/echo/load', EP, 1000, 50);

      assert.deepEqual(outcomes, { 200: 1000 });
    });
  });
}
