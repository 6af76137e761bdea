import type { Cancel, Clock } from '../ports/clock.port.js';
import type { ClusterMembership } from '../ports/cluster-membership.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Counter, Metrics } from '../ports/metrics.port.js';
import type { UpstreamConnection, UpstreamTransport } from '../ports/upstream-transport.port.js';
import type { RebalanceUpstreams } from '../use-cases/rebalance-upstreams.use-case.js';
import type { UpstreamDirectory } from './upstream-directory.js';

/** Rebalancing rounds run this often (Piko: once a second; `shed_rate` is a per-second fraction). */
export const REBALANCE_INTERVAL_MS = 1_000;

/**
 * Rounds during which sessions shed are still counted as in transit (see {@link RebalanceUpstreams}): time for
 * the agents to reconnect and for the new counts to gossip (100 ms rounds by default).
 */
export const REBALANCE_SETTLE_ROUNDS = 3;

/** Name of the counter of sessions shed by rebalancing (piko-ts only; Piko counts none). */
export const REBALANCED_SESSIONS_METRIC = 'piko_upstreams_rebalanced_sessions_total';

/**
 * Chooses which of `connections` to shed, `count` at most, so that an endpoint keeps a local listener for as
 * long as possible: each pick comes from the endpoint with the most listeners still unpicked (ties: the
 * endpoint met first), and within an endpoint the connection listed first (the oldest). Piko closes arbitrary
 * sessions, which can take an endpoint's only local upstream while another endpoint has several. Pure;
 * connections not accepting are never picked.
 */
export function pickSessionsToShed<C extends UpstreamConnection>(connections: readonly C[], count: number): C[] {
  const byEndpoint = new Map<string, C[]>();
  for (const c of connections) {
    if (!c.accepting) continue;
    let list = byEndpoint.get(c.endpointId);
    if (list === undefined) byEndpoint.set(c.endpointId, (list = []));
    list.push(c);
  }
  const picked: C[] = [];
  while (picked.length < count) {
    let best: C[] | undefined;
    for (const list of byEndpoint.values()) if (list.length > 0 && (best === undefined || list.length > best.length)) best = list;
    const next = best?.shift();
    if (next === undefined) break;
    picked.push(next);
  }
  return picked;
}

/** Collaborators of {@link RebalanceLoop}. */
export interface RebalanceLoopDeps {
  readonly rebalance: RebalanceUpstreams;
  readonly membership: ClusterMembership;
  readonly directory: UpstreamDirectory;
  readonly transport: Pick<UpstreamTransport, 'shed'>;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Time between rounds (default {@link REBALANCE_INTERVAL_MS}). */
  readonly intervalMs?: number;
}

/**
 * Runs a rebalancing round every second while started: reads the cluster snapshot and the number of upstream
 * connections registered here, asks {@link RebalanceUpstreams} how many to shed (counting the sessions it shed in
 * the last {@link REBALANCE_SETTLE_ROUNDS} rounds as in transit), picks them
 * ({@link pickSessionsToShed}) and sheds each **gracefully** through the transport (go-away; the agent reconnects
 * through the load balancer while its in-flight requests finish), where Piko closes sessions outright and cuts
 * their requests. Each round that sheds logs one info line and counts the sessions in
 * `piko_upstreams_rebalanced_sessions_total`. A round never throws into the timer: a failure is logged and the
 * next round still runs. State is mutated only on the event loop.
 */
export class RebalanceLoop {
  readonly #deps: RebalanceLoopDeps;
  readonly #shedCounter: Counter;
  #cancel: Cancel | undefined;
  #running = false;
  /** Sessions shed in each of the last {@link REBALANCE_SETTLE_ROUNDS} rounds, oldest first. */
  readonly #recent: number[] = [];

  constructor(deps: RebalanceLoopDeps) {
    this.#deps = deps;
    this.#shedCounter = deps.metrics.counter({
      name: REBALANCED_SESSIONS_METRIC,
      help: 'Upstream connections this node asked to reconnect elsewhere (go-away) to even out the cluster.',
    });
  }

  /** Whether rounds are scheduled. */
  get running(): boolean {
    return this.#running;
  }

  /** Schedules the first round one interval from now. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** Cancels the next round; no round runs after it returns. Idempotent. */
  stop(): void {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** Runs one round now and returns how many connections it shed (rounds are counted for `inTransit`). */
  runOnce(): number {
    const { rebalance, membership, directory, transport, log } = this.#deps;
    const inTransit = this.#recent.reduce((a, b) => a + b, 0);
    const decision = rebalance.execute(membership.snapshot(), directory.connectionCount(), inTransit);
    let shed = 0;
    if (decision.shed > 0) {
      for (const connection of pickSessionsToShed(directory.table.localUpstreams(), decision.shed)) {
        if (transport.shed(connection)) shed += 1;
      }
    }
    this.#recent.push(shed);
    if (this.#recent.length > REBALANCE_SETTLE_ROUNDS) this.#recent.shift();
    if (shed === 0) {
      const reason = decision.shed === 0 ? decision.outcome : 'none-sheddable';
      log.debug('rebalance: skip', { reason, 'local-conns': decision.local, 'avg-conns': decision.average, 'in-transit': inTransit });
      return 0;
    }
    this.#shedCounter.inc(undefined, shed);
    log.info('rebalance: shedding upstream connections (go-away)', {
      shedding: shed,
      balance: decision.balance.toFixed(2),
      'local-conns': decision.local,
      'avg-conns': decision.average,
      'in-transit': inTransit,
    });
    return shed;
  }

  #schedule(): void {
    this.#cancel = this.#deps.clock.schedule(this.#deps.intervalMs ?? REBALANCE_INTERVAL_MS, () => {
      this.#cancel = undefined;
      if (!this.#running) return;
      try {
        this.runOnce();
      } catch (error) {
        this.#deps.log.error('rebalance round failed', { error });
      }
      if (this.#running) this.#schedule();
    });
  }
}
