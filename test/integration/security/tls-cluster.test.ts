import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startService } from '../../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';
import { curl, type CurlResult } from '../../support/security/tls-clients.js';

/** The gossip address a server logged at start (it binds port 0). */
async function gossipAddr(p: Proc): Promise<string> {
  const line = await p.waitFor((l) => l.message === 'gossip started');
  return String(line['bind-addr']);
}

/**
 * Node-to-node TLS: every node's proxy port serves TLS and requires client certificates (client_cas), so a
 * request forwarded from the node a client reached to the node holding the upstream must be sent over HTTPS
 * with the forwarding node's `proxy.tls.client` certificate, or it is refused in the handshake.
 */
describe('a cluster whose proxy ports serve mTLS forwards between nodes over TLS', { timeout: 120_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let client: IssuedCert;
  let a: ServerProc;
  let b: ServerProc;
  let c: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  const seen: Array<Record<string, unknown>> = [];
  const procs: Proc[] = [];

  before(async () => {
    pki = new TestPki();
    ca = pki.ca('ca');
    const serverCert = pki.issue(ca, 'node', { usage: 'server' });
    const peerCert = pki.issue(ca, 'peer', { usage: 'client', san: [] });
    client = pki.issue(ca, 'client', { usage: 'client', san: [] });
    service = await startService((req, res) => {
      seen.push({ ...req.headers, url: req.url });
      res.end(`on a ${req.url}`);
    });
    const proxyTls = ['--proxy.tls.cert', serverCert.certPath, '--proxy.tls.key', serverCert.keyPath, '--proxy.tls.client-cas', ca.certPath];
    const peerTls = ['--proxy.tls.client.cert', peerCert.certPath, '--proxy.tls.client.key', peerCert.keyPath, '--proxy.tls.client.root-cas', ca.certPath];
    a = await startServer(['--cluster.node-id', 'node-a', ...proxyTls, ...peerTls]);
    procs.push(a);
    const seed = await gossipAddr(a);
    b = await startServer(['--cluster.node-id', 'node-b', '--cluster.join', seed, ...proxyTls, ...peerTls]);
    procs.push(b);
    // Node C trusts its peers but has no client certificate to present: node A refuses what it forwards.
    c = await startServer(['--cluster.node-id', 'node-c', '--cluster.join', seed, ...proxyTls, '--proxy.tls.client.root-cas', ca.certPath]);
    procs.push(c);
    procs.push(await startAgent(['http', 'web', `127.0.0.1:${service.port}`, '--connect.url', `http://${a.addrs.upstream}`]));
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await service?.close();
    pki?.cleanup();
  });

  // Routed by Host: the forwarding node must verify the peer's address, not the name the client asked for.
  const call = (node: ServerProc, path: string): Promise<CurlResult> =>
    curl(`https://${node.addrs.proxy}${path}`, ['--cacert', ca.certPath, '--cert', client.certPath, '--key', client.keyPath, '-H', 'Host: web.example.com']);

  /** Calls `node` until the answer is not "no available upstreams" (gossip has spread the endpoint), within 20 s. */
  async function untilRouted(node: ServerProc, path: string): Promise<CurlResult> {
    const until = Date.now() + 20_000;
    for (;;) {
      const res = await call(node, path);
      if (!res.body.includes('no available upstreams') || Date.now() > until) return res;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('serves a request through node B, forwarded over TLS with B\'s client certificate to node A', async () => {
    const res = await untilRouted(b, '/via-b');
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, 'on a /via-b');
    assert.equal(seen.at(-1)?.['x-forwarded-proto'], 'https', 'the scheme the client used, as set by node B');
  });

  it('answers 502 through node C, whose forward node A refuses for want of a client certificate', async () => {
    const res = await untilRouted(c, '/via-c');
    assert.equal(res.status, 502, res.body);
    assert.deepEqual(JSON.parse(res.body), { error: 'upstream unreachable' });
    assert.ok(!seen.some((h) => h['url'] === '/via-c'), 'nothing reached the service');
  });
});
