import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SystemClock } from '../../../src/adapters/platform/clock/system-clock.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SystemClock (beyond the contract)', () => {
  it('keeps running later callbacks when one throws, and reports the error as uncaught', async () => {
    const clock = new SystemClock();
    const ran: string[] = [];
    const uncaught: unknown[] = [];
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      clock.schedule(1, () => {
        ran.push('a');
        throw new Error('boom');
      });
      clock.schedule(2, () => ran.push('b'));
      await sleep(30);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal((uncaught[0] as Error | undefined)?.message, 'boom');
  });

  it('runs many callbacks scheduled in random order by due time, none early', async () => {
    const clock = new SystemClock();
    const order: number[] = [];
    let early = 0;
    const delays = Array.from({ length: 200 }, (_, i) => (i * 37) % 25);
    for (const [i, d] of delays.entries()) {
      // due is what the clock computes too: now() at scheduling plus the delay.
      const due = clock.now() + d;
      const cancel = clock.schedule(d, () => {
        if (clock.now() < due) early++;
        order.push(due);
      });
      if (i % 10 === 0) cancel();
    }
    await sleep(80);
    assert.equal(early, 0);
    assert.equal(order.length, 180);
    // The test reads now() a moment before the clock does, so allow 0.1 ms between neighbours.
    const outOfOrder = order.filter((due, i) => i > 0 && due < (order[i - 1] as number) - 0.1);
    assert.deepEqual(outOfOrder, [], 'in the order they fell due');
  });
});
