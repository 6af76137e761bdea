import { clockContract } from '../../support/contracts/clock.contract.js';
import { FakeClock } from '../../support/fakes/fake-clock.js';

/* The Clock contract against the fake clock; the system clock runs it in test/integration/contracts. */

clockContract('Clock contract: FakeClock', () => {
  const clock = new FakeClock(1_000);
  return { clock, elapse: (ms) => clock.advance(ms) };
});
