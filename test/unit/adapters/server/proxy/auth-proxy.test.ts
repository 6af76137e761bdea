import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { AuthGate, type Grant } from '../../../../../src/adapters/server/auth/auth-gate.js';
import { hopKeyFrom, signHop } from '../../../../../src/adapters/server/proxy/auth-hop.js';
import { ProxyAuth } from '../../../../../src/adapters/server/proxy/auth-proxy.js';
import { TokenRejectedError, type VerifiedToken } from '../../../../../src/application/ports/token-verifier.port.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

const NOW = 1_800_000_000_000;
const KEY = hopKeyFrom('cluster') as Buffer;

function proxyAuth(options: { passAuthorization?: boolean; hopKey?: Buffer } = {}) {
  const verifier = {
    verify: async (token: string): Promise<VerifiedToken> => {
      if (token === 'web-only') return { endpoints: ['web'] };
      if (token === 'any') return {};
      throw new TokenRejectedError('invalid token', 'signature');
    },
    close: () => {},
  };
  const gate = new AuthGate({ verifierFor: () => verifier, wallClock: () => NOW, log: new InMemoryLogger(), metrics: new InMemoryMetrics(), port: 'proxy' });
  return new ProxyAuth(gate, { passAuthorization: options.passAuthorization ?? false, hopKey: options.hopKey }, () => NOW);
}

const grant = (over: Partial<Grant> = {}): Grant => ({
  endpoints: undefined,
  expiresAt: undefined,
  subject: undefined,
  credentialHeader: 'authorization',
  token: 'any',
  viaHop: false,
  ...over,
});

describe('ProxyAuth', () => {
  describe('.check', () => {
    it('checks the token and, when the endpoint is known, the endpoint', async () => {
      const auth = proxyAuth();
      assert.equal((await auth.check({ authorization: 'Bearer web-only' }, 'web', '')).ok, true);
      assert.deepEqual(await auth.check({ authorization: 'Bearer web-only' }, 'db', ''), { ok: false, status: 401, message: 'endpoint not permitted', reason: 'endpoint_not_permitted' });
      assert.equal((await auth.check({ authorization: 'Bearer web-only' }, undefined, '')).ok, true, 'the 400 comes after');
    });

    it('accepts a forwarded request with a valid hop proof for its endpoint, without a token', async () => {
      const auth = proxyAuth({ hopKey: KEY });
      const headers = { 'x-piko-forward': 'true', 'x-piko-hop-proof': signHop(KEY, 'web', NOW) };
      const decision = await auth.check(headers, 'web', '');
      assert.ok(decision.ok);
      assert.equal(decision.grant.viaHop, true);
      assert.deepEqual(decision.grant.endpoints, ['web']);
    });

    it('authenticates like any request a hop marker without a valid proof, or a proof without the marker', async () => {
      const auth = proxyAuth({ hopKey: KEY });
      const missing = { ok: false, status: 401, message: 'missing authorization', reason: 'missing_authorization' };
      assert.deepEqual(await auth.check({ 'x-piko-forward': 'true' }, 'web', ''), missing);
      assert.deepEqual(await auth.check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': signHop(KEY, 'db', NOW) }, 'web', ''), missing);
      assert.deepEqual(await auth.check({ 'x-piko-hop-proof': signHop(KEY, 'web', NOW) }, 'web', ''), missing);
      assert.deepEqual(await auth.check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': signHop(KEY, 'web', NOW) }, undefined, ''), missing);
      // A node without the key never takes a proof.
      assert.deepEqual(await proxyAuth().check({ 'x-piko-forward': 'true', 'x-piko-hop-proof': signHop(KEY, 'web', NOW) }, 'web', ''), missing);
    });
  });

  describe('.strip', () => {
    const headers = (): IncomingHttpHeaders => ({ authorization: 'Bearer any', 'x-piko-authorization': 'Bearer any', 'x-piko-hop-proof': 'p', accept: '*/*' });

    it('removes the Authorization that carried the token, and every proxy credential', () => {
      const h = headers();
      proxyAuth().strip(h, grant());
      assert.deepEqual(h, { accept: '*/*' });
    });

    it('keeps an Authorization that did not carry the proxy token (it is the service\'s)', () => {
      const h = headers();
      proxyAuth().strip(h, grant({ credentialHeader: 'x-piko-authorization' }));
      assert.deepEqual(h, { authorization: 'Bearer any', accept: '*/*' });
    });

    it('keeps Authorization with pass_authorization, as Piko does', () => {
      const h = headers();
      proxyAuth({ passAuthorization: true }).strip(h, grant());
      assert.deepEqual(h, { authorization: 'Bearer any', accept: '*/*' });
    });
  });

  describe('.peerHeaders', () => {
    it('vouches with a hop proof when nodes share a key, else hands the token on', () => {
      assert.deepEqual(proxyAuth({ hopKey: KEY }).peerHeaders(grant(), 'web'), { 'x-piko-hop-proof': signHop(KEY, 'web', NOW) });
      assert.deepEqual(proxyAuth().peerHeaders(grant(), 'web'), { 'x-piko-authorization': 'Bearer any' });
      assert.deepEqual(proxyAuth().peerHeaders(grant({ token: undefined, viaHop: true }), 'web'), {});
    });
  });
});
