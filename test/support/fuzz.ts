import fc, { type Parameters } from 'fast-check';
import { ENDPOINT_ID_MAX_LENGTH } from '../../src/domain/endpoint/endpoint-id.js';

/**
 * Inputs generated per decoder in a fuzz property: 10^5 by default (a bounded run of a few seconds, part of
 * the unit suite); `PIKO_FUZZ_RUNS` raises it for a longer run.
 */
export const FUZZ_RUNS = Number(process.env.PIKO_FUZZ_RUNS ?? '') || 100_000;

/** fast-check parameters of a fuzz property: {@link FUZZ_RUNS} runs, and a fixed seed when `PIKO_FUZZ_SEED` is set. */
export function fuzzParameters<T>(runs = FUZZ_RUNS): Parameters<T> {
  const seed = process.env.PIKO_FUZZ_SEED;
  return { numRuns: runs, ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}) };
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A valid endpoint ID: 1 to 128 letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit. */
export const validEndpointId = fc
  .tuple(
    fc.constantFrom(...ALNUM),
    fc.string({ unit: fc.constantFrom(...ALNUM, '.', '_', '-'), maxLength: ENDPOINT_ID_MAX_LENGTH - 2 }),
    fc.option(fc.constantFrom(...ALNUM)),
  )
  .map(([first, middle, last]) => (last === null ? first : first + middle + last));
