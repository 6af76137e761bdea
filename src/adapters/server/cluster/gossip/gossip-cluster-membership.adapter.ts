import type { Clock } from '../../../../application/ports/clock.port.js';
import type {
  ClusterMembership,
  LocalNodeInfo,
  Unsubscribe,
} from '../../../../application/ports/cluster-membership.port.js';
import type { Logger } from '../../../../application/ports/logger.port.js';
import type { Metrics } from '../../../../application/ports/metrics.port.js';
import { ClusterSnapshot } from '../../../../domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../../domain/endpoint/endpoint-id.js';
import { asNodeId, type Node, type NodeId, type NodeStatus } from '../../../../domain/node/node.js';
import type { ClusterStatusSource } from '../../admin/cluster-status.js';
import type { DatagramBound } from './datagram-socket.js';
import { GossipClusterStatus } from './gossip-cluster-status.js';
import type { GossipTrafficStats } from './gossip-telemetry.js';
import type { JoinResult } from './join-loop.js';
import type { GossipEvent, MemberView } from './protocol/events.js';
import type { MemberStatus } from './protocol/messages.js';
import { endpointKey, endpointValue, NODE_STATE_KEYS, readNodeRecord } from './protocol/node-record.js';
import { UdpGossipShell, type GossipView, type UdpGossipShellOptions } from './udp-gossip-shell.js';

/** Piko's `cluster.join_timeout` default. */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000;

/** How a {@link GossipClusterMembership} is set up: the `cluster.*` configuration plus the node's ports. */
export interface GossipClusterMembershipOptions {
  /** `cluster.node_id` (already generated from the prefix when not configured). */
  readonly nodeId: string;
  /** `cluster.gossip.bind_addr`. */
  readonly bindAddr: string;
  /** `cluster.gossip.advertise_addr`; `''` infers it. */
  readonly advertiseAddr?: string;
  /** `cluster.gossip.interval` in ms. */
  readonly intervalMs?: number;
  /** `cluster.gossip.max_packet_size`. */
  readonly maxPacketSize?: number;
  /** `cluster.gossip.secret_key`; `''` for none. */
  readonly secretKey?: string;
  /** `cluster.join`: addresses or DNS names of members. */
  readonly join?: readonly string[];
  /** `cluster.join_timeout` in ms (default 1 min). */
  readonly joinTimeoutMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Test seams of the shell (socket factory, resolver, randomness, timings, join backoff, wall clock). */
  readonly shell?: Partial<
    Pick<
      UdpGossipShellOptions,
      'config' | 'random' | 'wallNow' | 'socketFactory' | 'resolveHost' | 'joinBackoff' | 'localAddresses'
    >
  >;
}

const STATUS_OF: Readonly<Record<MemberStatus, NodeStatus>> = {
  alive: 'active',
  suspect: 'active',
  dead: 'unreachable',
  left: 'left',
};

/**
 * `ClusterMembership` over the gossip protocol (Piko's syncer on top of its gossip). It publishes this node's
 * proxy and admin addresses and `endpoint:<id>` listener counts as gossip state, and maps every member onto a
 * domain {@link Node}: alive and suspect → active, dead → unreachable, left → left; a member is hidden until both
 * of its addresses are known (pending), and disappears when the protocol removes it.
 *
 * Snapshots are immutable and rebuilt only on a change that shows in them (a suspicion does not), at most once
 * per burst of changes: `snapshot()` builds a pending change on demand, and listeners are called on a microtask
 * with the latest snapshot, never synchronously from the call or datagram that caused it. Used on the event loop.
 */
export class GossipClusterMembership implements ClusterMembership {
  readonly localNodeId: NodeId;
  readonly #o: GossipClusterMembershipOptions;
  readonly #shell: UdpGossipShell;
  readonly #log: Logger;
  readonly #endpoints = new Map<EndpointId, number>();
  readonly #remote = new Map<NodeId, Node>();
  /**
   * The state epoch each member held when it left. A node that left never returns in the same life, so a member
   * back from `left` is a restart under the same ID: while the state held for it is still of that epoch (its
   * previous life's), its endpoints are hidden, so that no request is sent to a node for endpoints it no longer
   * holds. A new life's state always comes under another epoch (peers tell a restarted node to move above the
   * epoch they hold), so the first state of the new life shows them again, and nothing else does.
   */
  readonly #leftEpoch = new Map<NodeId, number>();
  readonly #listeners = new Set<(snapshot: ClusterSnapshot) => void>();
  #self: LocalNodeInfo | undefined;
  #localStatus: NodeStatus = 'active';
  #snapshot: ClusterSnapshot;
  #version = 0;
  #dirty = false;
  #notifying = false;
  #notified: ClusterSnapshot | undefined;
  #frozen = false;
  #joined: Promise<JoinResult> | undefined;
  #leaving: Promise<void> | undefined;
  #status: GossipClusterStatus | undefined;

