import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expectedConfirmations,
  Suspicion,
  suspicionTimeout,
} from '../../../../../../src/adapters/server/cluster/gossip/protocol/suspicion.js';

describe('suspicionTimeout (Lifeguard)', () => {
  it('falls from max to min as confirmations arrive, logarithmically', () => {
    const t = (c: number) => Math.round(suspicionTimeout(c, 3, 500, 2000));
    assert.deepEqual([t(0), t(1), t(2), t(3), t(9)], [2000, 1250, 811, 500, 500]);
  });

  it('is the minimum at once when no confirmation can be expected', () => {
    assert.equal(suspicionTimeout(0, 0, 500, 2000), 500);
    assert.equal(expectedConfirmations(3, 2), 0);
    assert.equal(expectedConfirmations(3, 3), 1);
    assert.equal(expectedConfirmations(3, 50), 3);
  });

  it('counts each suspector once', () => {
    const s = new Suspicion(4, 1000, 'a', { k: 3, minMs: 500, maxMs: 2000 });
    assert.equal(s.deadline, 3000);
    assert.equal(s.confirm('a'), false);
    assert.equal(s.confirm('b'), true);
    assert.equal(s.confirm('b'), false);
    assert.equal(s.confirmations, 1);
    assert.equal(s.deadline, 2250);
    assert.equal(s.by, 'a');
  });
});
