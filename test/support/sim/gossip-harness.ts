import {
  GossipClusterMembership,
  type GossipClusterMembershipOptions,
} from '../../../src/adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { UdpGossipShell, type UdpGossipShellOptions } from '../../../src/adapters/server/cluster/gossip/udp-gossip-shell.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { InMemoryLogger } from '../fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../fakes/in-memory-metrics.js';
import { InMemoryDatagramNetwork } from './in-memory-datagram-network.js';
import { seededRandom } from './seeded-random.js';

/** A fixed wall clock for unit tests (2023-11-14T22:13:20Z). */
export const WALL_MS = 1_700_000_000_000;

/**
 * Gossip shells and memberships on one {@link InMemoryDatagramNetwork} with one {@link FakeClock}, for unit tests:
 * each gets its own logger and metrics, a seeded random source, loopback addresses and port 0.
 */
export class GossipHarness {
  readonly clock = new FakeClock(1_000);
  readonly net: InMemoryDatagramNetwork;
  #seed: number;
  readonly #closers: Array<() => Promise<void>> = [];

  constructor(seed = 1, latencyMs = 1) {
    this.#seed = seed;
    this.net = new InMemoryDatagramNetwork(this.clock, { latencyMs });
  }

  /** A shell (not started) and what it logs and counts. */
  shell(nodeId: string, options: Partial<UdpGossipShellOptions> = {}): { shell: UdpGossipShell; logger: InMemoryLogger; metrics: InMemoryMetrics } {
    const logger = new InMemoryLogger();
    const metrics = new InMemoryMetrics();
    const shell = new UdpGossipShell({
      nodeId,
      bindAddr: '127.0.0.1:0',
      clock: this.clock,
      logger,
      metrics,
      socketFactory: this.net.factory,
      random: seededRandom(this.#seed++ * 7919),
      wallNow: () => WALL_MS,
      localAddresses: () => new Set(['127.0.0.1']),
      ...options,
    });
    this.#closers.push(() => shell.close());
    return { shell, logger, metrics };
  }

  /** A membership (not started) and what it logs and counts. */
  membership(
    nodeId: string,
    options: Partial<GossipClusterMembershipOptions> = {},
  ): { membership: GossipClusterMembership; logger: InMemoryLogger; metrics: InMemoryMetrics } {
    const logger = new InMemoryLogger();
    const metrics = new InMemoryMetrics();
    const membership = new GossipClusterMembership({
      nodeId,
      bindAddr: '127.0.0.1:0',
      clock: this.clock,
      logger,
      metrics,
      ...options,
      shell: {
        socketFactory: this.net.factory,
        random: seededRandom(this.#seed++ * 7919),
        wallNow: () => WALL_MS,
        localAddresses: () => new Set(['127.0.0.1']),
        ...options.shell,
      },
    });
    this.#closers.push(() => membership.close());
    return { membership, logger, metrics };
  }

  /**
   * Moves the fake clock in `stepMs` steps, letting promises settle between steps, until `done()` holds; returns
   * the fake time it took, or throws after `maxMs` of fake time.
   */
  async until(done: () => boolean, maxMs = 30_000, stepMs = 5): Promise<number> {
    const start = this.clock.now();
    await flush();
    while (!done()) {
      if (this.clock.now() - start >= maxMs) throw new Error(`condition not met within ${maxMs} ms of fake time`);
      this.clock.advance(stepMs);
      await flush();
    }
    return this.clock.now() - start;
  }

  /** Moves the fake clock by `ms` in steps, letting promises settle between steps. */
  async run(ms: number, stepMs = 5): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await flush();
    }
  }

  /** Resolves `promise` while moving the fake clock (for calls that wait on it, such as start and join). */
  async settle<T>(promise: Promise<T>, maxMs = 120_000, stepMs = 5): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    promise.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        failed = true;
        error = e;
      },
    );
    await this.until(() => done, maxMs, stepMs);
    if (failed) throw error;
    return value as T;
  }

  /** Closes every shell and membership made here. */
  async close(): Promise<void> {
    for (const c of this.#closers.splice(0)) await c();
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