  constructor(options: GossipClusterMembershipOptions) {
    this.#o = options;
    this.localNodeId = asNodeId(options.nodeId);
    this.#log = options.logger.child('gossip');
    this.#snapshot = ClusterSnapshot.of(0, this.localNodeId, []);
    this.#shell = new UdpGossipShell({
      nodeId: options.nodeId,
      bindAddr: options.bindAddr,
      advertiseAddr: options.advertiseAddr ?? '',
      intervalMs: options.intervalMs ?? 100,
      ...(options.maxPacketSize === undefined ? {} : { maxPacketSize: options.maxPacketSize }),
      secretKey: options.secretKey ?? '',
      clock: options.clock,
      logger: options.logger,
      metrics: options.metrics,
      ...options.shell,
    });
    this.#shell.onEvents((events) => this.#onEvents(events));
  }

  /** The gossip socket's bound address (the real port when configured with port 0); undefined before start. */
  get boundAddress(): DatagramBound | undefined {
    return this.#shell.boundAddress;
  }

  /** The gossip address peers use for this node; `''` before start. */
  get advertiseAddr(): string {
    return this.#shell.advertiseAddr;
  }

  /** Traffic counts of the gossip socket (datagrams, bytes, entries, rejections by reason, send errors). */
  get stats(): GossipTrafficStats {
    return this.#shell.stats;
  }

  /** Read access to the gossip machine's members and state (status pages, tests); undefined before start. */
  get gossip(): GossipView | undefined {
    return this.#shell.view;
  }

  /**
   * How joining `cluster.join` ended: resolves once a member answered, the list named nobody else, or
   * `joinTimeoutMs` passed (`joined: false`: the server exits when `abort_if_join_fails`). Rejects if called
   * before {@link start}.
   */
  get joined(): Promise<JoinResult> {
    return this.#joined ?? Promise.reject(new Error('gossip membership not started'));
  }

  /** The admin port's view of this membership: the cluster nodes and the gossip nodes with their entries. */
  statusSource(wallNow: () => number = Date.now): ClusterStatusSource {
    this.#status ??= new GossipClusterStatus(this, this.#o.clock, wallNow);
    return this.#status;
  }

  /**
   * Binds the gossip socket, publishes `proxy_addr`, `admin_addr` and the endpoints counted so far, then joins.
   * Resolves once the first join attempt was answered or has waited out its first backoff (1 s by default), so
   * a node usually starts knowing the cluster; retries go on in the background (see {@link joined}). Rejects
   * when the socket cannot be bound.
   */
  async start(self: LocalNodeInfo): Promise<void> {
    if (this.#self !== undefined) throw new Error('gossip membership already started');
    if (this.#localStatus === 'left') throw new Error('gossip membership has left; a node that left does not start again');
    if (self.id !== this.localNodeId) throw new Error(`start: node ID ${self.id} is not this membership's ${this.localNodeId}`);
    await this.#shell.start();
    this.#self = self;
    this.#publishLocal(NODE_STATE_KEYS.proxyAddr, self.proxyAddr);
    this.#publishLocal(NODE_STATE_KEYS.adminAddr, self.adminAddr);
    for (const [id, n] of this.#endpoints) this.#publishLocal(endpointKey(id), endpointValue(n));
    this.#changed();
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    this.#joined = this.#shell.join(this.#o.join ?? [], this.#o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS, (n) => {
      if (n === 1) firstAttempt();
    });
    await Promise.race([this.#joined, attempted]);
  }

  snapshot(): ClusterSnapshot {
    if (this.#dirty) this.#build();
    return this.#snapshot;
  }

  onChange(listener: (snapshot: ClusterSnapshot) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setLocalEndpoint(endpointId: EndpointId, listeners: number): void {
    if (this.#localStatus === 'left') return;
    const before = this.#endpoints.get(endpointId) ?? 0;
    const after = Number.isFinite(listeners) ? Math.max(0, Math.floor(listeners)) : 0;
    if (before === after) return;
    if (after > 0) this.#endpoints.set(endpointId, after);
    else this.#endpoints.delete(endpointId);
    if (this.#self === undefined) return;
    this.#publishLocal(endpointKey(endpointId), endpointValue(after));
    this.#changed();
  }

  /**
   * Marks the local node left (published at once, then frozen: nothing changes afterwards), announces the
   * departure to every live member so they stop routing here, and closes the socket once it has spread (at most
   * about 1 s). Calling it again returns the same promise.
   */
  leave(): Promise<void> {
    this.#leaving ??= (async () => {
      this.#localStatus = 'left';
      if (this.#self !== undefined) {
        this.#changed();
        this.#build();
      }
      this.#frozen = true;
      await this.#shell.leave();
    })();
    return this.#leaving;
  }

  /**
   * Stops gossiping without leaving: the socket closes and peers detect this node as failed (tests use it as a
   * crash). The snapshot stays as it was. Calling it after {@link leave} is harmless.
   */
  async close(): Promise<void> {
    this.#frozen = true;
    await this.#shell.close();
  }

  #publishLocal(key: string, value: string | undefined): void {
    try {
      this.#shell.setLocal(key, value);
    } catch (err) {
      this.#log.error('cannot gossip this key; peers will not see it', { key, error: String(err) });
    }
  }

  #onEvents(events: readonly GossipEvent[]): void {
    if (this.#frozen) return;
    const ids = new Set<string>();
    for (const e of events) {
      if (e.type === 'member-added' || e.type === 'member-status') ids.add(e.member.id);
      else if (e.type === 'member-removed' || e.type === 'state-changed') ids.add(e.id);
      if (e.type === 'member-status' && e.member.status === 'left') this.#leftEpoch.set(asNodeId(e.member.id), e.member.stateEpoch);
      if (e.type === 'member-removed') this.#leftEpoch.delete(asNodeId(e.id));
    }
    let changed = false;
    for (const id of ids) if (id !== this.localNodeId && this.#refresh(asNodeId(id))) changed = true;
    if (changed) this.#changed();
  }

  /** True while the state held for a member back from `left` is still its previous life's (see `#leftEpoch`). */
  #previousLife(id: NodeId, member: MemberView): boolean {
    const epoch = this.#leftEpoch.get(id);
    if (epoch === undefined || member.status === 'left') return false;
    if (member.stateEpoch === epoch) return true;
    this.#leftEpoch.delete(id);
    return false;
  }

  /** Recomputes one remote node from the machine; true when what the snapshot shows of it changed. */
  #refresh(id: NodeId): boolean {
    const view = this.#shell.view;
    const member = view?.member(id);
    const record = member === undefined ? undefined : readNodeRecord(view?.state(id) ?? new Map());
    const before = this.#remote.get(id);
    if (member === undefined || record === undefined || !record.complete) {
      return this.#remote.delete(id) || false;
    }
    const node: Node = {
      id,
      status: STATUS_OF[member.status],
      proxyAddr: record.proxyAddr as string,
      adminAddr: record.adminAddr as string,
      endpoints: this.#previousLife(id, member) ? new Map() : (record.endpoints as ReadonlyMap<EndpointId, number>),
    };
    if (before !== undefined && sameNode(before, node)) return false;
    this.#remote.set(id, node);
    return true;
  }

  #changed(): void {
    if (this.#frozen) return;
    this.#dirty = true;
    if (this.#notifying) return;
    this.#notifying = true;
    queueMicrotask(() => this.#notify());
  }

  #build(): void {
    this.#dirty = false;
    const nodes: Node[] = [...this.#remote.values()];
    const self = this.#self;
    if (self !== undefined) {
      nodes.push({
        id: this.localNodeId,
        status: this.#localStatus,
        proxyAddr: self.proxyAddr,
        adminAddr: self.adminAddr,
        endpoints: new Map(this.#endpoints),
      });
    }
    this.#snapshot = ClusterSnapshot.of(++this.#version, this.localNodeId, nodes);
  }

  #notify(): void {
    this.#notifying = false;
    if (this.#dirty) this.#build();
    const snapshot = this.#snapshot;
    if (snapshot === this.#notified) return;
    this.#notified = snapshot;
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot);
      } catch (err) {
        this.#log.error('cluster change listener failed', { error: String(err) });
      }
    }
  }
}

function sameNode(a: Node, b: Node): boolean {
  if (a.status !== b.status || a.proxyAddr !== b.proxyAddr || a.adminAddr !== b.adminAddr) return false;
  if (a.endpoints.size !== b.endpoints.size) return false;
  for (const [k, v] of a.endpoints) if (b.endpoints.get(k) !== v) return false;
  return true;
}
