import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Clock } from '../ports/clock.port.js';
import type { ClusterMembership } from '../ports/cluster-membership.port.js';
import type { UpstreamDirectory } from './upstream-directory.js';

/** Requests waiting for an upstream at once, beyond which a request fails at once (a bounded queue). */
export const MAX_WAITERS = 10_000;

/**
 * Holds a request for an endpoint that no node can serve yet until one can (an agent reconnecting after its
 * node drained), for at most `proxy.upstream_wait`. Wakes on a local registration of the endpoint or on any
 * change of the cluster; the caller routes again. Mutated only on the event loop.
 */
export class RouteWaiter {
  readonly #waiting = new Map<EndpointId, Set<() => void>>();
  #count = 0;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly directory: UpstreamDirectory,
    private readonly membership: ClusterMembership,
    private readonly clock: Clock,
    private readonly waitMs: number,
  ) {}

  /** True when waiting is configured (`proxy.upstream_wait` above 0). */
  get enabled(): boolean {
    return this.waitMs > 0;
  }

  /** Requests currently waiting. */
  get waiting(): number {
    return this.#count;
  }

  /** The end of a wait starting now (`proxy.upstream_wait` from now), for a request that may wait several times. */
  deadline(): number {
    return this.clock.now() + this.waitMs;
  }

  /**
   * Resolves true when something changed that may give `endpointId` a route, false when the wait is over (at
   * `deadline`, by default `proxy.upstream_wait` from now) or when too many requests wait already. A request that
   * waits again after a change passes the deadline of its first wait, so its waits add up to
   * `proxy.upstream_wait` at most however often the cluster changes. Never rejects.
   */
  wait(endpointId: EndpointId, deadline = this.deadline()): Promise<boolean> {
    const remainingMs = deadline - this.clock.now();
    if (!this.enabled || remainingMs <= 0 || this.#count >= MAX_WAITERS) return Promise.resolve(false);
    this.#subscribe();
    return new Promise<boolean>((resolve) => {
      let set = this.#waiting.get(endpointId);
      if (set === undefined) this.#waiting.set(endpointId, (set = new Set()));
      const waiters = set;
      const done = (changed: boolean): void => {
        if (!waiters.delete(wake)) return;
        this.#count--;
        if (waiters.size === 0) this.#waiting.delete(endpointId);
        cancel();
        resolve(changed);
      };
      const wake = (): void => done(true);
      const cancel = this.clock.schedule(remainingMs, () => done(false));
      waiters.add(wake);
      this.#count++;
    });
  }

  #subscribe(): void {
    if (this.#unsubscribe !== undefined) return;
    const offLocal = this.directory.onRegistered((endpointId) => this.#wake(this.#waiting.get(endpointId)));
    // A cluster change may bring the endpoint to another node: every waiter routes again.
    const offCluster = this.membership.onChange(() => {
      for (const set of [...this.#waiting.values()]) this.#wake(set);
    });
    this.#unsubscribe = () => {
      offLocal();
      offCluster();
    };
  }

  #wake(set: Set<() => void> | undefined): void {
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }
}
