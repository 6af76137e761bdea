import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BroadcastQueue } from '../../../../../../src/adapters/server/cluster/gossip/protocol/broadcast-queue.js';

describe('BroadcastQueue', () => {
  const noState = () => ({ drop: true as const });

  it('keeps one update per node (the newest) and drops it after the retransmit limit', () => {
    const q = new BroadcastQueue();
    q.enqueueMember({ status: 'alive', id: 'a', incarnation: 1, addr: 'a:1' });
    q.enqueueMember({ status: 'dead', id: 'a', incarnation: 1 });
    assert.equal(q.size, 1);
    for (let i = 0; i < 3; i++) assert.deepEqual(q.fill(1000, 3, noState).updates, [{ status: 'dead', id: 'a', incarnation: 1 }]);
    assert.equal(q.size, 0);
    assert.deepEqual(q.fill(1000, 3, noState).updates, []);
  });

  it('sends the least-sent first and only what fits', () => {
    const q = new BroadcastQueue();
    q.enqueueMember({ status: 'dead', id: 'old', incarnation: 0 });
    q.fill(1000, 10, noState);
    q.enqueueMember({ status: 'dead', id: 'new', incarnation: 0 });
    const one = q.fill(10, 10, noState);
    assert.deepEqual(one.updates.map((u) => u.id), ['new']);
    assert.ok(one.size <= 10);
  });

  it('merges state items to the lowest base and asks the supplier for chunks', () => {
    const q = new BroadcastQueue();
    q.enqueueState('n', 0, 5);
    q.enqueueState('n', 0, 3);
    const asked: number[] = [];
    q.fill(1000, 2, (_id, _epoch, base) => {
      asked.push(base);
      return {};
    });
    assert.deepEqual(asked, [3]);
    q.fill(1000, 2, () => ({ drop: true }));
    assert.equal(q.size, 0);
  });
});
