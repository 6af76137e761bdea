import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCE_STRATEGIES, isBalanceStrategy, pickerFor, RandomPicker, RoundRobinPicker } from '../../../../src/adapters/front/node-picker.js';

/** A `[0, 1)` source that returns `values` in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('RoundRobinPicker', () => {
  describe('.pick', () => {
    it('returns each candidate in turn, then starts again', () => {
      const picker = new RoundRobinPicker();
      const picks = Array.from({ length: 7 }, () => picker.pick(['a', 'b', 'c']));
      assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    });

    it('returns undefined when there is no candidate, and goes on once there are', () => {
      const picker = new RoundRobinPicker();
      assert.equal(picker.pick([]), undefined);
      assert.equal(picker.pick(['a']), 'a');
      assert.equal(picker.pick(['a']), 'a');
    });

    describe('having the candidates change between picks', () => {
      it('stays within the list when it shrinks (a node stopped)', () => {
        const picker = new RoundRobinPicker();
        picker.pick(['a', 'b', 'c']);
        picker.pick(['a', 'b', 'c']); // the cursor is now on the third
        assert.equal(picker.pick(['b', 'c']), 'b');
        assert.equal(picker.pick(['b', 'c']), 'c');
        assert.equal(picker.pick(['b', 'c']), 'b');
      });

      it('reaches a candidate added at the end (a node started)', () => {
        const picker = new RoundRobinPicker();
        const seen = new Set<string>();
        picker.pick(['a', 'b']);
        for (let i = 0; i < 3; i++) seen.add(picker.pick(['a', 'b', 'c']) as string);
        assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
      });
    });
  });
});

describe('RandomPicker', () => {
  describe('.pick', () => {
    it('maps the random source onto the candidates uniformly', () => {
      const picker = new RandomPicker(sequence(0, 0.34, 0.67, 0.999));
      assert.deepEqual(
        Array.from({ length: 4 }, () => picker.pick(['a', 'b', 'c'])),
        ['a', 'b', 'c', 'c'],
      );
    });

    it('never returns undefined for a source out of [0, 1)', () => {
      const picker = new RandomPicker(sequence(1, 5, -0.5));
      assert.deepEqual(
        Array.from({ length: 3 }, () => picker.pick(['a', 'b'])),
        ['b', 'b', 'a'],
      );
    });

    it('returns undefined when there is no candidate', () => {
      assert.equal(new RandomPicker(() => 0.5).pick([]), undefined);
    });
  });
});

describe('pickerFor', () => {
  it('gives a rotating picker for round-robin and a random one for random', () => {
    assert.ok(pickerFor('round-robin') instanceof RoundRobinPicker);
    const random = pickerFor('random', () => 0.99);
    assert.ok(random instanceof RandomPicker);
    assert.equal(random.pick(['a', 'b']), 'b');
  });

  it('gives each caller its own rotation', () => {
    const one = pickerFor('round-robin');
    const two = pickerFor('round-robin');
    assert.equal(one.pick(['a', 'b']), 'a');
    assert.equal(two.pick(['a', 'b']), 'a');
  });
});

describe('isBalanceStrategy', () => {
  it('accepts every listed strategy and nothing else', () => {
    for (const s of BALANCE_STRATEGIES) assert.ok(isBalanceStrategy(s), s);
    for (const bad of ['', 'Round-Robin', 'least-conn', 1, undefined]) assert.equal(isBalanceStrategy(bad), false, String(bad));
  });
});
