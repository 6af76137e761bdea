import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AuthConfigError, authEnabled, JoseTokenVerifier, type JwtVerifierSettings } from '../../../../../src/adapters/platform/auth/jose-token-verifier.js';
import { TokenRejectedError, type TokenRejectionReason } from '../../../../../src/application/ports/token-verifier.port.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';
import { hs256ByHand, jwksOf, makeSigningKey, signHmac, signWith, unsignedToken, type SigningKey } from '../../../../support/security/tokens.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;

const settings = (over: Partial<JwtVerifierSettings> = {}): JwtVerifierSettings => ({
  configKey: 'proxy.auth',
  hmacSecretKey: '',
  rsaPublicKey: '',
  ecdsaPublicKey: '',
  audience: '',
  issuer: '',
  leewayMs: 5_000,
  jwks: { endpoint: '', cacheTtlMs: 0, timeoutMs: 0 },
  ...over,
});

const deps = () => ({ clock: new FakeClock(), log: new InMemoryLogger(), metrics: new InMemoryMetrics(), port: 'proxy' });

async function rejected(p: Promise<unknown>, answer: string, reason?: TokenRejectionReason): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TokenRejectedError, `expected TokenRejectedError, got ${String(err)}`);
    assert.equal(err.answer, answer);
    assert.equal(err.message, answer);
    if (reason !== undefined) assert.equal(err.reason, reason);
    return true;
  });
}

