import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { fetchRaw, splitAddr, startService } from '../support/http.js';
import { startAgent, startServer } from '../support/processes.js';

describe('bad input is refused with a reason and harms nobody else', () => {
  it('answers a malformed HTTP request with 400 JSON and keeps serving others', async () => {
    const svc = await startService((_req, res) => res.end('fine'));
    const server = await startServer();
    const agent = await startAgent(['http', 'ok-app', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      const [host, port] = splitAddr(server.addrs.proxy);
      const sock = connect({ host, port });
      await once(sock, 'connect');
      sock.write('GARBAGE \x01\x02 NOT HTTP\r\n\r\n');
      let reply = '';
      sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
      await once(sock, 'close');
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /"error":"bad request: /);
      const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'ok-app' } });
      assert.equal(res.body.toString(), 'fine');
    } finally {
      await agent.stop();
      await server.stop();
      await svc.close();
    }
  });

  it('closes an upstream that sends malformed yamux frames, and the other upstreams keep serving', async () => {
    const svc = await startService((_req, res) => res.end('still here'));
    const server = await startServer();
    const agent = await startAgent(['http', 'shared-ep', String(svc.port), '--connect.url', `http://${server.addrs.upstream}`]);
    try {
      const bad = new WebSocket(`ws://${server.addrs.upstream}/piko/v1/upstream/shared-ep`, { perMessageDeflate: false });
      await once(bad, 'open');
      // Version 9 does not exist: the session must end with a protocol error, not crash the node.
      bad.send(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      await once(bad, 'close');
      await server.waitFor((l) => l.message === 'upstream disconnected' && /protocol|version/i.test(String(l.reason)));
      for (let i = 0; i < 5; i++) {
        const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'shared-ep' } });
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), 'still here');
      }
      assert.equal((await fetchRaw(server.addrs.admin, { path: '/ready' })).status, 200);
    } finally {
      await agent.stop();
      await server.stop();
      await svc.close();
    }
  });
});
