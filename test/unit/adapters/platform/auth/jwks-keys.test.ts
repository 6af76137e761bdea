import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FetchImplementation } from 'jose';
import { JoseTokenVerifier } from '../../../../../src/adapters/platform/auth/jose-token-verifier.js';
import { JWKS_ON_DEMAND_COOLDOWN_MS } from '../../../../../src/adapters/platform/auth/jwks-keys.js';
import { TokenRejectedError } from '../../../../../src/application/ports/token-verifier.port.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';
import { jwksOf, makeSigningKey, signWith, type SigningKey } from '../../../../support/security/tokens.js';

const NOW_MS = 1_800_000_000_000;
const TTL = 60_000;

/** A key set served from memory: `current` is what the next fetch returns; `down` makes fetches fail. */
class FakeJwksServer {
  current: unknown = { keys: [] };
  down = false;
  fetches = 0;
  readonly fetch: FetchImplementation = async () => {
    this.fetches++;
    if (this.down) throw new TypeError('fetch failed: connect ECONNREFUSED');
    return new Response(JSON.stringify(this.current), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/** Lets pending promise chains (a fetch and its processing) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function start(server: FakeJwksServer) {
  const clock = new FakeClock();
  const log = new InMemoryLogger();
  const metrics = new InMemoryMetrics();
  const verifier = new JoseTokenVerifier(
    {
      configKey: 'upstream.auth',
      hmacSecretKey: '',
      rsaPublicKey: '',
      ecdsaPublicKey: '',
      audience: '',
      issuer: '',
      leewayMs: 0,
      jwks: { endpoint: 'https://idp.invalid/jwks.json', cacheTtlMs: TTL, timeoutMs: 1_000 },
    },
    { clock, log, metrics, port: 'upstream', fetch: server.fetch },
  );
  return { clock, log, metrics, verifier };
}

const accepts = (v: JoseTokenVerifier, token: string) => v.verify(token, NOW_MS);
const refuses = (v: JoseTokenVerifier, token: string) =>
  assert.rejects(v.verify(token, NOW_MS), (err: unknown) => err instanceof TokenRejectedError && err.answer === 'invalid token');

describe('JoseTokenVerifier with a remote JWKS', () => {
  let oldKey: SigningKey;
  let newKey: SigningKey;
  before(async () => {
    oldKey = await makeSigningKey('RS256', 'old');
    newKey = await makeSigningKey('ES256', 'new');
  });

  it('fetches at start-up, refreshes every cache_ttl, and follows a key rotation', async () => {
    const server = new FakeJwksServer();
    server.current = jwksOf(oldKey);
    const { clock, verifier } = start(server);
    await settle();
    assert.equal(server.fetches, 1);
    assert.ok(await accepts(verifier, await signWith(oldKey, {})));

    server.current = jwksOf(newKey);
    clock.advance(TTL);
    await settle();
    assert.equal(server.fetches, 2);
    assert.ok(await accepts(verifier, await signWith(newKey, {})), 'the new kid is accepted');
    await refuses(verifier, await signWith(oldKey, {}));
    verifier.close();
    clock.advance(10 * TTL);
    await settle();
    assert.equal(server.fetches, 2, 'no refresh after close');
  });

  it('keeps serving the last good keys while the source is down, logging and counting each failure', async () => {
    const server = new FakeJwksServer();
    server.current = jwksOf(oldKey);
    const { clock, log, metrics, verifier } = start(server);
    await settle();
    server.down = true;
    for (let i = 0; i < 3; i++) {
      clock.advance(TTL);
      await settle();
    }
    assert.equal(metrics.value('piko_auth_jwks_refresh_failures_total', { port: 'upstream' }), 3);
    assert.equal(log.entries.filter((e) => e.message === 'jwks refresh failed; keeping the last good keys').length, 3);
    assert.ok(await accepts(verifier, await signWith(oldKey, {})), 'last good keys still verify');
    server.down = false;
    server.current = jwksOf(newKey);
    clock.advance(TTL);
    await settle();
    assert.ok(await accepts(verifier, await signWith(newKey, {})));
    verifier.close();
  });

  it('refuses every token while no key set was ever fetched, without a fetch per token', async () => {
    const server = new FakeJwksServer();
    server.down = true;
    const { verifier } = start(server);
    await settle();
    const token = await signWith(oldKey, {});
    for (let i = 0; i < 5; i++) await refuses(verifier, token);
    assert.equal(server.fetches, 1, 'within the cooldown, tokens trigger no fetch');
    verifier.close();
  });

  it('fetches on demand for an unknown kid at most once per cooldown', async () => {
    const server = new FakeJwksServer();
    server.current = jwksOf(oldKey);
    const { clock, verifier } = start(server);
    await settle();
    server.current = jwksOf(oldKey, newKey);
    const fresh = await signWith(newKey, {});
    await refuses(verifier, fresh);
    assert.equal(server.fetches, 1, 'the start-up fetch was within the cooldown');
    clock.advance(JWKS_ON_DEMAND_COOLDOWN_MS);
    assert.ok(await accepts(verifier, fresh), 'an unknown kid after the cooldown fetches the set again');
    assert.equal(server.fetches, 2);
    const stranger = await makeSigningKey('RS256', 'stranger');
    for (let i = 0; i < 5; i++) await refuses(verifier, await signWith(stranger, {}));
    assert.equal(server.fetches, 2, 'made-up kids cannot make the node fetch again within the cooldown');
    verifier.close();
  });
});
