import { setTimeout as sleep } from 'node:timers/promises';
import { SystemClock } from '../../../src/adapters/platform/clock/system-clock.js';
import {
  GossipClusterMembership,
  type GossipClusterMembershipOptions,
} from '../../../src/adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { asNodeId } from '../../../src/domain/node/node.js';
import { InMemoryLogger } from '../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../support/fakes/in-memory-metrics.js';

/** One gossip membership on a real UDP socket of 127.0.0.1, with what it logged and counted. */
export interface UdpMember {
  readonly membership: GossipClusterMembership;
  readonly logger: InMemoryLogger;
  readonly metrics: InMemoryMetrics;
  /** `127.0.0.1:<bound port>`, once started. */
  readonly seed: string;
}

/**
 * Gossip memberships in this process on real `node:dgram` sockets (127.0.0.1, port 0) and the system clock. Every
 * member made here is closed by {@link close}, so no socket or timer outlives a test.
 */
export class UdpCluster {
  readonly clock = new SystemClock();
  readonly #members: UdpMember[] = [];

  /** Makes a membership (not started). */
  make(nodeId: string, options: Partial<GossipClusterMembershipOptions> = {}): UdpMember {
    const logger = new InMemoryLogger();
    const metrics = new InMemoryMetrics();
    const membership = new GossipClusterMembership({
      nodeId,
      bindAddr: '127.0.0.1:0',
      clock: this.clock,
      logger,
      metrics,
      joinTimeoutMs: 10_000,
      ...options,
      shell: { joinBackoff: { minMs: 200, maxMs: 1_000 }, ...options.shell },
    });
    const member: UdpMember = {
      membership,
      logger,
      metrics,
      get seed() {
        return `127.0.0.1:${membership.boundAddress?.port ?? 0}`;
      },
    };
    this.#members.push(member);
    return member;
  }

  /** Makes and starts a membership that advertises `<id>.test` proxy and admin addresses. */
  async start(nodeId: string, options: Partial<GossipClusterMembershipOptions> = {}): Promise<UdpMember> {
    const member = this.make(nodeId, options);
    await member.membership.start({ id: asNodeId(nodeId), proxyAddr: `${nodeId}.test:8000`, adminAddr: `${nodeId}.test:8002` });
    return member;
  }

  /** Closes every member (without leaving). */
  async close(): Promise<void> {
    await Promise.all(this.#members.splice(0).map((m) => m.membership.close()));
  }
}

/**
 * Polls `done` every few milliseconds until it holds and returns the real time it took; throws after `deadlineMs`
 * (a deadlock guard, not a speed requirement).
 */
export async function waitFor(what: string, done: () => boolean, deadlineMs = 10_000): Promise<number> {
  const start = performance.now();
  while (!done()) {
    if (performance.now() - start > deadlineMs) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await sleep(2);
  }
  return performance.now() - start;
}

/** The value at quantile `q` (0..1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
