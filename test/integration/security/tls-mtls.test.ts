import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dial, listen, type EndpointListener } from '../../../src/adapters/client/sdk/sdk.js';
import { DialError, dialWebSocket, upstreamUrl } from '../../../src/adapters/client/ws-upstream-dialer.js';
import { startService } from '../../support/http.js';
import { AGENT_JS, FORWARD_JS, spawnNode, startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';
import { curl, httpsGet } from '../../support/security/tls-clients.js';

/**
 * mTLS: the proxy and upstream ports set client_cas, so every client must present a certificate signed by that
 * CA. A client with one gets through; without one, or with one from another CA, the TLS handshake fails and
 * nothing reaches the node's HTTP layer.
 */
describe('mTLS on the upstream and proxy ports (client_cas)', { timeout: 120_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let otherCa: IssuedCert;
  let serverCert: IssuedCert;
  let client: IssuedCert;
  let stranger: IssuedCert;
  let server: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  const procs: Proc[] = [];
  const listeners: EndpointListener[] = [];

  before(async () => {
    pki = new TestPki();
    ca = pki.ca('ca');
    otherCa = pki.ca('other-ca');
    serverCert = pki.issue(ca, 'server', { usage: 'server' });
    client = pki.issue(ca, 'client', { usage: 'client', san: [] });
    stranger = pki.issue(otherCa, 'stranger', { usage: 'client', san: [] });
    service = await startService((req, res) => res.end(`mtls ${req.url}`));
    const mtls = (port: string) => [`--${port}.tls.cert`, serverCert.certPath, `--${port}.tls.key`, serverCert.keyPath, `--${port}.tls.client-cas`, ca.certPath];
    server = await startServer([...mtls('proxy'), ...mtls('upstream')]);
    procs.push(server);
  });

  after(async () => {
    for (const l of listeners) l.shutdown();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await service?.close();
    pki?.cleanup();
  });

  const clientTls = (cert: IssuedCert) => ['--connect.tls.cert', cert.certPath, '--connect.tls.key', cert.keyPath, '--connect.tls.root-cas', ca.certPath];

  it('lets an agent with a client certificate register, and a client with one call it (curl --cert)', async () => {
    procs.push(await startAgent(['http', 'app', `127.0.0.1:${service.port}`, '--connect.url', `https://${server.addrs.upstream}`, ...clientTls(client)]));
    const res = await curl(`https://${server.addrs.proxy}/ok`, ['--cacert', ca.certPath, '--cert', client.certPath, '--key', client.keyPath, '-H', 'x-piko-endpoint: app']);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'mtls /ok');
  });

  it('fails the handshake of a proxy client without a certificate, or with one from another CA', async () => {
    const without = await curl(`https://${server.addrs.proxy}/`, ['--cacert', ca.certPath, '-H', 'x-piko-endpoint: app']);
    assert.notEqual(without.exitCode, 0);
    assert.equal(without.status, 0, 'no HTTP answer at all');
    const foreign = await curl(`https://${server.addrs.proxy}/`, ['--cacert', ca.certPath, '--cert', stranger.certPath, '--key', stranger.keyPath, '-H', 'x-piko-endpoint: app']);
    assert.notEqual(foreign.exitCode, 0);
    assert.equal(foreign.status, 0);
    await assert.rejects(httpsGet(server.addrs.proxy, { ca: ca.cert, headers: { 'x-piko-endpoint': 'app' } }));
    const ok = await httpsGet(server.addrs.proxy, { ca: ca.cert, cert: client.cert, key: client.key, headers: { 'x-piko-endpoint': 'app' } });
    assert.equal(ok.status, 200);
  });

  it('refuses an upstream connection without a certificate, or with one from another CA', async () => {
    const url = upstreamUrl(`https://${server.addrs.upstream}`, 'intruder');
    await assert.rejects(dialWebSocket(url, { tls: { ca: ca.cert }, handshakeTimeoutMs: 5_000 }), DialError);
    await assert.rejects(dialWebSocket(url, { tls: { ca: ca.cert, cert: stranger.cert, key: stranger.key }, handshakeTimeoutMs: 5_000 }), DialError);
    const ok = await dialWebSocket(url, { tls: { ca: ca.cert, cert: client.cert, key: client.key }, handshakeTimeoutMs: 5_000 });
    ok.terminate();
  });

  it('an agent without a client certificate never registers (exits at its start-up deadline)', async () => {
    const agent = spawnNode(AGENT_JS, [
      'http', 'nocert', `127.0.0.1:${service.port}`, '--connect.url', `https://${server.addrs.upstream}`,
      '--connect.tls.root-cas', ca.certPath, '--connect.startup-deadline', '1s',
    ]);
    procs.push(agent);
    assert.equal(await agent.exited, 1);
    assert.ok(agent.lines.some((l) => l.message === 'agent failed to start; exiting'));
  });

  it('the SDK presents a client certificate for listen and dial', async () => {
    const echo = await listen('echo', { url: `https://${server.addrs.upstream}`, tls: { ca: ca.cert, cert: client.cert, key: client.key } });
    listeners.push(echo);
    echo.on('connection', (socket: NodeJS.ReadWriteStream) => socket.pipe(socket));
    const socket = await dial('echo', { url: `https://${server.addrs.proxy}`, tls: { ca: ca.cert, cert: client.cert, key: client.key } });
    const reply = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.once('error', reject);
      socket.end('sdk mtls');
    });
    assert.equal(reply, 'sdk mtls');
    await assert.rejects(dial('echo', { url: `https://${server.addrs.proxy}`, tls: { ca: ca.cert } }));
  });

  it('forward presents its client certificate (connect.tls.cert/key)', async () => {
    const echo = await listen('fwd-echo', { url: `https://${server.addrs.upstream}`, tls: { ca: ca.cert, cert: client.cert, key: client.key } });
    listeners.push(echo);
    echo.on('connection', (socket: NodeJS.ReadWriteStream) => socket.pipe(socket));
    const fwd = spawnNode(FORWARD_JS, ['tcp', '127.0.0.1:0', 'fwd-echo', '--connect.url', `https://${server.addrs.proxy}`, ...clientTls(client)]);
    procs.push(fwd);
    const started = await fwd.waitFor((l) => l.message === 'forward started');
    const addr = String((started['ports'] as string[])[0]);
    const socket = connect({ host: '127.0.0.1', port: Number(addr.split(':').at(-1)) });
    const reply = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
      socket.once('error', reject);
      socket.end('forward mtls');
    });
    assert.equal(reply, 'forward mtls');
  });
});
