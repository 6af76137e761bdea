import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Clock } from '../../../src/application/ports/clock.port.js';
import { caseOptions, type KnownViolations } from './contract-case.js';

/** A clock under test and the way to let its time pass. */
export interface ClockHarness {
  readonly clock: Clock;
  /**
   * Lets at least `ms` of the clock's own time pass (as `clock.now()` measures it) and resolves once every
   * callback due by then has run. A fake advances; a real clock waits, a little longer than `ms`.
   */
  elapse(ms: number): Promise<void> | void;
  /** Releases what the harness holds; called after every case. */
  close?(): Promise<void> | void;
}

/** The IDs of the cases of {@link clockContract}, for {@link KnownViolations}. */
export type ClockCase =
  | 'now-monotonic'
  | 'not-synchronous'
  | 'runs-once'
  | 'not-before-delay'
  | 'due-order'
  | 'cancel-before-due'
  | 'cancel-after-run'
  | 'cancel-only-its-own'
  | 'schedule-from-callback'
  | 'cancel-from-callback';

/** Options of {@link clockContract}. */
export interface ClockContractOptions {
  /** Cases this implementation is known to break; they run as `todo`. */
  readonly knownViolations?: KnownViolations<ClockCase>;
}

/**
 * The contract of the `Clock` port (`src/application/ports/clock.port.ts`): `now()` is monotonic milliseconds;
 * `schedule(delayMs, fn)` runs `fn` once, after `delayMs` (never earlier, as `now()` measures it), callbacks
 * falling due in order of their due time; the returned `Cancel` stops a callback that has not run, and is
 * harmless after it ran or when called twice. Nothing here asserts speed: a real clock may run callbacks late.
 */
export function clockContract(
  name: string,
  make: () => Promise<ClockHarness> | ClockHarness,
  options: ClockContractOptions = {},
): void {
  const known = options.knownViolations;

  async function withHarness(body: (clock: Clock, elapse: (ms: number) => Promise<void>) => Promise<void>): Promise<void> {
    const harness = await make();
    try {
      await body(harness.clock, async (ms) => {
        await harness.elapse(ms);
      });
    } finally {
      await harness.close?.();
    }
  }

  describe(name, () => {
    describe('now', () => {
      it('is finite and never goes back, across calls and as time passes', caseOptions('now-monotonic', known), () =>
        withHarness(async (clock, elapse) => {
          let last = clock.now();
          assert.ok(Number.isFinite(last));
          for (let i = 0; i < 1000; i += 1) {
            const t = clock.now();
            assert.ok(t >= last, `now() went back from ${last} to ${t}`);
            last = t;
          }
          const start = clock.now();
          await elapse(5);
          assert.ok(clock.now() >= start + 5, 'at least the elapsed time passed');
        }));
    });

    describe('schedule', () => {
      it('never runs the callback inside schedule(), even with a 0 delay', caseOptions('not-synchronous', known), () =>
        withHarness(async (clock, elapse) => {
          let ran = 0;
          clock.schedule(0, () => (ran += 1));
          assert.equal(ran, 0);
          await elapse(1);
          assert.equal(ran, 1, 'it runs once time moves');
        }));

      it('runs the callback exactly once', caseOptions('runs-once', known), () =>
        withHarness(async (clock, elapse) => {
          let ran = 0;
          clock.schedule(2, () => (ran += 1));
          await elapse(5);
          assert.equal(ran, 1);
          await elapse(20);
          assert.equal(ran, 1, 'not again');
        }));

      it('never runs the callback before its delay has passed on now()', caseOptions('not-before-delay', known), () =>
        withHarness(async (clock, elapse) => {
          // Many rounds, each starting at another moment within a millisecond, with whole and fractional delays:
          // a clock that rounds its start down fires early in some of them.
          const delays = [0, 1, 1.5, 2, 3];
          const early: string[] = [];
          for (let round = 0; round < 25; round += 1) {
            const delay = delays[round % delays.length] as number;
            const start = clock.now();
            let ranAt: number | undefined;
            clock.schedule(delay, () => (ranAt = clock.now()));
            await elapse(delay + 2);
            assert.notEqual(ranAt, undefined, `round ${round}: the callback ran`);
            const waited = (ranAt as number) - start;
            if (waited < delay) early.push(`delay ${delay} ms ran after ${waited.toFixed(3)} ms`);
          }
          assert.deepEqual(early, [], 'callbacks that ran before their delay');
        }));

      it('runs callbacks in the order they fall due, whatever the order they were scheduled in', caseOptions('due-order', known), () =>
        withHarness(async (clock, elapse) => {
          const order: string[] = [];
          clock.schedule(30, () => order.push('30'));
          clock.schedule(5, () => order.push('5'));
          clock.schedule(15, () => order.push('15'));
          await elapse(40);
          assert.deepEqual(order, ['5', '15', '30']);
        }));

      it('lets a callback schedule another, which runs later', caseOptions('schedule-from-callback', known), () =>
        withHarness(async (clock, elapse) => {
          const ran: string[] = [];
          clock.schedule(2, () => {
            ran.push('outer');
            clock.schedule(10, () => ran.push('inner'));
          });
          clock.schedule(4, () => ran.push('sibling'));
          await elapse(30);
          assert.deepEqual(ran, ['outer', 'sibling', 'inner']);
        }));
    });

    describe('cancel', () => {
      it('stops a callback that has not run yet', caseOptions('cancel-before-due', known), () =>
        withHarness(async (clock, elapse) => {
          const ran: string[] = [];
          const cancel = clock.schedule(5, () => ran.push('cancelled'));
          clock.schedule(10, () => ran.push('later'));
          cancel();
          await elapse(20);
          assert.deepEqual(ran, ['later'], 'a later callback ran, the cancelled earlier one did not');
        }));

      it('is harmless after the callback ran, and when called twice', caseOptions('cancel-after-run', known), () =>
        withHarness(async (clock, elapse) => {
          let ran = 0;
          const cancel = clock.schedule(1, () => (ran += 1));
          await elapse(5);
          assert.equal(ran, 1);
          cancel();
          cancel();
          let other = 0;
          clock.schedule(1, () => (other += 1));
          cancel();
          await elapse(5);
          assert.equal(ran, 1);
          assert.equal(other, 1, 'a stale cancel does not touch a newer callback');
        }));

      it('cancels only its own callback, even among callbacks with the same delay', caseOptions('cancel-only-its-own', known), () =>
        withHarness(async (clock, elapse) => {
          const ran: string[] = [];
          clock.schedule(5, () => ran.push('a'));
          const cancelB = clock.schedule(5, () => ran.push('b'));
          clock.schedule(5, () => ran.push('c'));
          cancelB();
          await elapse(15);
          assert.deepEqual([...ran].sort(), ['a', 'c']);
        }));

      it('works from inside another callback for a callback already due', caseOptions('cancel-from-callback', known), () =>
        withHarness(async (clock, elapse) => {
          const ran: string[] = [];
          let cancelSecond: () => void = () => undefined;
          clock.schedule(5, () => {
            ran.push('first');
            cancelSecond();
          });
          cancelSecond = clock.schedule(6, () => ran.push('second'));
          clock.schedule(8, () => ran.push('third'));
          await elapse(20);
          assert.deepEqual(ran, ['first', 'third']);
        }));
    });
  });
}
