import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { dialWebSocket } from '../../src/adapters/client/ws-upstream-dialer.js';
import { pipeStreamOverWebSocket } from '../../src/adapters/wire/ws-byte-pipe.js';
import { wsMuxTransport } from '../../src/adapters/wire/ws-mux-transport.js';
import { duplexPair } from 'node:stream';

/**
 * A WebSocket server whose first message leaves in the same TCP write as its 101 answer, as a busy server's does
 * (the upstream port opening a stream on a connection it has just registered; a service's greeting on the TCP
 * route). The client reads both in one go.
 */
async function eagerServer(first: Buffer): Promise<{ server: Server; wss: WebSocketServer; url: string }> {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket: Duplex & { cork(): void; uncork(): void }, head) => {
    socket.cork();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(first, { binary: true });
      process.nextTick(() => socket.uncork());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, wss, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('dialWebSocket', () => {
  let eager: Awaited<ReturnType<typeof eagerServer>>;
  before(async () => {
    eager = await eagerServer(Buffer.from('first bytes'));
  });
  after(() => {
    for (const client of eager.wss.clients) client.terminate();
    eager.wss.close();
    eager.server.closeAllConnections();
    eager.server.close();
  });

  it('loses nothing the server sent with its upgrade answer, for a mux transport', async () => {
    for (let i = 0; i < 10; i++) {
      const ws = await dialWebSocket(eager.url);
      const transport = wsMuxTransport(ws, () => {});
      const [chunk] = (await Promise.race([once(transport, 'data'), new Promise((r) => setTimeout(() => r(['lost']), 2_000))])) as [Buffer | string];
      assert.equal(chunk.toString(), 'first bytes', `attempt ${i}`);
      ws.terminate();
    }
  });

  it('loses nothing the server sent with its upgrade answer, for a byte pipe', async () => {
    for (let i = 0; i < 10; i++) {
      const ws = await dialWebSocket(eager.url);
      const [mine, theirs] = duplexPair();
      void pipeStreamOverWebSocket(ws, theirs);
      ws.resume();
      const [chunk] = (await Promise.race([once(mine, 'data'), new Promise((r) => setTimeout(() => r(['lost']), 2_000))])) as [Buffer | string];
      assert.equal(chunk.toString(), 'first bytes', `attempt ${i}`);
      ws.terminate();
      mine.destroy();
    }
  });
});
