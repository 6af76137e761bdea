import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { dial, listen, serveHttp, type EndpointListener } from '../../../src/index.js';
import { asNodeId } from '../../../src/domain/node/node.js';
import type { ServerNode } from '../../../src/main/create-server.js';
import { signHop } from '../../../src/adapters/server/proxy/auth-hop.js';
import { createHmac } from 'node:crypto';
import { hostPort, startInProcessNode } from '../../support/cluster/in-process-node.js';
import { FakeClusterMembership, mirrorMemberships } from '../../support/fakes/fake-cluster-membership.js';
import type { InMemoryLogger } from '../../support/fakes/in-memory-logger.js';
import { fetchRaw } from '../../support/http.js';
import { credentialHeaders, tryWebSocket } from '../../support/security/auth-fixture.js';
import { nowS, signHmac } from '../../support/security/tokens.js';

const SECRET = 'cluster-auth-secret-of-32-bytes-or-more';

/**
 * Two nodes with proxy and upstream auth; the agent is on node A, clients call node B, which forwards once to A.
 * With `cluster.gossip.secret_key` the nodes vouch for forwarded requests with a hop proof (A needs no token);
 * without it B hands the client's token to A, which verifies it again. Either way a client that sends the hop
 * marker itself straight to A gets no further than without it.
 */
for (const mode of ['hop proof', 'token handed on'] as const) {
  describe(`two nodes with proxy auth (${mode})`, () => {
    const memA = new FakeClusterMembership(asNodeId('node-a'));
    const memB = new FakeClusterMembership(asNodeId('node-b'));
    let a: ServerNode;
    let b: ServerNode;
    let logA: InMemoryLogger;
    let listener: EndpointListener;
    let echo: EndpointListener;
    const seen: IncomingHttpHeaders[] = [];
    const flags = [
      '--proxy.auth.hmac-secret-key', SECRET,
      '--upstream.auth.hmac-secret-key', SECRET,
      ...(mode === 'hop proof' ? ['--cluster.gossip.secret-key', 'gossip-key'] : []),
    ];
    const token = (endpoints: string[]) => signHmac(SECRET, { exp: nowS(600), piko: { endpoints } });

    before(async () => {
      mirrorMemberships(memA, memB);
      ({ node: a, log: logA } = await startInProcessNode('node-a', { membership: memA }, flags));
      ({ node: b } = await startInProcessNode('node-b', { membership: memB }, flags));
      const url = `http://${hostPort(a.addresses.upstream)}`;
      listener = await serveHttp('on-a', (req, res) => {
        seen.push({ ...req.headers });
        res.end('served on a');
      }, { url, token: await token(['on-a']) });
      echo = await listen('tcp-on-a', { url, token: await token(['tcp-on-a']) });
      echo.on('connection', (socket) => socket.pipe(socket));
      // B learns of A's endpoints through the mirrored membership.
      for (let i = 0; i < 200 && memB.snapshot().remoteCandidates('tcp-on-a' as never).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    });

    after(async () => {
      listener?.shutdown();
      echo?.shutdown();
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('serves a request through the node without the upstream, and no credential reaches the service', async () => {
      const res = await fetchRaw(hostPort(b.addresses.proxy), { path: '/x', headers: { 'x-piko-endpoint': 'on-a', authorization: `Bearer ${await token(['on-a'])}` } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'served on a');
      assert.deepEqual(credentialHeaders(seen.at(-1) ?? {}), []);
      const access = logA.entries.filter((e) => e.subsystem === 'proxy.access').at(-1);
      const headers = (access?.fields['request'] as { request_headers: Record<string, string[]> }).request_headers;
      if (mode === 'hop proof') {
        assert.deepEqual(headers['X-Piko-Hop-Proof'], ['[REDACTED]'], 'A was vouched for by B');
        assert.equal(headers['X-Piko-Authorization'], undefined, 'and got no token');
      } else {
        assert.deepEqual(headers['X-Piko-Authorization'], ['[REDACTED]'], 'A got the token to verify again');
      }
      assert.equal(headers['Authorization'], undefined, 'the client\'s Authorization stopped at B');
    });

    it('refuses at B what B may not forward, so A never sees it', async () => {
      const res = await fetchRaw(hostPort(b.addresses.proxy), { headers: { 'x-piko-endpoint': 'on-a', authorization: `Bearer ${await token(['elsewhere'])}` } });
      assert.equal(res.status, 401);
      assert.deepEqual(res.json(), { error: 'endpoint not permitted' });
    });

    it('carries a TCP tunnel across the nodes with a token', async () => {
      const conn = await dial('tcp-on-a', { url: `http://${hostPort(b.addresses.proxy)}`, token: await token(['tcp-on-a']) });
      conn.end('across');
      const chunks: Buffer[] = [];
      for await (const c of conn) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'across');
    });

    it('does not let a client skip auth at A by sending the hop marker (and a made-up proof) itself', async () => {
      const before = seen.length;
      const addr = hostPort(a.addresses.proxy);
      const wrongKey = createHmac('sha256', 'not-the-cluster-key').update('piko-ts proxy hop proof v1').digest();
      const forgeries: Record<string, string>[] = [
        { 'x-piko-forward': 'true' },
        { 'x-piko-forward': 'true', 'x-piko-hop-proof': signHop(wrongKey, 'on-a', Date.now()) },
        { 'x-piko-forward': 'true', 'x-piko-hop-proof': `v1.${nowS()}.${'A'.repeat(43)}` },
        { 'x-piko-forward': 'true', 'x-piko-authorization': 'Bearer not-a-token' },
      ];
      for (const headers of forgeries) {
        const res = await fetchRaw(addr, { headers: { 'x-piko-endpoint': 'on-a', ...headers } });
        assert.equal(res.status, 401, JSON.stringify(headers));
        const ws = await tryWebSocket(`ws://${addr}/_piko/v1/tcp/tcp-on-a`, headers);
        assert.equal(ws.status, 401, JSON.stringify(headers));
      }
      assert.equal(seen.length, before);
    });
  });
}
