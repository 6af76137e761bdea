import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOP_PROOF_WINDOW_S, hopKeyFrom, signHop, verifyHop } from '../../../../../src/adapters/server/proxy/auth-hop.js';

const NOW = 1_800_000_000_000;

describe('hop proofs', () => {
  const key = hopKeyFrom('cluster-secret') as Buffer;

  it('derives no key without a cluster secret, and a key that is not the secret', () => {
    assert.equal(hopKeyFrom(''), undefined);
    assert.equal(key.length, 32);
    assert.notDeepEqual(key, Buffer.from('cluster-secret'));
  });

  it('verifies a proof for its endpoint within the window only', () => {
    const proof = signHop(key, 'web', NOW);
    assert.match(proof, /^v1\.1800000000\.[A-Za-z0-9_-]{43}$/);
    assert.equal(verifyHop(key, proof, 'web', NOW), true);
    assert.equal(verifyHop(key, proof, 'web', NOW + HOP_PROOF_WINDOW_S * 1000), true);
    assert.equal(verifyHop(key, proof, 'web', NOW - HOP_PROOF_WINDOW_S * 1000), true);
    assert.equal(verifyHop(key, proof, 'web', NOW + (HOP_PROOF_WINDOW_S + 1) * 1000), false, 'stale');
    assert.equal(verifyHop(key, proof, 'other', NOW), false, 'bound to its endpoint');
    assert.equal(verifyHop(hopKeyFrom('another-secret') as Buffer, proof, 'web', NOW), false, 'another cluster');
  });

  it('refuses anything malformed', () => {
    const proof = signHop(key, 'web', NOW);
    const [, seconds, mac] = proof.split('.');
    for (const bad of [undefined, '', 'v1', `v2.${seconds}.${mac}`, `v1.${seconds}.${mac}x`, `v1.x.${mac}`, `v1.${Number(seconds) + 1}.${mac}`, ['a', 'b'], `v1.${seconds}.${'A'.repeat(43)}`]) {
      assert.equal(verifyHop(key, bad as string, 'web', NOW), false, JSON.stringify(bad));
    }
  });
});
