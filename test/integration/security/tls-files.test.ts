import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadClientTls, loadServerTls } from '../../../src/adapters/platform/tls/tls-material.js';
import { TlsFileError } from '../../../src/adapters/platform/tls/pem-files.js';
import { SERVER_JS, spawnNode } from '../../support/processes.js';
import { missingTlsTools, TestPki, type IssuedCert } from '../../support/security/certs.js';

/** The TLS files are read and checked at start-up: each unusable file is named with its key and the reason. */
describe('TLS files (real certificates made by openssl)', { skip: missingTlsTools() }, () => {
  let pki: TestPki;
  let ca: IssuedCert;
  let server: IssuedCert;
  let other: IssuedCert;

  before(() => {
    pki = new TestPki();
    ca = pki.ca('ca');
    server = pki.issue(ca, 'server');
    other = pki.issue(ca, 'other');
  });
  after(() => pki?.cleanup());

  const port = (cert: string, key: string, clientCas = '') => ({ cert, key, clientCas });
  const fails = (fn: () => unknown, key: string, file: string, reason: RegExp): void => {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof TlsFileError, String(err));
      assert.equal(err.file, file);
      assert.ok(err.message.startsWith(`config: ${key}: ${file}: `), err.message);
      assert.match(err.message, reason);
      return true;
    });
  };

  it('builds a server context from a good pair, with mTLS when client CAs are given', () => {
    const plain = loadServerTls(port(server.certPath, server.keyPath), 'proxy.tls');
    assert.equal(plain.options.requestCert, false);
    assert.equal(plain.options.minVersion, 'TLSv1.2');
    assert.equal(plain.facts['serial'], server.serial);
    const mtls = loadServerTls(port(server.certPath, server.keyPath, ca.certPath), 'proxy.tls');
    assert.equal(mtls.options.requestCert, true);
    assert.equal(mtls.options.rejectUnauthorized, true);
    assert.equal(mtls.options.ca, ca.cert);
    assert.deepEqual(mtls.files, [server.certPath, server.keyPath, ca.certPath]);
    assert.notEqual(mtls.fingerprint, plain.fingerprint);
  });

  it('names a missing file', () => {
    const missing = pki.path('missing.crt');
    fails(() => loadServerTls(port(missing, server.keyPath), 'proxy.tls'), 'proxy.tls.cert', missing, /cannot read the file \(no such file\)/);
  });

  it('names an unreadable file', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, () => {
    const locked = pki.write('locked.key', server.key);
    chmodSync(locked, 0o000);
    fails(() => loadServerTls(port(server.certPath, locked), 'upstream.tls'), 'upstream.tls.key', locked, /permission denied/);
  });

  it('names a certificate file that is not PEM, or whose certificate does not parse', () => {
    const text = pki.write('text.crt', 'hello\n');
    fails(() => loadServerTls(port(text, server.keyPath), 'admin.tls'), 'admin.tls.cert', text, /is not a PEM certificate/);
    const garbled = pki.write('garbled.crt', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    fails(() => loadServerTls(port(garbled, server.keyPath), 'admin.tls'), 'admin.tls.cert', garbled, /certificate 1 of the file does not parse/);
  });

  it('names a key file that is not a PEM key, or an encrypted one', () => {
    fails(() => loadServerTls(port(server.certPath, server.certPath), 'proxy.tls'), 'proxy.tls.key', server.certPath, /is not a PEM private key/);
    const encrypted = pki.write('enc.key', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
    fails(() => loadServerTls(port(server.certPath, encrypted), 'proxy.tls'), 'proxy.tls.key', encrypted, /encrypted private key/);
  });

  it('names a key that does not match its certificate', () => {
    fails(
      () => loadServerTls(port(server.certPath, other.keyPath), 'proxy.tls'),
      'proxy.tls.key',
      other.keyPath,
      new RegExp(`does not match the certificate of proxy\\.tls\\.cert \\(${server.certPath.replaceAll('.', '\\.')}\\)`),
    );
  });

  it('names a CA bundle without certificates', () => {
    const empty = pki.write('empty.pem', '');
    fails(() => loadServerTls(port(server.certPath, server.keyPath, empty), 'proxy.tls'), 'proxy.tls.client_cas', empty, /is not a PEM CA bundle/);
    fails(
      () => loadClientTls({ cert: '', key: '', rootCas: empty, insecureSkipVerify: false }, 'connect.tls'),
      'connect.tls.root_cas',
      empty,
      /is not a PEM CA bundle/,
    );
  });

  it('builds client options: roots, client certificate, verification and name', () => {
    const client = loadClientTls({ cert: other.certPath, key: other.keyPath, rootCas: ca.certPath, insecureSkipVerify: false, serverName: 'piko' }, 'proxy.tls.client');
    assert.deepEqual(client.options, { rejectUnauthorized: true, ca: ca.cert, cert: other.cert, key: other.key, servername: 'piko' });
    const skip = loadClientTls({ cert: '', key: '', rootCas: '', insecureSkipVerify: true }, 'connect.tls');
    assert.deepEqual(skip.options, { rejectUnauthorized: false });
    assert.deepEqual(skip.files, []);
  });

  it('stops a server at start-up with one line naming the key, the file and why', async () => {
    const proc = spawnNode(SERVER_JS, [
      '--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr', '127.0.0.1:0', '--admin.bind-addr', '127.0.0.1:0',
      '--cluster.gossip.bind-addr', '127.0.0.1:0',
      '--upstream.tls.cert', server.certPath, '--upstream.tls.key', other.keyPath,
    ]);
    try {
      assert.equal(await proc.exited, 1);
      assert.ok(
        proc.stderrText.includes(`config: upstream.tls.key: ${other.keyPath}: does not match the certificate of upstream.tls.cert (${server.certPath})`),
        proc.stderrText.join('\n'),
      );
    } finally {
      await proc.stop('SIGKILL');
    }
  });
});