describe('JoseTokenVerifier', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  before(async () => {
    rsa = await makeSigningKey('RS256', 'rsa-1');
    ec = await makeSigningKey('ES256', 'ec-1');
  });

  describe('having an HMAC secret', () => {
    const v = () => new JoseTokenVerifier(settings({ hmacSecretKey: SECRET }), deps());

    it('accepts HS256, HS384 and HS512 and reports endpoints, expiry and subject', async () => {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        const token = await signHmac(SECRET, { sub: 'agent-1', exp: NOW_S + 60, piko: { endpoints: ['a', 'b'] } }, alg);
        assert.deepEqual(await v().verify(token, NOW_MS), { endpoints: ['a', 'b'], expiresAt: (NOW_S + 60) * 1000, subject: 'agent-1' });
      }
    });

    it('grants every endpoint when piko.endpoints is missing or empty, and never expires without exp', async () => {
      assert.deepEqual(await v().verify(await signHmac(SECRET, {}), NOW_MS), { endpoints: undefined, expiresAt: undefined, subject: undefined });
      assert.equal((await v().verify(await signHmac(SECRET, { piko: { endpoints: [] } }), NOW_MS)).endpoints, undefined);
    });

    it('refuses alg none, RS256 and a token signed with another secret', async () => {
      await rejected(v().verify(unsignedToken({}), NOW_MS), 'invalid token');
      await rejected(v().verify(await signWith(rsa, {}), NOW_MS), 'invalid token', 'algorithm');
      await rejected(v().verify(await signHmac('another-secret-of-at-least-32-bytes', {}), NOW_MS), 'invalid token', 'signature');
    });

    it('refuses a tampered payload and garbage', async () => {
      const [h, , s] = (await signHmac(SECRET, { piko: { endpoints: ['a'] } })).split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ piko: { endpoints: ['b'] } })).toString('base64url')}.${s}`;
      await rejected(v().verify(forged, NOW_MS), 'invalid token', 'signature');
      for (const garbage of ['', 'abc', 'a.b.c', 'Bearer x', '..', `${h}..${s}`]) await rejected(v().verify(garbage, NOW_MS), 'invalid token');
    });

    it('answers expired token after exp plus the leeway, and accepts within it', async () => {
      const token = await signHmac(SECRET, { exp: NOW_S });
      assert.ok(await v().verify(token, NOW_MS + 4_000));
      await rejected(v().verify(token, NOW_MS + 6_000), 'expired token', 'expired');
      const strict = new JoseTokenVerifier(settings({ hmacSecretKey: SECRET, leewayMs: 0 }), deps());
      await rejected(strict.verify(token, NOW_MS + 1_000), 'expired token', 'expired');
    });

    it('answers invalid token before nbf minus the leeway', async () => {
      const token = await signHmac(SECRET, { nbf: NOW_S + 60 });
      await rejected(v().verify(token, NOW_MS), 'invalid token', 'not_yet_valid');
      assert.ok(await v().verify(token, NOW_MS + 56_000));
    });

    it('refuses a piko claim of the wrong shape', async () => {
      for (const piko of ['x', [], { endpoints: 'a' }, { endpoints: [1] }]) {
        await rejected(v().verify(await signHmac(SECRET, { piko } as never), NOW_MS), 'invalid token', 'claims');
      }
    });

    it('warns about a short secret', () => {
      const d = deps();
      new JoseTokenVerifier(settings({ hmacSecretKey: 'short' }), d);
      assert.ok(d.log.entries.some((e) => e.level === 'warn' && /shorter than 32 bytes/.test(e.message)));
    });
  });

  describe('having an RSA public key', () => {
    const v = () => new JoseTokenVerifier(settings({ rsaPublicKey: rsa.publicPem }), deps());

    it('accepts RS256 and only RS*', async () => {
      assert.deepEqual(v().algorithms, ['RS256', 'RS384', 'RS512']);
      assert.ok(await v().verify(await signWith(rsa, { piko: { endpoints: ['x'] } }), NOW_MS));
    });

    it('refuses HS256 signed with the RSA public key text (algorithm confusion), by hand and with jose', async () => {
      await rejected(v().verify(hs256ByHand(rsa.publicPem, {}), NOW_MS), 'invalid token', 'algorithm');
      await rejected(v().verify(await signHmac(rsa.publicPem, {}), NOW_MS), 'invalid token', 'algorithm');
      // Even with an HMAC secret configured beside it, the RSA text is not the secret.
      const both = new JoseTokenVerifier(settings({ rsaPublicKey: rsa.publicPem, hmacSecretKey: SECRET }), deps());
      await rejected(both.verify(hs256ByHand(rsa.publicPem, {}), NOW_MS), 'invalid token', 'signature');
    });

    it('refuses ES256 and a token signed by another RSA key', async () => {
      await rejected(v().verify(await signWith(ec, {}), NOW_MS), 'invalid token', 'algorithm');
      const other = await makeSigningKey('RS256', 'rsa-1');
      await rejected(v().verify(await signWith(other, {}), NOW_MS), 'invalid token', 'signature');
    });

    it('checks audience and issuer when set', async () => {
      const strict = new JoseTokenVerifier(settings({ rsaPublicKey: rsa.publicPem, audience: 'piko', issuer: 'https://issuer' }), deps());
      assert.ok(await strict.verify(await signWith(rsa, { aud: ['other', 'piko'], iss: 'https://issuer' }), NOW_MS));
      await rejected(strict.verify(await signWith(rsa, { aud: 'other', iss: 'https://issuer' }), NOW_MS), 'invalid token', 'audience');
      await rejected(strict.verify(await signWith(rsa, { iss: 'https://issuer' }), NOW_MS), 'invalid token', 'audience');
      await rejected(strict.verify(await signWith(rsa, { aud: 'piko', iss: 'https://evil' }), NOW_MS), 'invalid token', 'issuer');
      await rejected(strict.verify(await signWith(rsa, { aud: 'piko' }), NOW_MS), 'invalid token', 'issuer');
    });
  });

  describe('having RSA, EC and HMAC keys at once', () => {
    it('picks the key by alg', async () => {
      const v = new JoseTokenVerifier(settings({ rsaPublicKey: rsa.publicPem, ecdsaPublicKey: ec.publicPem, hmacSecretKey: SECRET }), deps());
      for (const token of [await signWith(rsa, {}), await signWith(ec, {}), await signHmac(SECRET, {}, 'HS512')]) assert.ok(await v.verify(token, NOW_MS));
      await rejected(v.verify(unsignedToken({}), NOW_MS), 'invalid token');
    });
  });

  describe('having keys that do not parse', () => {
    const configError = (over: Partial<JwtVerifierSettings>, pattern: RegExp) =>
      assert.throws(() => new JoseTokenVerifier(settings(over), deps()), (err: Error) => err instanceof AuthConfigError && pattern.test(err.message));

    it('names the key and the reason', () => {
      configError({ rsaPublicKey: '/etc/piko/rsa.pem' }, /^proxy\.auth\.rsa_public_key: must be the PEM text .*not a file path$/);
      configError({ rsaPublicKey: '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----' }, /^proxy\.auth\.rsa_public_key: is not a readable PEM public key/);
      configError({ rsaPublicKey: ec.publicPem }, /^proxy\.auth\.rsa_public_key: is ec key, not an RSA public key$/);
      configError({ ecdsaPublicKey: rsa.publicPem }, /^proxy\.auth\.ecdsa_public_key: is rsa key, not an EC \(ECDSA\) public key$/);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      configError({ ecdsaPublicKey: privateKey }, /^proxy\.auth\.ecdsa_public_key: is a private key/);
    });

    it('refuses a JWKS endpoint beside static keys, and a JWKS file that is missing or not a key set', () => {
      configError({ hmacSecretKey: SECRET, jwks: { endpoint: 'https://idp/jwks', cacheTtlMs: 0, timeoutMs: 0 } }, /^proxy\.auth\.jwks\.endpoint: cannot be combined/);
      configError({ jwks: { endpoint: 'file:///nonexistent/jwks.json', cacheTtlMs: 0, timeoutMs: 0 } }, /^proxy\.auth\.jwks\.endpoint: cannot read the key set \/nonexistent\/jwks\.json/);
      configError({ jwks: { endpoint: 'ftp://idp/jwks', cacheTtlMs: 0, timeoutMs: 0 } }, /must be an http, https or file URL/);
    });

    it('turns auth on only when a key or JWKS endpoint is set', () => {
      assert.equal(authEnabled(settings()), false);
      assert.equal(authEnabled(settings({ audience: 'a', issuer: 'b' })), false);
      assert.equal(authEnabled(settings({ ecdsaPublicKey: 'x' })), true);
      assert.throws(() => new JoseTokenVerifier(settings(), deps()), /no key or JWKS endpoint set/);
    });
  });

  describe('having a file:// JWKS', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads it once and picks keys by kid, asymmetric algorithms only', async () => {
      const file = join(dir, 'jwks.json');
      writeFileSync(file, JSON.stringify(jwksOf(rsa, ec)));
      const v = new JoseTokenVerifier(settings({ jwks: { endpoint: pathToFileURL(file).href, cacheTtlMs: 0, timeoutMs: 0 } }), deps());
      assert.ok(await v.verify(await signWith(rsa, {}), NOW_MS));
      assert.ok(await v.verify(await signWith(ec, {}), NOW_MS));
      writeFileSync(file, JSON.stringify({ keys: [] }));
      assert.ok(await v.verify(await signWith(rsa, {}), NOW_MS), 'read once at start-up');
      await rejected(v.verify(await signHmac(SECRET, {}), NOW_MS), 'invalid token', 'algorithm');
      await rejected(v.verify(unsignedToken({}), NOW_MS), 'invalid token');
      const stranger = await makeSigningKey('RS256', 'unknown-kid');
      await rejected(v.verify(await signWith(stranger, {}), NOW_MS), 'invalid token', 'no_key');
    });
  });
});
