import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RoundRobin } from '../../../../src/domain/routing/round-robin.js';
import type { Upstream } from '../../../../src/domain/upstream/upstream.js';
import { UpstreamFixtures } from '../../../support/fixtures/upstream.fixtures.js';

function rotation(...ids: string[]): RoundRobin<Upstream> {
  const rr = new RoundRobin<Upstream>();
  for (const id of ids) rr.add(UpstreamFixtures.of(id));
  return rr;
}

function take(rr: RoundRobin<Upstream>, n: number, skip?: (u: Upstream) => boolean): Array<string | undefined> {
  return Array.from({ length: n }, () => rr.next(skip)?.id);
}

describe('RoundRobin', () => {
  describe('.add', () => {
    it('adds upstreams in order', () => {
      const rr = rotation('a', 'b', 'c');
      assert.equal(rr.size, 3);
      assert.deepEqual(rr.list().map((u) => u.id), ['a', 'b', 'c']);
    });

    it('returns false and changes nothing when the ID is already present', () => {
      const rr = rotation('a', 'b');
      assert.equal(rr.add(UpstreamFixtures.of('a')), false);
      assert.equal(rr.size, 2);
      assert.deepEqual(take(rr, 4), ['a', 'b', 'a', 'b']);
    });
  });

  describe('.next', () => {
    it('returns undefined when empty', () => {
      assert.equal(new RoundRobin<Upstream>().next(), undefined);
    });

    it('cycles through the upstreams in order', () => {
      assert.deepEqual(take(rotation('a', 'b', 'c'), 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    });

    it('includes an upstream added later in the rotation', () => {
      const rr = rotation('a', 'b');
      assert.equal(rr.next()?.id, 'a');
      rr.add(UpstreamFixtures.of('c'));
      assert.deepEqual(take(rr, 4), ['b', 'c', 'a', 'b']);
    });

    describe('having a skip predicate', () => {
      it('skips matching upstreams and continues after the one returned', () => {
        const rr = rotation('a', 'b', 'c');
        const skipB = (u: Upstream): boolean => u.id === 'b';
        assert.deepEqual(take(rr, 4, skipB), ['a', 'c', 'a', 'c']);
      });

      it('returns undefined when every upstream is skipped, without moving the cursor', () => {
        const rr = rotation('a', 'b', 'c');
        assert.equal(rr.next()?.id, 'a');
        assert.equal(rr.next(() => true), undefined);
        assert.equal(rr.next()?.id, 'b');
      });
    });
  });

  describe('.remove', () => {
    it('returns false for an unknown ID and changes nothing', () => {
      const rr = rotation('a', 'b');
      assert.equal(rr.remove('zz'), false);
      assert.equal(rr.size, 2);
    });

    it('is idempotent: a double remove changes nothing the second time', () => {
      const rr = rotation('a', 'b', 'c');
      rr.next(); // cursor on b
      assert.equal(rr.remove('a'), true);
      assert.equal(rr.remove('a'), false);
      assert.equal(rr.size, 2);
      assert.deepEqual(take(rr, 3), ['b', 'c', 'b']);
    });

    it('removes the last upstream, leaving an empty rotation', () => {
      const rr = rotation('a');
      assert.equal(rr.remove('a'), true);
      assert.equal(rr.size, 0);
      assert.equal(rr.next(), undefined);
    });

    describe('having a cursor in the middle', () => {
      // After two picks (a, b) the next in turn is c.
      const afterTwo = (): RoundRobin<Upstream> => {
        const rr = rotation('a', 'b', 'c', 'd');
        take(rr, 2);
        return rr;
      };

      it('keeps the next upstream when one before the cursor is removed', () => {
        const rr = afterTwo();
        rr.remove('a');
        assert.deepEqual(take(rr, 3), ['c', 'd', 'b']);
      });

      it('moves on to the following upstream when the next one is removed', () => {
        const rr = afterTwo();
        rr.remove('c');
        assert.deepEqual(take(rr, 3), ['d', 'a', 'b']);
      });

      it('keeps the next upstream when one after the cursor is removed', () => {
        const rr = afterTwo();
        rr.remove('d');
        assert.deepEqual(take(rr, 3), ['c', 'a', 'b']);
      });
    });

    it('wraps the cursor to the start when the last upstream in turn is removed', () => {
      const rr = rotation('a', 'b', 'c');
      take(rr, 2); // next in turn: c
      rr.remove('c');
      assert.deepEqual(take(rr, 3), ['a', 'b', 'a']);
    });
  });

  describe('.list', () => {
    it('returns a snapshot that later changes do not affect', () => {
      const rr = rotation('a', 'b');
      const snapshot = rr.list();
      rr.remove('a');
      rr.add(UpstreamFixtures.of('c'));
      assert.deepEqual(snapshot.map((u) => u.id), ['a', 'b']);
    });
  });
});
