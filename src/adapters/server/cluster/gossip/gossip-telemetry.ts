import type { Clock } from '../../../../application/ports/clock.port.js';
import type { LogFields, Logger, LogLevel } from '../../../../application/ports/logger.port.js';
import type { Counter, Metrics } from '../../../../application/ports/metrics.port.js';
import { declareGossipMetrics, type GossipMetrics } from '../../admin/cluster-metrics.js';
import { decodeMessage } from './protocol/codec.js';
import { AUTH_FAILURE_REASONS, type GossipCodecErrorReason } from './protocol/errors.js';
import type { GossipEvent } from './protocol/events.js';
import { FLAG_AUTHENTICATED, TAG_LENGTH } from './protocol/messages.js';

/** Plain counts of one gossip shell's traffic since it started, for tests, status pages and the start-up log. */
export interface GossipTrafficStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Digest entries (membership claims of `sync` datagrams) received and sent. */
  digestEntriesIn: number;
  digestEntriesOut: number;
  /** State entries (piggy-backed key/value changes) received and sent. */
  deltaEntriesIn: number;
  deltaEntriesOut: number;
  /** Datagrams dropped by the protocol, by reason (`bad-magic`, `bad-tag`...). */
  readonly rejected: Record<string, number>;
  /** Of those, the ones that failed authentication (`missing-tag`, `bad-tag`, `unexpected-tag`). */
  authFailures: number;
  /** Sends that failed (unreachable host, unresolvable name, wrong address family). */
  sendErrors: number;
  /** Errors the socket itself reported. */
  socketErrors: number;
}

/** The metric families a gossip shell feeds: Piko's `piko_gossip_*` plus the piko-ts ones about drops and errors. */
interface TelemetryMetrics {
  readonly piko: GossipMetrics;
  readonly packetsIn: Counter;
  readonly packetsOut: Counter;
  readonly rejected: Counter;
  readonly sendErrors: Counter;
  readonly memberChanges: Counter;
}

/**
 * Declares the metric families of a gossip node. Piko's come from {@link declareGossipMetrics}, so the shell and
 * the admin port's scrape hook share them (declaring a name twice returns the same metric). The TCP ones
 * (`connections_*`, `stream_bytes_*`) stay at 0: this protocol uses UDP only.
 */
function declare(metrics: Metrics): TelemetryMetrics {
  return {
    piko: declareGossipMetrics(metrics),
    packetsIn: metrics.counter({ name: 'piko_gossip_packets_inbound_total', help: 'Total number of gossip datagrams received' }),
    packetsOut: metrics.counter({ name: 'piko_gossip_packets_outbound_total', help: 'Total number of gossip datagrams sent' }),
    rejected: metrics.counter({
      name: 'piko_gossip_packets_rejected_total',
      help: 'Gossip datagrams dropped unread, by reason (bad-tag, missing-tag and unexpected-tag: authentication failed)',
      labelNames: ['reason'],
    }),
    sendErrors: metrics.counter({ name: 'piko_gossip_send_errors_total', help: 'Gossip datagrams that could not be sent' }),
    memberChanges: metrics.counter({
      name: 'piko_gossip_member_changes_total',
      help: 'Membership changes seen by this node, by new status (alive, suspect, dead, left, removed)',
      labelNames: ['status'],
    }),
  };
}

/** How many digest and state entries a datagram carries; zeros for one that does not decode. */
export function countEntries(bytes: Uint8Array, maxPacketSize: number): { digest: number; delta: number } {
  // The datagram was authenticated (or built) already: read its own tag back instead of computing a MAC again.
  const tagged = bytes.length > 4 && ((bytes[4] as number) & FLAG_AUTHENTICATED) !== 0;
  const hmac = tagged ? (data: Uint8Array): Uint8Array => bytes.subarray(data.length, data.length + TAG_LENGTH) : undefined;
  try {
    const msg = decodeMessage(bytes, { maxPacketSize, hmac });
    let delta = 0;
    for (const c of msg.chunks) delta += c.entries.length;
    return { digest: msg.type === 'sync' ? msg.digest.length : 0, delta };
  } catch {
    return { digest: 0, delta: 0 };
  }
}

/** Log lines that can repeat per datagram are written at most once per this window per key, with a count. */
const LOG_WINDOW_MS = 10_000;
const MAX_THROTTLE_KEYS = 1024;

/**
 * Turns a gossip shell's traffic and the machine's events into log lines (subsystem `gossip`) and metrics. Lines
 * that a peer or an attacker could repeat per datagram (rejections, send errors) are throttled per key, so a
 * flood costs counters, not disk. Owned by one shell, used on the event loop only.
 */
export class GossipTelemetry {
  readonly stats: GossipTrafficStats = {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    digestEntriesIn: 0,
    digestEntriesOut: 0,
    deltaEntriesIn: 0,
    deltaEntriesOut: 0,
    rejected: {},
    authFailures: 0,
    sendErrors: 0,
    socketErrors: 0,
  };
  readonly #m: TelemetryMetrics;
  readonly #throttle = new Map<string, { until: number; suppressed: number }>();

