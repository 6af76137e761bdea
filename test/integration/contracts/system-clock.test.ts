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
      for (let waited = 0; ran.length < 2 && waited < 10_000; waited += 10) await sleep(10);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal((uncaught[0] as Error | undefined)?.message, 'boom');
  });

  it('runs many callbacks scheduled in random order, none early and none lost', async () => {
    const clock = new SystemClock();
    const order: number[] = [];
    let early = 0;
    const delays = Array.from({ length: 200 }, (_, i) => (i * 37) % 25);
    for (const [i, d] of delays.entries()) {
      // The clock's own due time is a moment later than this one, so a callback before `due` would be early.
      const due = clock.now() + d;
      const cancel = clock.schedule(d, () => {
        if (clock.now() < due) early++;
        order.push(due);
      });
      if (i % 10 === 0) cancel();
    }
    // Wait for all 180 (a deadlock guard of 10 s, not a speed bound), then a little more for any extra call.
    for (let waited = 0; order.length < 180 && waited < 10_000; waited += 20) await sleep(20);
    await sleep(50);
    assert.equal(early, 0);
    assert.equal(order.length, 180, 'every callback not cancelled ran exactly once');
    // Order by due time is the contract suite's case; here, under many timers, none runs early and none is lost.
  });
});
