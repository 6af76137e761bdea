/** Bounds of a reconnect backoff. */
export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Piko's reconnect bounds: 100 ms doubling to 15 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 100, maxMs: 15_000 };

/**
 * The wait before the next attempt: `minMs` first, then double the previous wait, capped at `maxMs`, then
 * spread by a random factor in [1, 1.1) so that many agents reconnecting after a restart do not arrive
 * together. `random` returns a number in [0, 1).
 */
export function nextBackoff(previousMs: number | undefined, policy: BackoffPolicy, random: () => number): number {
  const base = previousMs === undefined ? policy.minMs : Math.min(previousMs * 2, policy.maxMs);
  return Math.max(policy.minMs, base) * (1 + random() * 0.1);
}
