import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isAuthOn } from '../../../../../src/adapters/platform/auth/auth-config-checks.js';
import { agent, assertConfigError, forward, server } from '../config/config-test-helpers.js';

const EC_PEM = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

describe('auth configuration', () => {
  describe('of the server', () => {
    it('loads every key of a port\'s auth group, which turns auth on', () => {
      const { config, warnings } = server(['--upstream.auth.ecdsa-public-key', EC_PEM, '--upstream.auth.leeway', '1s'], {
        PIKO_PROXY_AUTH_HMAC_SECRET_KEY: 'from-the-environment',
      });
      assert.deepEqual(warnings, []);
      assert.equal(config.upstream.auth.ecdsaPublicKey, EC_PEM);
      assert.equal(config.upstream.auth.leewayMs, 1_000);
      assert.equal(config.proxy.auth.hmacSecretKey, 'from-the-environment');
      assert.ok(isAuthOn(config.upstream.auth) && isAuthOn(config.proxy.auth) && !isAuthOn(config.admin.auth));
    });

    it('parses PEM keys at load time and names the key and why', () => {
      assertConfigError(
        () => server(['--proxy.auth.rsa-public-key', '/etc/piko/rsa.pem']),
        'CONFIG_INVALID_VALUE',
        'config: proxy.auth.rsa_public_key: must be the PEM text of an RSA public key (-----BEGIN PUBLIC KEY-----...), not a file path ' +
          '(got "/etc/piko/rsa.pem" from --proxy.auth.rsa-public-key)',
      );
      assertConfigError(
        () => server([], { PIKO_ADMIN_AUTH_RSA_PUBLIC_KEY: EC_PEM }),
        'CONFIG_INVALID_VALUE',
        /^config: admin\.auth\.rsa_public_key: is ec key, not an RSA public key \(got .* from PIKO_ADMIN_AUTH_RSA_PUBLIC_KEY\)$/,
      );
      assertConfigError(
        () => server([], {}, 'upstream:\n  auth:\n    ecdsa_public_key: |\n      -----BEGIN PUBLIC KEY-----\n      AAAA\n      -----END PUBLIC KEY-----\n'),
        'CONFIG_INVALID_VALUE',
        /^config: upstream\.auth\.ecdsa_public_key: is not a readable PEM public key/,
      );
    });

    it('refuses a JWKS endpoint beside a static key, naming the endpoint', () => {
      assertConfigError(
        () => server(['--admin.auth.jwks.endpoint', 'https://idp.example.com/jwks.json', '--admin.auth.hmac-secret-key', 'x']),
        'CONFIG_INVALID_VALUE',
        'config: admin.auth.jwks.endpoint: cannot be combined with hmac_secret_key, rsa_public_key or ecdsa_public_key',
      );
      assertConfigError(() => server(['--proxy.auth.jwks.endpoint', 'ldap://idp']), 'CONFIG_INVALID_VALUE', /^config: proxy\.auth\.jwks\.endpoint: must be empty, an http/);
    });

    it('warns when audience or issuer are set on a port without a key (auth stays off)', () => {
      const { config, warnings } = server(['--proxy.auth.audience', 'piko']);
      assert.equal(isAuthOn(config.proxy.auth), false);
      assert.deepEqual(warnings, ['config: proxy.auth: audience, issuer or jwks settings without a key or jwks.endpoint do not turn auth on; ignored']);
    });

    it('keeps the secret out of every message', () => {
      assert.throws(
        () => server(['--proxy.auth.hmac-secret-key', 's3cr3t', '--proxy.auth.jwks.endpoint', 'file:///etc/jwks.json']),
        (err: Error) => !err.message.includes('s3cr3t'),
      );
    });
  });

  describe('of the agent and forward', () => {
    it('reads connect.token_file', () => {
      assert.equal(agent(['http', 'ep', '3000', '--connect.token-file', '/run/secrets/piko-token']).config.connect.tokenFile, '/run/secrets/piko-token');
      assert.equal(forward(['tcp', '3000', 'ep'], { PIKO_CONNECT_TOKEN_FILE: '/t' }).config.connect.tokenFile, '/t');
    });

    it('refuses connect.token together with connect.token_file', () => {
      const message = 'config: connect.token_file: cannot be combined with connect.token (set one)';
      assertConfigError(() => agent(['http', 'ep', '3000', '--connect.token', 't', '--connect.token-file', '/t']), 'CONFIG_INVALID_VALUE', message);
      assertConfigError(() => forward(['tcp', '3000', 'ep', '--connect.token', 't', '--connect.token-file', '/t']), 'CONFIG_INVALID_VALUE', message);
    });
  });
});
