import { setTimeout as sleep } from 'node:timers/promises';

import { SystemClock } from '../../../src/adapters/platform/clock/system-clock.js';
import { clockContract } from '../../support/contracts/clock.contract.js';

/*
 * The Clock contract against the system clock, on real timers. `elapse` waits until the clock itself says the
 * time has passed, then a little more, so that every callback due by then has had its turn; no case asserts
 * that anything is fast.
 */

/** Extra real time after the target, so that timers due at the target have run (Node runs timers in due order). */
const MARGIN_MS = 10;

clockContract(
  'Clock contract: SystemClock',
  () => {
    const clock = new SystemClock();
    return {
      clock,
      elapse: async (ms: number) => {
        const target = clock.now() + ms;
        while (clock.now() < target) await sleep(Math.max(1, Math.ceil(target - clock.now())));
        await sleep(MARGIN_MS);
      },
    };
  },
);
