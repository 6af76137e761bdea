import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { agent, assertConfigError, server } from './config-test-helpers.js';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey;
const indent = (pem: string, by: string): string => pem.trim().split('\n').map((l) => by + l).join('\n');

describe('upstream.tenants', () => {
  it('loads each tenant\'s id and auth with the keys of a port\'s auth group', () => {
    const yaml = [
      'upstream:',
      '  tenants:',
      '    - id: acme',
      '      auth:',
      '        hmac_secret_key: acme-secret',
      '        audience: acme-aud',
      '        leeway: 2s',
      '        disable_disconnect_on_expiry: true',
      '    - id: globex',
      '      auth:',
      '        rsa_public_key: |',
      indent(rsaPem, '          '),
    ].join('\n');
    const { config, warnings } = server([], {}, yaml);
    assert.deepEqual(warnings, []);
    const [acme, globex] = config.upstream.tenants;
    assert.equal(config.upstream.tenants.length, 2);
    assert.equal(acme?.id, 'acme');
    assert.equal(acme?.auth.hmacSecretKey, 'acme-secret');
    assert.equal(acme?.auth.audience, 'acme-aud');
    assert.equal(acme?.auth.leewayMs, 2000);
    assert.equal(acme?.auth.disableDisconnectOnExpiry, true);
    assert.equal(globex?.id, 'globex');
    assert.equal(globex?.auth.rsaPublicKey.trim(), rsaPem.trim());
    assert.equal(globex?.auth.leewayMs, 5000);
  });

  it('reads PIKO_UPSTREAM_TENANTS as JSON or YAML text', () => {
    const json = server([], { PIKO_UPSTREAM_TENANTS: '[{"id":"acme","auth":{"hmac_secret_key":"s"}}]' });
    assert.deepEqual(json.config.upstream.tenants.map((t) => [t.id, t.auth.hmacSecretKey]), [['acme', 's']]);
    const yaml = server([], { PIKO_UPSTREAM_TENANTS: '- id: b\n  auth:\n    hmac_secret_key: s2\n' });
    assert.deepEqual(yaml.config.upstream.tenants.map((t) => [t.id, t.auth.hmacSecretKey]), [['b', 's2']]);
  });

  it('is empty by default', () => {
    assert.deepEqual(server().config.upstream.tenants, []);
  });

  const refused: readonly [string, string][] = [
    ['    - auth: { hmac_secret_key: s }\n', 'config: upstream.tenants[0].id: is required (got "")'],
    ['    - id: a/b\n      auth: { hmac_secret_key: s }\n',
      'config: upstream.tenants[0].id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit (got "a/b")'],
    [`    - id: ${'t'.repeat(65)}\n      auth: { hmac_secret_key: s }\n`, /^config: upstream\.tenants\[0\]\.id: must be at most 64 characters/.source],
    ['    - id: a\n      auth: { hmac_secret_key: s }\n    - id: a\n      auth: { hmac_secret_key: t }\n', 'config: upstream.tenants[1].id: duplicate tenant id "a"'],
    ['    - id: a\n', 'config: upstream.tenants[0].auth: a tenant needs hmac_secret_key, rsa_public_key, ecdsa_public_key or jwks.endpoint'],
    ['    - id: a\n      auth: { audience: x }\n', 'config: upstream.tenants[0].auth: a tenant needs hmac_secret_key, rsa_public_key, ecdsa_public_key or jwks.endpoint'],
    ['    - id: a\n      auth: { rsa_public_key: not-a-pem }\n', /^config: upstream\.tenants\[0\]\.auth\.rsa_public_key: /.source],
    ['    - id: a\n      auth: { hmac_secret_key: s, jwks: { endpoint: "https://idp.example.com/jwks" } }\n',
      'config: upstream.tenants[0].auth.jwks.endpoint: cannot be combined with hmac_secret_key, rsa_public_key or ecdsa_public_key'],
    ['    - id: a\n      auth: { hmac_secret_key: s, leeway: soon }\n', /^config: upstream\.tenants\[0\]\.auth\.leeway: must be a duration/.source],
    ['    - id: a\n      auth: { hmac_secret_key: s, pass_authorization: true }\n', /^config: upstream\.tenants\[0\]\.auth\.pass_authorization: unknown key/.source],
  ];
  for (const [items, message] of refused) {
    it(`refuses ${JSON.stringify(items.trim())}, naming the key and why`, () => {
      const expected = message.startsWith('^') ? new RegExp(message) : message;
      assert.throws(() => server([], {}, `upstream:\n  tenants:\n${items}`), (err: unknown) => {
        assert.ok(err instanceof Error);
        if (typeof expected === 'string') assert.equal(err.message, expected);
        else assert.match(err.message, expected);
        return true;
      });
    });
  }

  it('never quotes a tenant\'s secret back', () => {
    assertConfigError(
      () => server([], {}, 'upstream:\n  tenants:\n    - id: a\n      auth: { hmac_secret_key: [s3cr3t] }\n'),
      'CONFIG_INVALID_VALUE',
      /^config: upstream\.tenants\[0\]\.auth\.hmac_secret_key: must be a string$/,
    );
  });
});

describe('the agent\'s connect.tenant_id', () => {
  it('is read from the flag, the variable and the file, without a warning', () => {
    assert.equal(agent(['http', 'ep', '3000', '--connect.tenant-id', 'acme']).config.connect.tenantId, 'acme');
    const fromEnv = agent(['http', 'ep', '3000'], { PIKO_CONNECT_TENANT_ID: 'acme' });
    assert.equal(fromEnv.config.connect.tenantId, 'acme');
    assert.deepEqual(fromEnv.warnings, []);
    assert.equal(agent(['http', 'ep', '3000'], {}, 'connect:\n  tenant_id: globex\n').config.connect.tenantId, 'globex');
    assert.equal(agent(['http', 'ep', '3000']).config.connect.tenantId, '');
  });

  it('refuses an ID no tenant can have, naming the key', () => {
    assertConfigError(
      () => agent(['http', 'ep', '3000', '--connect.tenant-id', 'a/b']),
      'CONFIG_INVALID_VALUE',
      'config: connect.tenant_id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit',
    );
  });
});
