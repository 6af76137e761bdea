import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { AuthGate, bearerToken } from '../../../../../src/adapters/server/auth/auth-gate.js';
import { TokenRejectedError, type TokenVerifier, type VerifiedToken } from '../../../../../src/application/ports/token-verifier.port.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

/** A verifier that accepts the token `good` (granting `grant`), rejects `old` as expired and anything else as invalid. */
class FakeVerifier implements TokenVerifier {
  readonly seen: Array<{ token: string; nowMs: number }> = [];
  constructor(private readonly grant: VerifiedToken = {}) {}
  async verify(token: string, nowMs: number): Promise<VerifiedToken> {
    this.seen.push({ token, nowMs });
    if (token === 'good') return this.grant;
    if (token === 'boom') throw new Error('verifier bug');
    throw new TokenRejectedError(token === 'old' ? 'expired token' : 'invalid token', token === 'old' ? 'expired' : 'signature');
  }
  close(): void {}
}

function gate(verifier: TokenVerifier = new FakeVerifier(), tenants: Record<string, TokenVerifier> = {}) {
  const log = new InMemoryLogger();
  const metrics = new InMemoryMetrics();
  const g = new AuthGate({
    verifierFor: (tenant) => (tenant === undefined ? verifier : tenants[tenant]),
    wallClock: () => 1_234_000,
    log,
    metrics,
    port: 'upstream',
  });
  return { g, log, metrics };
}

describe('bearerToken', () => {
  const table: ReadonlyArray<readonly [IncomingHttpHeaders, unknown]> = [
    [{}, 'missing authorization'],
    [{ authorization: '' }, 'missing authorization'],
    [{ authorization: 'Bearer abc' }, { token: 'abc', header: 'authorization' }],
    [{ authorization: 'bearer abc' }, 'unsupported auth type'],
    [{ authorization: 'BEARER abc' }, 'unsupported auth type'],
    [{ authorization: 'Basic abc' }, 'unsupported auth type'],
    [{ authorization: 'Bearer' }, 'invalid authorization'],
    [{ authorization: 'Bearerabc' }, 'invalid authorization'],
    [{ 'x-piko-authorization': 'Bearer piko', authorization: 'Bearer other' }, { token: 'piko', header: 'x-piko-authorization' }],
    [{ 'x-piko-authorization': '', authorization: 'Bearer other' }, { token: 'other', header: 'authorization' }],
    [{ 'x-piko-authorization': 'Basic x', authorization: 'Bearer other' }, 'unsupported auth type'],
    [{ 'x-piko-authorization': ['Bearer a', 'Bearer b'] as unknown as string }, { token: 'a', header: 'x-piko-authorization' }],
    [{ cookie: 'token=abc' }, 'missing authorization'],
  ];
  for (const [headers, expected] of table) {
    it(`reads ${JSON.stringify(headers)}`, () => {
      const got = bearerToken(headers);
      if (typeof expected === 'string') assert.equal('ok' in got ? got.message : undefined, expected);
      else assert.deepEqual(got, expected);
    });
  }
});

describe('AuthGate', () => {
  describe('.authenticate', () => {
    it('grants what the verifier verified, on the wall clock, with the header that carried the token', async () => {
      const verifier = new FakeVerifier({ endpoints: ['a'], expiresAt: 5, subject: 's' });
      const { g } = gate(verifier);
      const decision = await g.authenticate({ authorization: 'Bearer good' });
      assert.deepEqual(decision, {
        ok: true,
        grant: { endpoints: ['a'], expiresAt: 5, subject: 's', credentialHeader: 'authorization', token: 'good', viaHop: false },
      });
      assert.deepEqual(verifier.seen, [{ token: 'good', nowMs: 1_234_000 }]);
    });

    it('answers Piko\'s messages and counts each refusal by fixed reason, never logging the token', async () => {
      const { g, log, metrics } = gate();
      const cases: ReadonlyArray<readonly [IncomingHttpHeaders, string, string]> = [
        [{}, 'missing authorization', 'missing_authorization'],
        [{ authorization: 'Bearer old' }, 'expired token', 'expired'],
        [{ authorization: 'Bearer forged-secret-value' }, 'invalid token', 'signature'],
        [{ authorization: 'Bearer good', 'x-piko-tenant-id': 'nobody' }, 'unknown tenant', 'unknown_tenant'],
      ];
      for (const [headers, message, reason] of cases) {
        const decision = await g.authenticate(headers, '192.0.2.7');
        assert.deepEqual(decision, { ok: false, status: 401, message, reason });
        assert.equal(metrics.value('piko_auth_rejections_total', { port: 'upstream', reason }), 1);
      }
      assert.ok(!JSON.stringify(log.entries).includes('forged-secret-value'));
      assert.ok(log.entries.every((e) => e.level === 'debug'));
    });

    it('picks the tenant\'s verifier by x-piko-tenant-id', async () => {
      const tenant = new FakeVerifier({ endpoints: ['t'] });
      const { g } = gate(new FakeVerifier(), { acme: tenant });
      const decision = await g.authenticate({ authorization: 'Bearer good', 'x-piko-tenant-id': 'acme' });
      assert.ok(decision.ok);
      assert.deepEqual(decision.grant.endpoints, ['t']);
      assert.equal(tenant.seen.length, 1);
    });

    it('answers 500 when the verifier itself fails, and logs it', async () => {
      const { g, log } = gate();
      assert.deepEqual(await g.authenticate({ authorization: 'Bearer boom' }), { ok: false, status: 500, message: 'internal server error', reason: 'verifier_error' });
      assert.ok(log.entries.some((e) => e.level === 'error' && e.message === 'token verifier failed'));
    });
  });

  describe('.permit', () => {
    it('lets a grant without endpoints use any, and one with endpoints only those', async () => {
      const { g, metrics } = gate();
      const all = { endpoints: undefined, expiresAt: undefined, subject: undefined, credentialHeader: undefined, token: undefined, viaHop: false };
      assert.equal(g.permit(all, 'x'), undefined);
      assert.equal(g.permit({ ...all, endpoints: ['a', 'b'] }, 'b'), undefined);
      assert.deepEqual(g.permit({ ...all, endpoints: ['a', 'b'] }, 'c'), { ok: false, status: 401, message: 'endpoint not permitted', reason: 'endpoint_not_permitted' });
      assert.equal(metrics.value('piko_auth_rejections_total', { port: 'upstream', reason: 'endpoint_not_permitted' }), 1);
    });
  });
});