  constructor(
    metrics: Metrics,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly maxPacketSize: number,
  ) {
    this.#m = declare(metrics);
  }

  /** A datagram arrived; `accepted` is false when the machine rejected it (its entries are not counted). */
  inbound(bytes: Uint8Array, accepted: boolean): void {
    const s = this.stats;
    s.packetsIn += 1;
    s.bytesIn += bytes.length;
    this.#m.packetsIn.inc();
    this.#m.piko.packetBytesInbound.inc(undefined, bytes.length);
    if (!accepted) return;
    const n = countEntries(bytes, this.maxPacketSize);
    s.digestEntriesIn += n.digest;
    s.deltaEntriesIn += n.delta;
    if (n.digest > 0) this.#m.piko.digestEntriesInbound.inc(undefined, n.digest);
    if (n.delta > 0) this.#m.piko.deltaEntriesInbound.inc(undefined, n.delta);
  }

  /** A datagram was handed to the network. */
  outbound(bytes: Uint8Array): void {
    const s = this.stats;
    s.packetsOut += 1;
    s.bytesOut += bytes.length;
    this.#m.packetsOut.inc();
    this.#m.piko.packetBytesOutbound.inc(undefined, bytes.length);
    const n = countEntries(bytes, this.maxPacketSize);
    s.digestEntriesOut += n.digest;
    s.deltaEntriesOut += n.delta;
    if (n.digest > 0) this.#m.piko.digestEntriesOutbound.inc(undefined, n.digest);
    if (n.delta > 0) this.#m.piko.deltaEntriesOutbound.inc(undefined, n.delta);
  }

  /** A send failed: counted, and logged at most once per window per destination. */
  sendError(to: string, err: unknown): void {
    this.stats.sendErrors += 1;
    this.#m.sendErrors.inc();
    this.#throttled(`send:${to}`, 'warn', 'gossip send failed', { to, error: errorText(err) });
  }

  /** The socket reported an error. */
  socketError(err: unknown): void {
    this.stats.socketErrors += 1;
    this.#throttled('socket', 'error', 'gossip socket error', { error: errorText(err) });
  }

  /** Logs and counts what the machine reported. */
  events(events: readonly GossipEvent[]): void {
    for (const e of events) this.#event(e);
  }

  #event(e: GossipEvent): void {
    const log = this.log;
    switch (e.type) {
      case 'member-added':
        this.#m.memberChanges.inc({ status: e.member.status });
        log.info('gossip member discovered', { 'node-id': e.member.id, addr: e.member.addr, status: e.member.status });
        return;
      case 'member-status': {
        const m = e.member;
        this.#m.memberChanges.inc({ status: m.status });
        const fields = { 'node-id': m.id, addr: m.addr, incarnation: m.incarnation, previous: e.previous };
        if (m.status === 'dead') log.warn('gossip member unreachable', fields);
        else if (m.status === 'left') log.info('gossip member left', fields);
        else if (m.status === 'suspect') log.debug('gossip member suspected', fields);
        else if (e.previous === 'dead') log.info('gossip member reachable again', fields);
        else log.debug('gossip member alive', fields);
        return;
      }
      case 'member-removed':
        this.#m.memberChanges.inc({ status: 'removed' });
        log.info('gossip member removed', { 'node-id': e.id, status: e.status });
        return;
      case 'state-changed':
        log.debug('gossip state changed', { 'node-id': e.id, keys: e.changes.length });
        return;
      case 'refuted':
        log.info(e.newLife ? 'gossip knew an earlier life of this node; moved above it' : 'refuted a claim about this node', {
          claim: e.claim,
          incarnation: e.incarnation,
        });
        return;
      case 'message-rejected':
        this.#rejected(e.from, e.reason);
        return;
      case 'sync-received':
        log.debug('gossip digest received', { from: e.from, 'node-id': e.nodeId });
        return;
    }
  }

  #rejected(from: string, reason: GossipCodecErrorReason): void {
    const s = this.stats;
    s.rejected[reason] = (s.rejected[reason] ?? 0) + 1;
    const auth = AUTH_FAILURE_REASONS.has(reason);
    if (auth) s.authFailures += 1;
    this.#m.rejected.inc({ reason });
    const message = auth ? 'gossip datagram failed authentication' : 'gossip datagram rejected';
    this.#throttled(`reject:${reason}:${from}`, 'warn', message, { from, reason });
  }

  #throttled(key: string, level: LogLevel, message: string, fields: LogFields): void {
    const now = this.clock.now();
    const slot = this.#throttle.get(key);
    if (slot !== undefined && now < slot.until) {
      slot.suppressed += 1;
      return;
    }
    if (this.#throttle.size >= MAX_THROTTLE_KEYS) this.#throttle.clear();
    const suppressed = slot?.suppressed ?? 0;
    this.#throttle.set(key, { until: now + LOG_WINDOW_MS, suppressed: 0 });
    this.log.log(level, message, suppressed > 0 ? { ...fields, 'suppressed-since-last': suppressed } : fields);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
