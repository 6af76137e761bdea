import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAgentConfig, loadForwardConfig, loadServerConfig } from '../../../../../src/adapters/platform/config/load-config.js';
import { ConfigError } from '../../../../../src/adapters/platform/config/errors.js';

const CONFIG_PATH = '/etc/piko/piko.yaml';
const withFile = (text: string) => ({ readFile: (path: string) => (path === CONFIG_PATH ? text : ''), nodeIdSuffix: () => 'abc1234' });

function serverWith(yaml: string) {
  const result = loadServerConfig(['--config.path', CONFIG_PATH], {}, withFile(yaml));
  assert.equal(result.kind, 'config');
  return result.kind === 'config' ? result : assert.fail('help');
}

function throwsConfig(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

describe('TLS rules of the config loaders', () => {
  describe('server ports', () => {
    it('takes cert, key and client_cas as file paths from YAML, flags and variables', () => {
      const { config, warnings } = serverWith('proxy:\n  tls:\n    cert: /p.crt\n    key: /p.key\n    client_cas: /cas.pem\n');
      assert.deepEqual(config.proxy.tls, {
        cert: '/p.crt',
        key: '/p.key',
        clientCas: '/cas.pem',
        client: { cert: '', key: '', rootCas: '', insecureSkipVerify: false, serverName: '' },
      });
      assert.deepEqual(warnings, []);
      const flags = loadServerConfig(['--upstream.tls.cert', '/u.crt', '--upstream.tls.key', '/u.key'], { PIKO_ADMIN_TLS_CERT: '/a.crt', PIKO_ADMIN_TLS_KEY: '/a.key' });
      assert.equal(flags.kind, 'config');
      if (flags.kind !== 'config') return;
      assert.deepEqual(flags.config.upstream.tls, { cert: '/u.crt', key: '/u.key', clientCas: '' });
      assert.deepEqual(flags.config.admin.tls, {
        cert: '/a.crt',
        key: '/a.key',
        clientCas: '',
        client: { cert: '', key: '', rootCas: '', insecureSkipVerify: false, serverName: '' },
      });
    });

    for (const port of ['proxy', 'upstream', 'admin']) {
      it(`needs ${port}.tls.cert and key together`, () => {
        throwsConfig(() => loadServerConfig([`--${port}.tls.cert`, '/c.pem'], {}), `config: ${port}.tls.key: is required when ${port}.tls.cert is set`);
        throwsConfig(() => loadServerConfig([`--${port}.tls.key`, '/k.pem'], {}), `config: ${port}.tls.cert: is required when ${port}.tls.key is set`);
      });

      it(`refuses ${port}.tls.client_cas without a certificate (mTLS needs TLS)`, () => {
        throwsConfig(
          () => loadServerConfig([`--${port}.tls.client-cas`, '/cas.pem'], {}),
          `config: ${port}.tls.client_cas: needs ${port}.tls.cert and ${port}.tls.key: client certificates are asked for in the TLS handshake`,
        );
      });
    }

    it('needs proxy.tls.client.cert and key together', () => {
      throwsConfig(
        () => serverWith('proxy:\n  tls:\n    cert: /p.crt\n    key: /p.key\n    client:\n      cert: /n.crt\n'),
        'config: proxy.tls.client.key: is required when proxy.tls.client.cert is set',
      );
    });

    it('warns that proxy.tls.client is ignored without proxy TLS, and when it skips verification', () => {
      assert.deepEqual(serverWith('proxy:\n  tls:\n    client:\n      root_cas: /ca.pem\n').warnings, [
        'config: proxy.tls.client: used only when the proxy port serves TLS (proxy.tls.cert and proxy.tls.key); ignored',
      ]);
      assert.deepEqual(serverWith('proxy:\n  tls:\n    cert: /p.crt\n    key: /p.key\n    client:\n      insecure_skip_verify: true\n').warnings, [
        "config: proxy.tls.client.insecure_skip_verify: other nodes' certificates are not verified; use it for testing only",
      ]);
    });

    it('accepts upstream.tls.client with a warning: Piko has it, nothing uses it', () => {
      assert.deepEqual(serverWith('upstream:\n  tls:\n    client:\n      cert: /n.crt\n').warnings, [
        'config: upstream.tls.client.cert: accepted for Piko compatibility but not used by piko-ts yet; ignored',
      ]);
    });

    it('takes admin.tls.client (for ?forward= to peers) from YAML, flags and variables', () => {
      const yaml = 'admin:\n  tls:\n    cert: /a.crt\n    key: /a.key\n    client:\n      cert: /n.crt\n      key: /n.key\n      root_cas: /ca.pem\n      server_name: node.internal\n';
      const { config, warnings } = serverWith(yaml);
      assert.deepEqual(config.admin.tls.client, { cert: '/n.crt', key: '/n.key', rootCas: '/ca.pem', insecureSkipVerify: false, serverName: 'node.internal' });
      assert.deepEqual(warnings, []);
      const flags = loadServerConfig(['--admin.tls.client.root-cas', '/ca.pem', '--admin.tls.cert', '/a.crt', '--admin.tls.key', '/a.key'], { PIKO_ADMIN_TLS_CLIENT_SERVER_NAME: 'n' });
      assert.equal(flags.kind, 'config');
      if (flags.kind !== 'config') return;
      assert.equal(flags.config.admin.tls.client.rootCas, '/ca.pem');
      assert.equal(flags.config.admin.tls.client.serverName, 'n');
    });

    it('needs admin.tls.client.cert and key together', () => {
      throwsConfig(
        () => serverWith('admin:\n  tls:\n    cert: /a.crt\n    key: /a.key\n    client:\n      key: /n.key\n'),
        'config: admin.tls.client.cert: is required when admin.tls.client.key is set',
      );
    });

    it('warns that admin.tls.client is ignored without admin TLS, and when it skips verification', () => {
      assert.deepEqual(serverWith('admin:\n  tls:\n    client:\n      root_cas: /ca.pem\n').warnings, [
        'config: admin.tls.client: used only when the admin port serves TLS (admin.tls.cert and admin.tls.key); ignored',
      ]);
      assert.deepEqual(serverWith('admin:\n  tls:\n    cert: /a.crt\n    key: /a.key\n    client:\n      insecure_skip_verify: true\n').warnings, [
        "config: admin.tls.client.insecure_skip_verify: other nodes' certificates are not verified; use it for testing only",
      ]);
    });
  });

  describe('agent', () => {
    const agentWith = (argv: readonly string[], yaml: string) => {
      const result = loadAgentConfig([...argv, '--config.path', CONFIG_PATH], {}, withFile(yaml));
      return result.kind === 'config' ? result : assert.fail('help');
    };

    it('takes a listener tls for an https service from YAML', () => {
      const yaml = 'listeners:\n  - endpoint_id: a\n    addr: https://10.0.0.5:8443\n    tls:\n      cert: /c.pem\n      key: /k.pem\n      root_cas: /ca.pem\n';
      const { config, warnings } = agentWith(['start'], yaml);
      assert.deepEqual(config.listeners[0]?.tls, { cert: '/c.pem', key: '/k.pem', rootCas: '/ca.pem', insecureSkipVerify: false });
      assert.deepEqual(warnings, []);
    });

    it('needs cert and key together in connect.tls and in a listener tls', () => {
      throwsConfig(
        () => loadAgentConfig(['http', 'ep', '3000', '--connect.url', 'wss://piko', '--connect.tls.cert', '/c.pem'], {}),
        'config: connect.tls.key: is required when connect.tls.cert is set',
      );
      throwsConfig(
        () => agentWith(['start'], 'listeners:\n  - endpoint_id: a\n    addr: https://svc:8443\n    tls:\n      key: /k.pem\n'),
        'config: listeners[0].tls.cert: is required when listeners[0].tls.key is set',
      );
    });

    it('warns that a tcp listener has no use for tls', () => {
      const yaml = 'listeners:\n  - endpoint_id: a\n    addr: "22"\n    protocol: tcp\n    tls:\n      root_cas: /ca.pem\n';
      assert.deepEqual(agentWith(['start'], yaml).warnings, ['config: listeners[0].tls: used only with an https or wss service addr; ignored']);
    });
  });

  describe('forward', () => {
    it('warns that connect.tls is ignored with an http URL', () => {
      const result = loadForwardConfig(['tcp', '3000', 'ep', '--connect.tls.root-cas', '/ca.pem'], {});
      assert.equal(result.kind, 'config');
      if (result.kind === 'config') assert.deepEqual(result.warnings, ['config: connect.tls: used only with an https or wss connect.url; ignored']);
    });
  });
});
