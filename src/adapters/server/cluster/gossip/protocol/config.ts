import { DEFAULT_MAX_PACKET_SIZE, MIN_PACKET_SIZE } from './messages.js';

/**
 * Timings and limits of the gossip machine. Every duration is in milliseconds of the injected clock. The
 * defaults come from {@link gossipConfigFromInterval} with Piko's 100 ms `cluster.gossip.interval`;
 * `docs/gossip-protocol.md` shows why they detect a dead node within 3 s at any cluster size.
 */
export interface GossipConfig {
  /** Largest datagram sent or accepted (Piko's `max_packet_size`). */
  readonly maxPacketSize: number;
  /** How often queued updates are pushed to `gossipFanout` random members, and state pulls are sent. */
  readonly gossipIntervalMs: number;
  /** Members that receive each gossip round. */
  readonly gossipFanout: number;
  /** One probe round: the ring successor and one round-robin member are probed every period. */
  readonly probeIntervalMs: number;
  /** Wait for a direct ack before asking helpers; the rest of the period is left for the indirect probe. */
  readonly probeTimeoutMs: number;
  /** Helpers asked to probe indirectly (SWIM's k). */
  readonly indirectChecks: number;
  /** A queued update is sent `retransmitMult × ceil(log10(n + 1))` times (n: live members). */
  readonly retransmitMult: number;
  /** Lifeguard: the shortest suspicion, reached once `suspicionConfirmations` others confirm it. */
  readonly suspicionMinMs: number;
  /** Lifeguard: the suspicion timeout with no confirmation. */
  readonly suspicionMaxMs: number;
  /** Lifeguard's K: independent confirmations that bring the timeout down to the minimum. */
  readonly suspicionConfirmations: number;
  /** Lifeguard's local health multiplier cap: probe timings stretch by (1 + health) when we seem slow. */
  readonly maxLocalHealth: number;
  /** How often one unreachable (dead) member is probed, so it can come back. */
  readonly deadProbeIntervalMs: number;
  /** Full anti-entropy (digest exchange) with one random member. */
  readonly pushPullIntervalMs: number;
  /** Every this many push-pull rounds, the exchange goes to a random seed instead (heals long partitions). */
  readonly seedSyncEvery: number;
  /** Dead and left members stay listed (and dead ones probed) this long before removal (Piko: 1 min). */
  readonly memberExpiryMs: number;
  /** A removed member's tombstone outlives every copy of its gossip; it blocks resurrection meanwhile. */
  readonly tombstoneTtlMs: number;
  /** Most tombstones kept; the oldest go first. */
  readonly maxTombstones: number;
  /** Most members held; further nodes are ignored, so claims cannot grow the table without bound. */
  readonly maxMembers: number;
  /** The local state is compacted (deletions dropped, entries re-stamped) past this many deletions. */
  readonly maxStateTombstones: number;
  /** A state pull to one member is repeated at most this often while the state is behind. */
  readonly pullRetryMs: number;
  /** Members pulled from per gossip round. */
  readonly maxPullsPerRound: number;
  /** Datagrams of state pushed back in answer to one digest. */
  readonly maxPushPerSync: number;
  /** Digests answered (with our digest and pushed state) per second, in bursts of as many; others only read. */
  readonly syncAnswersPerSecond: number;
  /** Pending indirect probes this node runs for others; more ping-reqs are ignored. */
  readonly maxRelays: number;
  /** After `leave()`, the announcement keeps spreading at most this long before the machine reports it done. */
  readonly leaveTimeoutMs: number;
}

/**
 * Every timing as a multiple of one gossip interval (Piko's `cluster.gossip.interval`, 100 ms by default), so
 * the shell can map the configured interval onto the whole schedule and keep its proportions.
 */
export function gossipConfigFromInterval(intervalMs: number, maxPacketSize = DEFAULT_MAX_PACKET_SIZE): GossipConfig {
  const i = intervalMs;
  return {
    maxPacketSize,
    gossipIntervalMs: i,
    gossipFanout: 3,
    probeIntervalMs: 2 * i,
    probeTimeoutMs: i,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMinMs: 5 * i,
    suspicionMaxMs: 20 * i,
    suspicionConfirmations: 3,
    maxLocalHealth: 8,
    deadProbeIntervalMs: 10 * i,
    pushPullIntervalMs: 50 * i,
    seedSyncEvery: 6,
    memberExpiryMs: 60_000,
    tombstoneTtlMs: 3_600_000,
    maxTombstones: 10_000,
    maxMembers: 4096,
    maxStateTombstones: 100,
    pullRetryMs: 2 * i,
    maxPullsPerRound: 8,
    maxPushPerSync: 4,
    syncAnswersPerSecond: 100,
    maxRelays: 1024,
    leaveTimeoutMs: 10 * i,
  };
}

/** The defaults: {@link gossipConfigFromInterval} at 100 ms and 1,400-byte datagrams. */
export const DEFAULT_GOSSIP_CONFIG: GossipConfig = Object.freeze(gossipConfigFromInterval(100));

/**
 * The defaults overridden by `overrides`, checked. Throws a `RangeError` naming the field when a value is out of
 * range (a configuration bug, found at start-up).
 */
export function resolveGossipConfig(overrides: Partial<GossipConfig> = {}): GossipConfig {
  const c: GossipConfig = { ...DEFAULT_GOSSIP_CONFIG, ...overrides };
  const positive: Array<keyof GossipConfig> = [
    'gossipIntervalMs',
    'probeIntervalMs',
    'probeTimeoutMs',
    'suspicionMinMs',
    'suspicionMaxMs',
    'deadProbeIntervalMs',
    'pushPullIntervalMs',
    'memberExpiryMs',
    'tombstoneTtlMs',
    'pullRetryMs',
    'leaveTimeoutMs',
    'retransmitMult',
    'gossipFanout',
    'seedSyncEvery',
    'maxTombstones',
    'maxMembers',
    'maxStateTombstones',
    'maxPullsPerRound',
    'maxPushPerSync',
    'syncAnswersPerSecond',
    'maxRelays',
  ];
  for (const key of positive) {
    const v = c[key];
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`gossip config: ${key} must be > 0 (got ${v})`);
  }
  for (const key of ['indirectChecks', 'suspicionConfirmations', 'maxLocalHealth'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 0) {
      throw new RangeError(`gossip config: ${key} must be an integer ≥ 0 (got ${c[key]})`);
    }
  }
  if (!Number.isInteger(c.maxPacketSize) || c.maxPacketSize < MIN_PACKET_SIZE || c.maxPacketSize > 65_507) {
    throw new RangeError(`gossip config: maxPacketSize must be ${MIN_PACKET_SIZE}..65507 (got ${c.maxPacketSize})`);
  }
  if (c.probeTimeoutMs >= c.probeIntervalMs) {
    throw new RangeError('gossip config: probeTimeoutMs must be shorter than probeIntervalMs');
  }
  if (c.suspicionMinMs > c.suspicionMaxMs) {
    throw new RangeError('gossip config: suspicionMinMs must not exceed suspicionMaxMs');
  }
  if (c.tombstoneTtlMs <= c.memberExpiryMs) {
    throw new RangeError('gossip config: tombstoneTtlMs must exceed memberExpiryMs');
  }
  return Object.freeze(c);
}
