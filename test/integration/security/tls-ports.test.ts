import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { dial, listen, type EndpointListener } from '../../../src/adapters/client/sdk/sdk.js';
import { fetchRaw, startService } from '../../support/http.js';
import { FORWARD_JS, spawnNode, startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';
import { curl, httpsGet } from '../../support/security/tls-clients.js';

/** Sends `text` on a socket, ends it, and reads everything back until the other side ends. */
function roundTrip(socket: NodeJS.ReadWriteStream & { end(data: string): void }, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.once('error', reject);
    socket.end(text);
  });
}

/**
 * One server process with TLS on its three ports (no client certificates asked), an agent over wss verified
 * with connect.tls.root_cas, forward and the SDK over TLS, and real clients (curl --cacert, Node's https).
 */
describe('TLS on the proxy, upstream and admin ports', { timeout: 120_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let cert: IssuedCert;
  let server: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  const seen: Array<Record<string, unknown>> = [];
  const procs: Proc[] = [];
  let echo: EndpointListener;

  before(async () => {
    pki = new TestPki();
    ca = pki.ca('ca');
    cert = pki.issue(ca, 'server', { usage: 'server' });
    service = await startService((req, res) => {
      seen.push({ ...req.headers });
      res.end(`hello ${req.url}`);
    });
    const tls = (port: string) => [`--${port}.tls.cert`, cert.certPath, `--${port}.tls.key`, cert.keyPath];
    server = await startServer([...tls('proxy'), ...tls('upstream'), ...tls('admin')]);
    procs.push(server);
    procs.push(
      await startAgent([
        'http', 'my-app', `127.0.0.1:${service.port}`,
        '--connect.url', `https://${server.addrs.upstream}`, '--connect.tls.root-cas', ca.certPath,
      ]),
    );
    echo = await listen('echo', { url: `https://${server.addrs.upstream}`, tls: { ca: ca.cert } });
    echo.on('connection', (socket: NodeJS.ReadWriteStream) => socket.pipe(socket));
  });

  after(async () => {
    echo?.shutdown();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await service?.close();
    pki?.cleanup();
  });

  it('serves curl --cacert over HTTPS, with X-Forwarded-Proto https for the service', async () => {
    const res = await curl(`https://${server.addrs.proxy}/hi`, ['--cacert', ca.certPath, '-H', 'x-piko-endpoint: my-app']);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello /hi');
    assert.equal(seen.at(-1)?.['x-forwarded-proto'], 'https');
  });

  it("serves Node's https client, which sees the configured certificate", async () => {
    const res = await httpsGet(server.addrs.proxy, { ca: ca.cert, path: '/node', headers: { 'x-piko-endpoint': 'my-app' } });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello /node');
    assert.equal(res.serverSerial, cert.serial);
    assert.match(res.protocol, /^TLSv1\.[23]$/);
  });

  it('fails verification for a client that does not trust the CA (curl exit 60)', async () => {
    const res = await curl(`https://${server.addrs.proxy}/`, ['-H', 'x-piko-endpoint: my-app']);
    assert.equal(res.exitCode, 60, res.stderr);
    assert.equal(res.status, 0);
  });

  it('refuses TLS 1.1 and older', async () => {
    const res = await curl(`https://${server.addrs.proxy}/`, ['--cacert', ca.certPath, '--tls-max', '1.1', '-H', 'x-piko-endpoint: my-app']);
    assert.notEqual(res.exitCode, 0);
    assert.equal(res.status, 0);
  });

  it('answers plain HTTP on a TLS port with nothing a client could take for an answer', async () => {
    await assert.rejects(fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'my-app' }, timeoutMs: 5_000 }));
  });

  it('serves the admin port over HTTPS', async () => {
    const health = await curl(`https://${server.addrs.admin}/health`, ['--cacert', ca.certPath]);
    assert.equal(health.status, 200, health.stderr);
    const endpoints = await httpsGet(server.addrs.admin, { ca: ca.cert, path: '/status/upstream/endpoints' });
    assert.deepEqual(JSON.parse(endpoints.body), { 'my-app': 1, echo: 1 });
  });

  it('refuses an agent over plain ws on the upstream port', async () => {
    const ws = new WebSocket(`ws://${server.addrs.upstream}/piko/v1/upstream/plain`);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', () => resolve('error'));
      ws.once('unexpected-response', () => resolve('response'));
    });
    ws.terminate();
    assert.equal(outcome, 'error');
  });

  it("carries the TCP route's WebSocket over wss", async () => {
    const ws = new WebSocket(`wss://${server.addrs.proxy}/_piko/v1/tcp/echo`, { ca: ca.cert });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(Buffer.from('ping')));
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('error', reject);
    });
    ws.terminate();
    assert.equal(reply, 'ping');
  });

  it("the SDK's dial reaches a TCP endpoint over TLS", async () => {
    const socket = await dial('echo', { url: `https://${server.addrs.proxy}`, tls: { ca: ca.cert } });
    assert.equal(await roundTrip(socket, 'over tls'), 'over tls');
  });

  it('forward tunnels TCP over TLS with connect.tls.root_cas', async () => {
    const fwd = spawnNode(FORWARD_JS, [
      'tcp', '127.0.0.1:0', 'echo', '--connect.url', `https://${server.addrs.proxy}`, '--connect.tls.root-cas', ca.certPath,
    ]);
    procs.push(fwd);
    const started = await fwd.waitFor((l) => l.message === 'forward started');
    const [addr] = started['ports'] as string[];
    const [host, port] = [String(addr).slice(0, String(addr).lastIndexOf(':')), Number(String(addr).split(':').at(-1))];
    const socket: Socket = connect({ host, port });
    assert.equal(await roundTrip(socket, 'through forward'), 'through forward');
  });

  it("an agent listener reaches an https service that wants a client certificate, verified against the service's address", async () => {
    const serviceCert = pki.issue(ca, 'service', { usage: 'server' });
    const agentCert = pki.issue(ca, 'agent-client', { usage: 'client', san: [] });
    const secure = createHttpsServer({ cert: serviceCert.cert, key: serviceCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) =>
      res.end(`secure ${req.url} as ${(req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '?'}`),
    );
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    try {
      const target = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
      const config = pki.write(
        'agent.yaml',
        [
          'listeners:',
          '  - endpoint_id: secure',
          `    addr: ${target}`,
          '    tls:',
          `      cert: ${agentCert.certPath}`,
          `      key: ${agentCert.keyPath}`,
          `      root_cas: ${ca.certPath}`,
          '  - endpoint_id: untrusted',
          `    addr: ${target}`,
          'connect:',
          `  url: https://${server.addrs.upstream}`,
          '  tls:',
          `    root_cas: ${ca.certPath}`,
          '',
        ].join('\n'),
      );
      procs.push(await startAgent(['start', '--config.path', config]));
      // The client's Host names another host: the agent must verify the service's own address, not that name.
      const ok = await curl(`https://${server.addrs.proxy}/s`, ['--cacert', ca.certPath, '-H', 'Host: secure.example.com']);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.body, 'secure /s as agent-client');
      const untrusted = await curl(`https://${server.addrs.proxy}/u`, ['--cacert', ca.certPath, '-H', 'x-piko-endpoint: untrusted']);
      assert.equal(untrusted.status, 502, 'the service is not trusted without the listener root_cas');
    } finally {
      secure.closeAllConnections();
      secure.close();
    }
  });

  it('forward without the CA fails the tunnel and says why', async () => {
    const fwd = spawnNode(FORWARD_JS, ['tcp', '127.0.0.1:0', 'echo', '--connect.url', `https://${server.addrs.proxy}`]);
    procs.push(fwd);
    const started = await fwd.waitFor((l) => l.message === 'forward started');
    const addr = String((started['ports'] as string[])[0]);
    const socket = connect({ host: '127.0.0.1', port: Number(addr.split(':').at(-1)) });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const refused = await fwd.waitFor((l) => l.message === 'tunnel refused');
    assert.match(String(refused['error']), /certificate/i);
  });
});
