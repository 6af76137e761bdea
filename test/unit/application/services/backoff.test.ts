import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DEFAULT_BACKOFF, nextBackoff, type BackoffPolicy } from '../../../../src/application/services/backoff.js';

const policy: BackoffPolicy = { minMs: 100, maxMs: 1_000 };
const noJitter = (): number => 0;
/** The largest value Math.random can return: 1 + r × 0.1 then rounds to exactly 1.1 in floating point. */
const topJitter = (): number => 1 - 2 ** -53;
const nearTopJitter = (): number => 0.999_999;

/** A small seeded generator (mulberry32), so the jitter test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sequence(p: BackoffPolicy, n: number, random: () => number): number[] {
  const out: number[] = [];
  let previous: number | undefined;
  for (let i = 0; i < n; i++) {
    previous = nextBackoff(previous, p, random);
    out.push(previous);
  }
  return out;
}

describe('nextBackoff', () => {
  describe('having no jitter', () => {
    it('starts at the minimum and doubles up to the maximum, then stays there', () => {
      assert.deepEqual(sequence(policy, 7, noJitter), [100, 200, 400, 800, 1_000, 1_000, 1_000]);
    });

    it("follows Piko's bounds by default: 100 ms doubling to 15 s", () => {
      assert.deepEqual(
        sequence(DEFAULT_BACKOFF, 10, noJitter),
        [100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 15_000, 15_000],
      );
    });

    it('never goes below the minimum, even after a tiny previous wait', () => {
      assert.equal(nextBackoff(10, policy, noJitter), 100);
      assert.equal(nextBackoff(0, policy, noJitter), 100);
    });
  });

  describe('having jitter', () => {
    it('scales the wait by 1 + random × 0.1', () => {
      assert.equal(nextBackoff(undefined, policy, () => 0.5), 105);
      assert.equal(nextBackoff(200, policy, () => 0.5), 420);
    });

    it('keeps every wait within [base, base × 1.1)', () => {
      for (const random of [nearTopJitter, seeded(1), seeded(42)]) {
        let previous: number | undefined;
        for (let i = 0; i < 50; i++) {
          const base = previous === undefined ? policy.minMs : Math.max(policy.minMs, Math.min(previous * 2, policy.maxMs));
          const wait = nextBackoff(previous, policy, random);
          assert.ok(wait >= base, `wait ${wait} below base ${base}`);
          assert.ok(wait < base * 1.1, `wait ${wait} not below ${base} × 1.1`);
          previous = wait;
        }
      }
    });

    it('never exceeds max × 1.1, even at the top of the random range and fed its own jittered output', () => {
      for (const random of [topJitter, nearTopJitter]) {
        const waits = sequence(policy, 20, random);
        assert.ok(waits.slice(4).every((w) => w >= policy.maxMs && w <= policy.maxMs * 1.1), waits.join(', '));
        assert.ok(waits.every((w) => w <= policy.maxMs * 1.1));
      }
    });
  });
});
