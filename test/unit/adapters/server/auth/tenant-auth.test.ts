import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthGate, NO_AUTH, type Grant } from '../../../../../src/adapters/server/auth/auth-gate.js';
import { hopKeyFrom, signHop } from '../../../../../src/adapters/server/proxy/auth-hop.js';
import { ProxyAuth } from '../../../../../src/adapters/server/proxy/auth-proxy.js';
import { UpstreamAuth } from '../../../../../src/adapters/server/upstream/auth-upstream.js';
import { TokenRejectedError, type TokenVerifier, type VerifiedToken } from '../../../../../src/application/ports/token-verifier.port.js';
import type { TenantId } from '../../../../../src/domain/endpoint/tenant.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

const NOW = 1_800_000_000_000;
const KEY = hopKeyFrom('cluster') as Buffer;

/** A verifier accepting only `token`, granting `endpoints`. */
const verifierOf = (token: string, endpoints?: string[]): TokenVerifier => ({
  verify: async (t: string): Promise<VerifiedToken> => {
    if (t === token) return { ...(endpoints !== undefined && { endpoints }), expiresAt: NOW + 1000 };
    throw new TokenRejectedError('invalid token', 'signature');
  },
  close: () => {},
});

/** A gate as the server builds it with tenants `a` and `b`: the default tenant has `defaultVerifier` (or none). */
function gate(defaultVerifier: TokenVerifier | typeof NO_AUTH) {
  const tenants = new Map<string, TokenVerifier>([['a', verifierOf('token-a', ['web'])], ['b', verifierOf('token-b')]]);
  return new AuthGate({
    verifierFor: (tenant) => (tenant === undefined ? defaultVerifier : tenants.get(tenant)),
    wallClock: () => NOW,
    log: new InMemoryLogger(),
    metrics: new InMemoryMetrics(),
    port: 'proxy',
  });
}

describe('tenants in the auth gate', () => {
  it('verifies a tenant\'s request with its own keys and names the tenant in the grant', async () => {
    const g = gate(NO_AUTH);
    const decision = await g.authenticate({ authorization: 'Bearer token-a', 'x-piko-tenant-id': 'a' });
    assert.ok(decision.ok);
    assert.equal(decision.grant.tenant, 'a');
    assert.deepEqual(decision.grant.endpoints, ['web']);
  });

  it('refuses another tenant\'s token, an unknown tenant and a tenant request without a token', async () => {
    const g = gate(NO_AUTH);
    const refused = async (headers: Record<string, string>) => {
      const d = await g.authenticate(headers);
      return d.ok ? 'ok' : d.message;
    };
    assert.equal(await refused({ authorization: 'Bearer token-a', 'x-piko-tenant-id': 'b' }), 'invalid token');
    assert.equal(await refused({ authorization: 'Bearer token-a', 'x-piko-tenant-id': 'zzz' }), 'unknown tenant');
    assert.equal(await refused({ 'x-piko-tenant-id': 'a' }), 'missing authorization');
  });

  it('passes a default-tenant request without a token when the port has no auth of its own (NO_AUTH), with no tenant', async () => {
    const decision = await gate(NO_AUTH).authenticate({});
    assert.ok(decision.ok);
    assert.equal(decision.grant.tenant, undefined);
    assert.equal(decision.grant.token, undefined);
  });

  it('verifies a default-tenant request with the port\'s keys: a tenant\'s token is not the port\'s', async () => {
    const g = gate(verifierOf('port-token'));
    assert.equal((await g.authenticate({ authorization: 'Bearer port-token' })).ok, true);
    assert.equal((await g.authenticate({ authorization: 'Bearer token-a' })).ok, false);
  });
});

describe('tenants in the proxy auth', () => {
  const auth = (hopKey?: Buffer) => new ProxyAuth(gate(NO_AUTH), { passAuthorization: false, hopKey }, () => NOW);
  const tenantGrant = (tenant: string | undefined): Grant => ({
    endpoints: undefined, expiresAt: undefined, subject: undefined, credentialHeader: 'authorization', token: 'token-a', viaHop: false,
    ...(tenant !== undefined && { tenant: tenant as TenantId }),
  });

  it('hands a peer the tenant, the bare endpoint ID and a hop proof bound to the tenant\'s key', () => {
    const headers = auth(KEY).peerHeaders(tenantGrant('a'), 'a/web');
    assert.equal(headers['x-piko-tenant-id'], 'a');
    assert.equal(headers['x-piko-endpoint'], 'web');
    assert.equal(headers['x-piko-hop-proof'], signHop(KEY, 'a/web', NOW));
    assert.equal(headers['x-piko-authorization'], undefined);
  });

  it('hands a peer the token and the tenant without a hop key; nothing tenant-related for the default tenant', () => {
    assert.deepEqual(auth().peerHeaders(tenantGrant('a'), 'a/web'), { 'x-piko-tenant-id': 'a', 'x-piko-endpoint': 'web', 'x-piko-authorization': 'Bearer token-a' });
    assert.deepEqual(auth(KEY).peerHeaders(tenantGrant(undefined), 'web'), { 'x-piko-hop-proof': signHop(KEY, 'web', NOW) });
  });

  it('accepts a hop proof only for the tenant it was made for', async () => {
    const proofA = signHop(KEY, 'a/web', NOW);
    const ok = await auth(KEY).check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': proofA, 'x-piko-tenant-id': 'a' }, 'web', '');
    assert.ok(ok.ok);
    assert.equal(ok.grant.tenant, 'a');
    assert.equal(ok.grant.viaHop, true);
    // The same proof presented for tenant b, or for the default tenant, proves nothing: the request needs a token.
    const asB = await auth(KEY).check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': proofA, 'x-piko-tenant-id': 'b' }, 'web', '');
    assert.deepEqual(asB.ok ? 'ok' : asB.message, 'missing authorization');
    const asDefault = await auth(KEY).check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': proofA }, 'web', '');
    assert.ok(asDefault.ok, 'the default tenant has no auth here');
    assert.equal(asDefault.grant.viaHop, false, 'but not by the proof');
    // A default-tenant proof does not open tenant a's endpoint.
    const defaultProof = signHop(KEY, 'web', NOW);
    const crossed = await auth(KEY).check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': defaultProof, 'x-piko-tenant-id': 'a' }, 'web', '');
    assert.deepEqual(crossed.ok ? 'ok' : crossed.message, 'missing authorization');
  });
});

describe('tenants in the upstream auth', () => {
  it('applies the tenant\'s disable_disconnect_on_expiry, the port\'s for the default tenant', () => {
    const clock = new FakeClock();
    const upstream = new UpstreamAuth(
      gate(NO_AUTH),
      { disconnectOnExpiry: true, leewayMs: 0, tenants: new Map([['a', { disconnectOnExpiry: false, leewayMs: 0 }]]) },
      { clock, wallClock: () => NOW + 10_000, log: new InMemoryLogger() },
    );
    let closed = 0;
    const connection = { id: 'u1', endpointId: 'web', close: () => void closed++ };
    const expired: Grant = { endpoints: undefined, expiresAt: NOW, subject: undefined, credentialHeader: 'authorization', token: 't', viaHop: false };
    upstream.watchExpiry(connection, { ...expired, tenant: 'a' as TenantId });
    assert.equal(closed, 0, 'tenant a keeps its connections at expiry');
    upstream.watchExpiry(connection, expired);
    assert.equal(closed, 1, 'the default tenant closes at expiry');
  });
});
