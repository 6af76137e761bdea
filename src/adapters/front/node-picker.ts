/** How a front spreads requests over the nodes: each node in turn, or a node drawn at random for each. */
export type BalanceStrategy = 'round-robin' | 'random';

/** Every strategy, in the order help and error messages list them. */
export const BALANCE_STRATEGIES: readonly BalanceStrategy[] = ['round-robin', 'random'];

/** True when `text` names a {@link BalanceStrategy}. */
export const isBalanceStrategy = (text: unknown): text is BalanceStrategy => BALANCE_STRATEGIES.includes(text as BalanceStrategy);

/**
 * Chooses the node that serves one request or one upgraded connection. The candidates are read afresh for each
 * choice, so a node added or removed while the front runs is taken into account at the next request.
 */
export interface NodePicker {
  /** One of `candidates`, or undefined when there is none. */
  pick<T>(candidates: readonly T[]): T | undefined;
}

/**
 * Each candidate in turn. The cursor is taken modulo the current count, so the rotation stays valid when the
 * list grows or shrinks between two picks (a node added or stopped on SIGHUP). Mutated only on the event loop.
 */
export class RoundRobinPicker implements NodePicker {
  #next = 0;

  pick<T>(candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    const index = this.#next % candidates.length;
    this.#next = index + 1;
    return candidates[index];
  }
}

/** A candidate drawn uniformly with `random` (a `[0, 1)` source such as `Math.random`; tests pass a fixed one). */
export class RandomPicker implements NodePicker {
  constructor(private readonly random: () => number = Math.random) {}

  pick<T>(candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    // A source that returns 1 (or more) by mistake still yields the last candidate, never undefined.
    const index = Math.min(candidates.length - 1, Math.max(0, Math.floor(this.random() * candidates.length)));
    return candidates[index];
  }
}

/** The picker of a strategy; each front gets its own, so the fronts rotate independently. */
export function pickerFor(strategy: BalanceStrategy, random: () => number = Math.random): NodePicker {
  return strategy === 'random' ? new RandomPicker(random) : new RoundRobinPicker();
}
