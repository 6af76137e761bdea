import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { forwardInterceptor } from '../../../src/adapters/server/admin/cluster-status-router.js';
import { NodeFixtures } from '../../support/fixtures/node.fixtures.js';
import { startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';
import { httpsGet, type TlsResponse } from '../../support/security/tls-clients.js';

/** The gossip address a server logged at start (it binds port 0). */
async function gossipAddr(p: Proc): Promise<string> {
  const line = await p.waitFor((l) => l.message === 'gossip started');
  return String(line['bind-addr']);
}

/**
 * Piko's `?forward=<nodeID>` between admin ports that serve TLS: the node asked dials the other node's admin port
 * over https, verifying it with `admin.tls.client.root_cas`; a node without them cannot verify the peer and
 * answers 502.
 */
describe('?forward= between admin ports that serve TLS', { timeout: 120_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let a: ServerProc;
  let b: ServerProc;
  let c: ServerProc;
  const procs: Proc[] = [];

  before(async () => {
    pki = new TestPki();
    ca = pki.ca('ca');
    const adminCert = pki.issue(ca, 'admin', { usage: 'server' });
    const adminTls = ['--admin.tls.cert', adminCert.certPath, '--admin.tls.key', adminCert.keyPath];
    a = await startServer(['--cluster.node-id', 'node-a', ...adminTls, '--admin.tls.client.root-cas', ca.certPath]);
    procs.push(a);
    const seed = await gossipAddr(a);
    b = await startServer(['--cluster.node-id', 'node-b', '--cluster.join', seed, ...adminTls, '--admin.tls.client.root-cas', ca.certPath]);
    procs.push(b);
    // Node C serves admin TLS too but trusts only the system roots, which did not sign node B's certificate.
    c = await startServer(['--cluster.node-id', 'node-c', '--cluster.join', seed, ...adminTls]);
    procs.push(c);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    pki?.cleanup();
  });

  const get = (node: ServerProc, path: string): Promise<TlsResponse> => httpsGet(node.addrs.admin, { ca: ca.cert, path });

  /** Asks `node` to forward to node B until B is known to it (gossip has spread; not 404), within 20 s. */
  async function untilKnown(node: ServerProc): Promise<TlsResponse> {
    const until = Date.now() + 20_000;
    for (;;) {
      const res = await get(node, '/status/cluster/nodes/local?forward=node-b');
      if (res.status !== 404 || Date.now() > until) return res;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("relays node B's own answer through node A, which verified B's admin certificate", async () => {
    const res = await untilKnown(a);
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal((JSON.parse(res.body) as { id: string }).id, 'node-b', 'node B answered about itself');
    const here = await get(a, '/status/cluster/nodes/local');
    assert.equal((JSON.parse(here.body) as { id: string }).id, 'node-a');
  });

  it("answers 502 through node C, which has no admin.tls.client.root_cas and so does not trust B's certificate", async () => {
    const res = await untilKnown(c);
    assert.equal(res.status, 502, res.body);
    assert.deepEqual(JSON.parse(res.body), { error: 'node node-b did not answer: unreachable' });
  });
});

/**
 * The interceptor itself, in process, against an https peer: what is relayed (status, content type, body), which
 * headers reach the peer, and 504 when the peer does not answer in time.
 */
describe('forwardInterceptor over https', { timeout: 60_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let peer: HttpsServer;
  let front: HttpServer;
  const seen: Array<{ url: string; headers: Record<string, unknown> }> = [];

  before(async () => {
    pki = new TestPki();
    const ca = pki.ca('ca');
    const cert = pki.issue(ca, 'peer', { usage: 'server' });
    peer = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seen.push({ url: req.url ?? '', headers: { ...req.headers } });
      if (req.url?.startsWith('/hang') === true) return; // never answers: the front gives up
      res.writeHead(418, { 'content-type': 'text/plain; charset=utf-8' }).end('from the peer');
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    const peerNode = { ...NodeFixtures.build({ id: 'node-peer' }), adminAddr: `127.0.0.1:${(peer.address() as AddressInfo).port}` };
    const source = { localNodeId: 'node-front', nodes: () => [peerNode], gossipNodes: () => [] };
    const app = express();
    app.use(forwardInterceptor(source, { peerTls: { current: { ca: ca.cert } }, timeoutMs: 300 }));
    front = createHttpServer(app);
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    front?.closeAllConnections();
    peer?.closeAllConnections();
    await Promise.all([new Promise((r) => front?.close(r)), new Promise((r) => peer?.close(r))]);
    pki?.cleanup();
  });

  const call = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${(front.address() as AddressInfo).port}${path}`, { headers, signal: AbortSignal.timeout(20_000) });

  it("relays the peer's status, content type and body, without forward, passing the auth headers on", async () => {
    const res = await call('/status/x?forward=node-peer&a=1', { authorization: 'Bearer t1', 'x-piko-authorization': 'Bearer t2', cookie: 'c=1' });
    assert.equal(res.status, 418);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'from the peer');
    const asked = seen.at(-1);
    assert.equal(asked?.url, '/status/x?a=1');
    assert.equal(asked?.headers['authorization'], 'Bearer t1');
    assert.equal(asked?.headers['x-piko-authorization'], 'Bearer t2');
    assert.equal(asked?.headers['cookie'], undefined, 'only the auth headers are passed on');
  });

  it('answers 504 when the peer does not answer within the timeout', async () => {
    const res = await call('/hang?forward=node-peer');
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), { error: 'node node-peer did not answer: timeout' });
  });
});
