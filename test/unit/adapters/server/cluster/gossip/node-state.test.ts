import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateChunkSize } from '../../../../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import type { StateChunk } from '../../../../../../src/adapters/server/cluster/gossip/protocol/messages.js';
import { LocalState, ReplicaState } from '../../../../../../src/adapters/server/cluster/gossip/protocol/node-state.js';
import { seededRandom } from '../../../../../support/sim/seeded-random.js';

/** Moves chunks of at most `budget` bytes from owner to replica until it has caught up; returns the rounds. */
function sync(owner: LocalState, replica: ReplicaState, budget: number, maxRounds = 1000): number {
  replica.advertise(owner.epoch, owner.known);
  let rounds = 0;
  while (replica.behind && rounds < maxRounds) {
    const base = replica.epoch === owner.epoch ? replica.known : 0;
    const chunk = owner.chunkAfter('o', base, budget);
    assert.ok(chunk !== undefined, 'the owner has something to send while the replica is behind');
    assert.ok(stateChunkSize(chunk) <= budget);
    replica.apply(chunk);
    rounds += 1;
  }
  return rounds;
}

describe('LocalState', () => {
  it('stamps each real change with the next version and ignores no-ops', () => {
    const s = new LocalState(0);
    assert.equal(s.set('a', '1'), true);
    assert.equal(s.set('a', '1'), false);
    assert.equal(s.set('b', undefined), false, 'deleting a missing key changes nothing');
    assert.equal(s.set('a', undefined), true);
    assert.equal(s.set('a', undefined), false);
    assert.equal(s.known, 2);
    assert.deepEqual(s.entryList(), [{ key: 'a', version: 2, value: undefined }]);
    assert.equal(s.tombstones, 1);
  });

  it('cuts ascending chunks that fit the budget and say how far they reach', () => {
    const s = new LocalState(3);
    for (let i = 0; i < 10; i++) s.set(`endpoint:e${i}`, String(i));
    const all = s.chunkAfter('o', 0, 10_000) as StateChunk;
    assert.equal(all.entries.length, 10);
    assert.deepEqual([all.base, all.to, all.latest, all.epoch], [0, 10, 10, 3]);
    const part = s.chunkAfter('o', 4, 100) as StateChunk;
    assert.ok(stateChunkSize(part) <= 100);
    assert.equal(part.entries[0]?.version, 5);
    assert.equal(part.to, part.entries[part.entries.length - 1]?.version);
    assert.ok(part.to < part.latest);
    assert.equal(s.chunkAfter('o', 10, 10_000), undefined, 'nothing after the latest version');
    assert.equal(s.chunkAfter('o', 0, 20), undefined, 'no room for one entry');
  });

  it('compacts past the tombstone limit: deletions dropped, live entries re-stamped above a floor', () => {
    const s = new LocalState(0);
    s.set('keep', 'k');
    for (let i = 0; i < 5; i++) {
      s.set(`x${i}`, 'v');
      s.set(`x${i}`, undefined);
    }
    assert.equal(s.compactIfNeeded(10), false);
    assert.equal(s.compactIfNeeded(4), true);
    assert.equal(s.tombstones, 0);
    assert.deepEqual([s.floor, s.restampedTo, s.known], [11, 12, 12]);
    assert.deepEqual(s.entryList(), [{ key: 'keep', version: 12, value: 'k' }]);
  });
});

describe('ReplicaState', () => {
  it('converges on a state far larger than one datagram, chunk by chunk', () => {
    const owner = new LocalState(0);
    for (let i = 0; i < 200; i++) owner.set(`endpoint:service-${i}`, String(i % 7));
    const replica = new ReplicaState();
    const rounds = sync(owner, replica, 1000);
    assert.ok(rounds > 5, `took ${rounds} rounds`);
    assert.deepEqual(replica.live(), owner.live());
  });

  it('applies out-of-order entries one by one but moves its position only contiguously', () => {
    const owner = new LocalState(0);
    for (let i = 1; i <= 6; i++) owner.set(`k${i}`, `v${i}`);
    const replica = new ReplicaState();
    const late = owner.chunkAfter('o', 3, 10_000) as StateChunk;
    assert.deepEqual(replica.apply(late)?.map((c) => c.key), ['k4', 'k5', 'k6']);
    assert.equal(replica.known, 0);
    assert.equal(replica.behind, true);
    replica.apply(owner.chunkAfter('o', 0, 10_000) as StateChunk);
    assert.equal(replica.known, 6);
    assert.equal(replica.behind, false);
  });

  it('keeps the newest version of a key whatever order chunks arrive in', () => {
    const owner = new LocalState(0);
    owner.set('a', 'old');
    const stale = owner.chunkAfter('o', 0, 10_000) as StateChunk;
    owner.set('a', 'new');
    const fresh = owner.chunkAfter('o', 0, 10_000) as StateChunk;
    const replica = new ReplicaState();
    replica.apply(fresh);
    assert.deepEqual(replica.apply(stale), []);
    assert.equal(replica.get('a'), 'new');
  });

  it('replaces everything on a newer epoch and ignores an older one', () => {
    const life1 = new LocalState(1);
    life1.set('endpoint:a', '1');
    life1.set('endpoint:b', '1');
    const replica = new ReplicaState();
    replica.apply(life1.chunkAfter('o', 0, 10_000) as StateChunk);
    const life2 = new LocalState(5);
    life2.set('endpoint:c', '2');
    const changes = replica.apply(life2.chunkAfter('o', 0, 10_000) as StateChunk);
    assert.deepEqual(changes, [
      { key: 'endpoint:a', value: undefined },
      { key: 'endpoint:b', value: undefined },
      { key: 'endpoint:c', value: '2' },
    ]);
    assert.equal(replica.apply(life1.chunkAfter('o', 0, 10_000) as StateChunk), undefined);
    assert.deepEqual([...replica.live()], [['endpoint:c', '2']]);
  });

  it('forgets what the owner deleted before compacting, once it holds the re-stamped entries', () => {
    const owner = new LocalState(0);
    owner.set('keep', 'k');
    owner.set('gone', 'g');
    const replica = new ReplicaState();
    sync(owner, replica, 10_000);
    owner.set('gone', undefined);
    for (let i = 0; i < 4; i++) {
      owner.set(`x${i}`, 'v');
      owner.set(`x${i}`, undefined);
    }
    owner.compactIfNeeded(2);
    // The replica missed every deletion; it catches up from its old position across the compaction.
    const changes = replica.apply(owner.chunkAfter('o', replica.known, 10_000) as StateChunk);
    assert.deepEqual(changes, [{ key: 'gone', value: undefined }]);
    assert.deepEqual([...replica.live()], [['keep', 'k']]);
    assert.equal(replica.tombstones, 0);
    assert.equal(replica.behind, false);
  });

  it('stays equal to the owner under random changes, compactions and a small budget', () => {
    const random = seededRandom(7);
    const owner = new LocalState(0);
    const replica = new ReplicaState();
    for (let round = 0; round < 300; round++) {
      for (let i = 0; i < 5; i++) {
        const key = `endpoint:${Math.floor(random() * 40)}`;
        owner.set(key, random() < 0.4 ? undefined : String(Math.floor(random() * 3)));
      }
      owner.compactIfNeeded(20);
      if (round % 3 === 0) sync(owner, replica, 300);
    }
    sync(owner, replica, 300);
    assert.deepEqual(replica.live(), owner.live());
  });
});
