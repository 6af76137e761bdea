import type { Node } from '../../domain/node/node.js';

/** The `upstream.rebalance.*` settings, as the config loader types them. */
export interface RebalanceSettings {
  /** Shed when the local count exceeds the cluster average by this fraction; 0 turns rebalancing off. */
  readonly threshold: number;
  /** Most sessions shed per round, as a fraction of the cluster average (rounded up). */
  readonly shedRate: number;
  /** No node holding fewer sessions than this sheds any. */
  readonly minConns: number;
}

/** Why a round sheds nothing, or `shed` when it sheds at least one session. */
export type RebalanceOutcome =
  | 'shed'
  | 'disabled'
  | 'single-node'
  | 'no-sessions'
  | 'below-min-conns'
  | 'no-average'
  | 'below-threshold'
  | 'no-budget';

/** What one round decided, with the figures it decided on (for the log line). */
export interface RebalanceDecision {
  readonly outcome: RebalanceOutcome;
  /** Sessions to shed now: a whole number, 0 unless `outcome` is `shed`. */
  readonly shed: number;
  /** The local session count the round was given. */
  readonly local: number;
  /** Whole-number average of the listener counts of the active nodes (0 when not computed). */
  readonly average: number;
  /** `(local − average) / average` (0 when not computed). */
  readonly balance: number;
}

/** What a round reads from the cluster: every known node with its status and per-endpoint listener counts. */
export interface RebalanceCluster {
  readonly nodes: readonly Pick<Node, 'status' | 'endpoints'>[];
}

// `avg × shed_rate` is computed in floating point: 100 × 0.07 is 7.000000000000001, whose ceiling would be 8. Products within this of a whole number are taken as that number before rounding up.
const FLOAT_SLACK = 1e-9;

/**
 * Decides how many upstream sessions this node sheds in one rebalancing round (Piko's `Rebalance`, run once a
 * second; behaviour reference §6.3). Pure: no I/O, no clock; the caller schedules rounds and sheds sessions.
 *
 * Piko's rules, in order:
 * 1. nothing when the threshold is 0 (rebalancing is off) or the cluster lists at most one node (any status);
 * 2. nothing when the node holds no session or fewer than `min_conns`;
 * 3. `avg` = floor(sum of listener counts over the **active** nodes, this one included ÷ number of them);
 * 4. `balance` = (local − avg) ÷ avg; nothing when below the threshold;
 * 5. shed `min(local × balance, ceil(avg × shed_rate))`, truncated to a whole number.
 *
 * Where piko-ts differs, on purpose:
 * - **An average of 0 sheds nothing.** Piko divides by the average without checking it: with every active
 *   node's count at 0 (or no active node in the view) its balance is infinite or undefined. With no session
 *   counted anywhere there is nothing to even out, so the round is skipped (`no-average`).
 * - **Never below the average.** Piko's cap `local × balance` exceeds `local − avg` whenever `local > avg`, so
 *   with a generous shed rate a node can shed past the average (local 8, avg 5, shed rate 1: Piko sheds 4 and
 *   leaves 4, under the average, so another node then sheds back). Here the count is also capped at
 *   `local − avg`: a node sheds only its surplus.
 * - **Sessions in transit count.** A session shed a moment ago is counted by no node until its agent has
 *   reconnected and the new count has gossiped; Piko's next round then sees a lower average and sheds again. The
 *   caller passes the sessions it shed in the last few rounds (`inTransit`) and they are added to the cluster
 *   total, so a round never sheds on a view that has not caught up (if they are counted already, the average is
 *   only higher: the round sheds less, never more).
 * - `ceil(avg × shed_rate)` forgives floating-point noise (see `FLOAT_SLACK`), so `100 × 0.07` allows 7, not 8.
 */
export class RebalanceUpstreams {
  constructor(private readonly settings: RebalanceSettings) {}

  /**
   * The decision for one round, given the cluster as last known, the number of sessions open here and the
   * number this node shed recently that the view may not count yet (0 by default).
   */
  execute(cluster: RebalanceCluster, localSessions: number, inTransit = 0): RebalanceDecision {
    const { threshold, shedRate, minConns } = this.settings;
    const local = Math.max(0, Math.trunc(localSessions));
    const skip = (outcome: RebalanceOutcome, average = 0, balance = 0): RebalanceDecision => ({ outcome, shed: 0, local, average, balance });
    if (!(threshold > 0)) return skip('disabled');
    if (cluster.nodes.length <= 1) return skip('single-node');
    if (local === 0) return skip('no-sessions');
    if (local < minConns) return skip('below-min-conns');
    let active = 0;
    let total = 0;
    for (const node of cluster.nodes) {
      if (node.status !== 'active') continue;
      active += 1;
      for (const listeners of node.endpoints.values()) total += Math.max(0, listeners);
    }
    const average = active === 0 ? 0 : Math.floor((total + Math.max(0, Math.trunc(inTransit))) / active);
    if (average === 0) return skip('no-average');
    const balance = (local - average) / average;
    if (balance < threshold) return skip('below-threshold', average, balance);
    const budget = Math.ceil(average * shedRate - FLOAT_SLACK);
    const shed = Math.max(0, Math.trunc(Math.min(local * balance, budget, local - average)));
    if (shed === 0) return skip('no-budget', average, balance);
    return { outcome: 'shed', shed, local, average, balance };
  }
}
