import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemberTable, type MemberClaim } from '../../../../../../src/adapters/server/cluster/gossip/protocol/member-table.js';
import { seededRandom } from '../../../../../support/sim/seeded-random.js';

function table(
  overrides: { memberExpiryMs?: number; tombstoneTtlMs?: number; maxTombstones?: number; maxMembers?: number } = {},
): MemberTable {
  return new MemberTable('self', {
    memberExpiryMs: overrides.memberExpiryMs ?? 1000,
    tombstoneTtlMs: overrides.tombstoneTtlMs ?? 10_000,
    maxTombstones: overrides.maxTombstones ?? 100,
    maxMembers: overrides.maxMembers ?? 100,
    random: seededRandom(1),
    suspicionOptions: () => ({ k: 3, minMs: 500, maxMs: 2000 }),
  });
}

const alive = (id: string, incarnation: number): MemberClaim => ({ id, incarnation, status: 'alive', addr: `${id}:1` });

describe('MemberTable', () => {
  describe('.apply', () => {
    it('follows SWIM precedence: a higher incarnation wins, then the later status', () => {
      const t = table();
      assert.equal(t.apply(alive('a', 1), 0).kind, 'added');
      const steps: Array<[MemberClaim, string, string]> = [
        [alive('a', 1), 'ignored', 'alive'],
        [alive('a', 0), 'stale', 'alive'],
        [{ id: 'a', incarnation: 1, status: 'suspect', from: 'b' }, 'changed', 'suspect'],
        [alive('a', 1), 'stale', 'suspect'],
        [{ id: 'a', incarnation: 1, status: 'suspect', from: 'c' }, 'confirmed', 'suspect'],
        [{ id: 'a', incarnation: 1, status: 'suspect', from: 'c' }, 'ignored', 'suspect'],
        [alive('a', 2), 'changed', 'alive'],
        [{ id: 'a', incarnation: 2, status: 'dead' }, 'changed', 'dead'],
        [{ id: 'a', incarnation: 2, status: 'suspect', from: 'b' }, 'stale', 'dead'],
        [{ id: 'a', incarnation: 2, status: 'left' }, 'changed', 'left'],
        [{ id: 'a', incarnation: 2, status: 'dead' }, 'stale', 'left'],
        [alive('a', 3), 'changed', 'alive'],
      ];
      for (const [claim, outcome, status] of steps) {
        assert.equal(t.apply(claim, 1).kind, outcome, JSON.stringify(claim));
        assert.equal(t.get('a')?.status, status, JSON.stringify(claim));
      }
    });

    it('starts a suspicion that confirmations shorten', () => {
      const t = table();
      t.apply(alive('a', 0), 0);
      t.apply({ id: 'a', incarnation: 0, status: 'suspect', from: 'b' }, 100);
      const s = t.get('a')?.suspicion;
      assert.equal(s?.deadline, 2100);
      t.apply({ id: 'a', incarnation: 0, status: 'suspect', from: 'c' }, 200);
      assert.ok((s?.deadline ?? 0) < 2100);
    });

    it('holds at most maxMembers members', () => {
      const t = table({ maxMembers: 3 });
      for (let i = 0; i < 5; i++) t.apply(alive(`m${i}`, 0), 0);
      assert.equal(t.size, 3);
      assert.equal(t.get('m4'), undefined);
    });

    it('does not add a node from a suspicion (no address) nor from a claim about itself', () => {
      const t = table();
      assert.equal(t.apply({ id: 'x', incarnation: 0, status: 'suspect', from: 'b' }, 0).kind, 'ignored');
      assert.equal(t.apply(alive('self', 5), 0).kind, 'ignored');
      assert.equal(t.size, 0);
    });
  });

  describe('tombstones', () => {
    it('remove expired dead and left members and block every claim not newer than their last life', () => {
      const t = table({ memberExpiryMs: 1000, tombstoneTtlMs: 10_000 });
      t.apply(alive('a', 4), 0);
      t.apply({ id: 'a', incarnation: 4, status: 'left' }, 10);
      assert.deepEqual(t.reap(500), []);
      assert.deepEqual(t.reap(1010).map((m) => m.id), ['a']);
      assert.equal(t.get('a'), undefined);
      for (const claim of [alive('a', 4), alive('a', 0), { id: 'a', incarnation: 4, status: 'dead' } as MemberClaim]) {
        assert.equal(t.apply(claim, 2000).kind, 'stale');
      }
      assert.equal(t.get('a'), undefined);
      assert.equal(t.apply(alive('a', 5), 3000).kind, 'added', 'a newer incarnation is a new life');
    });

    it('are recorded for departures of nodes never seen, and expire after their TTL', () => {
      const t = table({ tombstoneTtlMs: 10_000 });
      assert.equal(t.apply({ id: 'g', incarnation: 2, status: 'dead' }, 0).kind, 'tombstoned');
      assert.equal(t.apply(alive('g', 2), 100).kind, 'stale');
      t.reap(10_000);
      assert.equal(t.tombstone('g'), undefined);
      assert.equal(t.apply(alive('g', 2), 10_001).kind, 'added');
    });

    it('are bounded, the oldest going first', () => {
      const t = table({ maxTombstones: 3 });
      for (let i = 0; i < 5; i++) t.apply({ id: `g${i}`, incarnation: 0, status: 'left' }, i);
      assert.equal(t.tombstoneCount, 3);
      assert.equal(t.tombstone('g0'), undefined);
      assert.ok(t.tombstone('g4') !== undefined);
    });
  });

  describe('probe order', () => {
    it('gives every node a distinct ring successor, so every member has one prober per period', () => {
      const ids = Array.from({ length: 20 }, (_, i) => `node-${i}`);
      const successors = ids.map((self) => {
        const t = new MemberTable(self, {
          memberExpiryMs: 1000,
          tombstoneTtlMs: 10_000,
          maxTombstones: 10,
          maxMembers: 100,
          random: seededRandom(2),
          suspicionOptions: () => ({ k: 3, minMs: 1, maxMs: 2 }),
        });
        for (const id of ids) if (id !== self) t.apply(alive(id, 0), 0);
        return t.ringSuccessor()?.id;
      });
      assert.equal(new Set(successors).size, ids.length, 'a permutation: each node is the successor of exactly one');
      assert.ok(!successors.some((s, i) => s === ids[i]));
    });

    it('round-robin visits every live member once per pass and skips the excluded and the dead', () => {
      const t = table();
      for (const id of ['a', 'b', 'c', 'd']) t.apply(alive(id, 0), 0);
      t.apply({ id: 'd', incarnation: 0, status: 'dead' }, 0);
      const seen = Array.from({ length: 6 }, () => t.nextRoundRobin(new Set(['c']))?.id);
      assert.deepEqual(new Set(seen.slice(0, 2)).size, 2);
      assert.ok(seen.every((id) => id === 'a' || id === 'b'));
      assert.equal(table().nextRoundRobin(new Set()), undefined);
    });
  });
});
