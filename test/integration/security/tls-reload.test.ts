import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { dial, listen, type EndpointListener } from '../../../src/adapters/client/sdk/sdk.js';
import { startService } from '../../support/http.js';
import { startAgent, startServer, type LogLine, type Proc, type ServerProc } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';
import { httpsGet } from '../../support/security/tls-clients.js';

/** Writes `text` on `socket` and resolves with the next chunk it receives. */
function echoOnce(socket: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (c: Buffer) => resolve(c.toString()));
    socket.once('error', reject);
    socket.write(text);
  });
}

/**
 * Certificate reload without a restart: the files behind `proxy.tls.cert`/`key` are replaced (atomically, as a
 * deployment or a Kubernetes secret update does) and the node is sent SIGHUP, or just left to see the change.
 * New connections get the new certificate; connections already open carry on with theirs; a broken new file is
 * logged and the certificate in use is kept.
 */
describe('TLS certificate reload (SIGHUP and file changes)', { timeout: 120_000, skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let first: IssuedCert;
  let second: IssuedCert;
  let third: IssuedCert;
  let liveCert: string;
  let liveKey: string;
  let server: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  const procs: Proc[] = [];
  let echo: EndpointListener;
  const pool = new Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    pki = new TestPki();
    ca = pki.ca('ca');
    first = pki.issue(ca, 'first', { usage: 'server' });
    second = pki.issue(ca, 'second', { usage: 'server' });
    third = pki.issue(ca, 'third', { usage: 'server' });
    liveCert = pki.path('live.crt');
    liveKey = pki.path('live.key');
    copyFileSync(first.certPath, liveCert);
    copyFileSync(first.keyPath, liveKey);
    service = await startService((req, res) => res.end(`ok ${req.url}`));
    server = await startServer(['--proxy.tls.cert', liveCert, '--proxy.tls.key', liveKey]);
    procs.push(server);
    procs.push(await startAgent(['http', 'app', `127.0.0.1:${service.port}`, '--connect.url', `http://${server.addrs.upstream}`]));
    echo = await listen('echo', { url: `http://${server.addrs.upstream}` });
    echo.on('connection', (socket: Duplex) => socket.pipe(socket));
  });

  after(async () => {
    pool.destroy();
    echo?.shutdown();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await service?.close();
    pki?.cleanup();
  });

  const get = (path: string, agent?: Agent) => httpsGet(server.addrs.proxy, { ca: ca.cert, path, headers: { 'x-piko-endpoint': 'app' }, ...(agent && { agent }) });
  const install = (cert: IssuedCert): void => {
    pki.replace(liveKey, cert.keyPath);
    pki.replace(liveCert, cert.certPath);
  };
  const count = (pred: (l: LogLine) => boolean): number => server.lines.filter(pred).length;
  const reloadedTo = (serial: string, reason: string) => (l: LogLine) =>
    l.message === 'TLS certificates reloaded' && l['tls'] === 'proxy.tls' && l['serial'] === serial && l['reason'] === reason;

  it('on SIGHUP, serves the new certificate to new connections while open ones keep going', async () => {
    const before = await get('/before', pool);
    assert.equal(before.serverSerial, first.serial);
    const tunnel = await dial('echo', { url: `https://${server.addrs.proxy}`, tls: { ca: ca.cert } });
    assert.equal(await echoOnce(tunnel, 'one'), 'one');

    install(second);
    server.child.kill('SIGHUP');
    await server.waitFor((l) => l.message === 'TLS certificates reloaded' && l['serial'] === second.serial);

    const fresh = await get('/fresh');
    assert.equal(fresh.status, 200);
    assert.equal(fresh.serverSerial, second.serial, 'a new connection gets the new certificate');
    const again = await get('/again', pool);
    assert.equal(again.status, 200);
    assert.equal(again.socket, before.socket, 'the pooled connection was reused');
    assert.equal(again.serverSerial, first.serial, 'and it still runs on the certificate it was made with');
    assert.equal(await echoOnce(tunnel, 'two'), 'two', 'an open tunnel carries on');
    tunnel.destroy();
  });

  it('keeps the certificate in use when the new file is broken, and logs the file', async () => {
    const failedBefore = count((l) => l.message === 'TLS reload failed: keeping the certificates in use');
    pki.replace(liveCert, pki.write('garbage.crt', 'not a certificate\n'));
    server.child.kill('SIGHUP');
    const failed = await server.waitFor(
      (l) => l.message === 'TLS reload failed: keeping the certificates in use' && count((m) => m.message === l.message) > failedBefore,
    );
    assert.equal(failed['level'], 'error');
    assert.equal(failed['file'], liveCert);
    assert.match(String(failed['error']), /^config: proxy\.tls\.cert: .*live\.crt: is not a PEM certificate/);
    const res = await get('/still');
    assert.equal(res.status, 200);
    assert.equal(res.serverSerial, second.serial);
  });

  it('reloads by itself when the files change (no signal)', async () => {
    install(third);
    await server.waitFor(reloadedTo(third.serial, 'file change'), 10_000);
    const res = await get('/watched');
    assert.equal(res.status, 200);
    assert.equal(res.serverSerial, third.serial);
  });
});
