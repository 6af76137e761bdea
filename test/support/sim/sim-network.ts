import type { Hmac } from '../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import type { GossipConfig } from '../../../src/adapters/server/cluster/gossip/protocol/config.js';
import type { GossipEvent, MachineOutput, MemberView } from '../../../src/adapters/server/cluster/gossip/protocol/events.js';
import { GossipMachine } from '../../../src/adapters/server/cluster/gossip/protocol/gossip-machine.js';
import type { MemberStatus } from '../../../src/adapters/server/cluster/gossip/protocol/messages.js';
import { EventQueue } from './event-queue.js';
import { seededRandom } from './seeded-random.js';

/** Network behaviour of a {@link SimNetwork}. */
export interface SimOptions {
  /** Seed of every random choice (network and machines): a run replays exactly. */
  readonly seed: number;
  /** One-way latency, uniform in [min, max] ms (different latencies reorder datagrams). Default [0.2, 2]. */
  readonly latencyMs?: readonly [number, number];
  /** Probability that a datagram is lost. Default 0. */
  readonly lossRate?: number;
  /** Probability that a datagram is delivered twice. Default 0. */
  readonly duplicateRate?: number;
  /** Gossip configuration of every node (overrides of the defaults). */
  readonly config?: Partial<GossipConfig>;
  /** MAC of every node unless a node sets its own. */
  readonly hmac?: Hmac;
  /** Keep every datagram sent, for replays. Default false. */
  readonly record?: boolean;
}

/** Per-node settings. */
export interface SimNodeOptions {
  readonly incarnation?: number;
  readonly config?: Partial<GossipConfig>;
  /** `null` for a node without a key in a keyed cluster. */
  readonly hmac?: Hmac | null;
}

/** A simulated process: its machine, its clock offset and what it reported. */
export interface SimNode {
  readonly id: string;
  readonly addr: string;
  machine: GossipMachine;
  running: boolean;
  /** This node's clock is the simulated time plus this offset (machines never compare clocks). */
  readonly clockOffset: number;
  /** Events with the simulated time at which they were reported. */
  readonly events: Array<{ readonly at: number; readonly event: GossipEvent }>;
  tickAt: number;
  lives: number;
}

/** A datagram sent on the simulated network. */
export interface SimDatagram {
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

type SimItem = { kind: 'tick'; node: SimNode; at: number } | { kind: 'deliver'; datagram: SimDatagram };

/**
 * N gossip machines on a simulated datagram network with a simulated clock: latency, loss, duplication,
 * reordering, partitions (`cut`, `isolate`, `heal`), crashes (`kill`) and restarts. Everything is driven by one
 * seeded random source, so a run is reproducible; time only moves inside {@link run} and {@link runUntil}.
 */
export class SimNetwork {
  readonly #opts: SimOptions;
  readonly #random: () => number;
  readonly #queue = new EventQueue<SimItem>();
  readonly #nodes = new Map<string, SimNode>();
  readonly #byAddr = new Map<string, SimNode>();
  readonly #cuts = new Set<string>();
  readonly #isolated = new Set<string>();
  #now = 0;
  /** Events run without the clock moving: a guard against a machine that keeps asking for a tick now. */
  #stuck = 0;
  lossRate: number;
  readonly recorded: SimDatagram[] = [];
  readonly stats = { sent: 0, delivered: 0, dropped: 0, bytes: 0 };

  constructor(options: SimOptions) {
    this.#opts = options;
    this.#random = seededRandom(options.seed);
    this.lossRate = options.lossRate ?? 0;
  }

  /** Simulated time (ms). */
  get now(): number {
    return this.#now;
  }

  /** Every node, in creation order. */
  get nodes(): SimNode[] {
    return [...this.#nodes.values()];
  }

  node(id: string): SimNode {
    const n = this.#nodes.get(id);
    if (n === undefined) throw new Error(`no simulated node ${id}`);
    return n;
  }

  /** Creates and starts a node (it knows nobody until {@link join}). */
  addNode(id: string, options: SimNodeOptions = {}): SimNode {
    const addr = `${id}:7946`;
    const node: SimNode = {
      id,
      addr,
      machine: undefined as unknown as GossipMachine,
      running: true,
      clockOffset: Math.floor(this.#random() * 1_000_000),
      events: [],
      tickAt: Number.POSITIVE_INFINITY,
      lives: 0,
    };
    this.#nodes.set(id, node);
    this.#byAddr.set(addr, node);
    this.#start(node, options);
    return node;
  }

  #start(node: SimNode, options: SimNodeOptions): void {
    node.lives += 1;
    node.running = true;
    node.machine = new GossipMachine({
      nodeId: node.id,
      addr: node.addr,
      incarnation: options.incarnation ?? 0,
      random: seededRandom(this.#opts.seed * 7919 + node.lives * 104729 + hashId(node.id)),
      now: this.#local(node),
      config: { ...this.#opts.config, ...options.config },
      hmac: options.hmac === null ? undefined : (options.hmac ?? this.#opts.hmac),
    });
    node.tickAt = Number.POSITIVE_INFINITY;
    this.#schedule(node);
  }

  #local(node: SimNode): number {
    return this.#now + node.clockOffset;
  }

  /** `id` joins through the given seed nodes. */
  join(id: string, seedIds: readonly string[]): void {
    const node = this.node(id);
    this.#handle(node, node.machine.join(seedIds.map((s) => this.node(s).addr), this.#local(node)));
  }

  setLocal(id: string, key: string, value: string | undefined): void {
    const node = this.node(id);
    this.#handle(node, node.machine.setLocal(key, value, this.#local(node)));
  }

  leave(id: string): void {
    const node = this.node(id);
    this.#handle(node, node.machine.leave(this.#local(node)));
  }

  /** Drops each datagram with probability `p` from now on. */
  drop(p: number): void {
    this.lossRate = p;
  }

  /** No datagram passes between `a` and `b` (both ways) until {@link heal}. */
  cut(a: string, b: string): void {
    this.#cuts.add(pairKey(a, b));
  }

  /** `a` can neither send nor receive until {@link heal}. */
  isolate(a: string): void {
    this.#isolated.add(a);
  }

  /** Removes every cut and isolation. */
  heal(): void {
    this.#cuts.clear();
    this.#isolated.clear();
  }

  /** Crashes `a`: it stops at once, sends nothing more, and datagrams to it are lost. */
  kill(a: string): void {
    this.node(a).running = false;
  }

  /** Starts a fresh process under the same ID and address (a new machine: no memory of the previous life). */
  restart(a: string, options: SimNodeOptions = {}): SimNode {
    const node = this.node(a);
    this.#start(node, options);
    return node;
  }

  /** Delivers raw bytes to `to` as if sent from `fromAddr`, now (replays and forged datagrams). */
  inject(to: string, fromAddr: string, bytes: Uint8Array): void {
    const node = this.node(to);
    if (node.running) this.#handle(node, node.machine.receive(fromAddr, bytes, this.#local(node)));
  }

  /** Delivers every datagram (and runs every tick) already due, without moving the clock; returns how many. */
  deliver(): number {
    let n = 0;
    while (this.#queue.peekTime() <= this.#now) {
      this.#step();
      n += 1;
    }
    return n;
  }

  /** Runs the simulation for `ms` of simulated time. */
  run(ms: number): void {
    const end = this.#now + ms;
    while (this.#queue.peekTime() <= end) this.#step();
    this.#now = end;
  }

  /**
   * Runs until `done()` holds or `maxMs` passed; returns the simulated time at which it held, or undefined.
   * `done()` is checked after every event, or, with `checkEveryMs`, at most once per that much simulated time
   * (for costly checks; the time returned is then late by up to `checkEveryMs`).
   */
  runUntil(done: () => boolean, maxMs: number, checkEveryMs = 0): number | undefined {
    const end = this.#now + maxMs;
    if (done()) return this.#now;
    let checkedAt = this.#now;
    while (this.#queue.peekTime() <= end) {
      this.#step();
      if (this.#now - checkedAt < checkEveryMs) continue;
      checkedAt = this.#now;
      if (done()) return this.#now;
    }
    this.#now = end;
    return done() ? end : undefined;
  }

  /** The status `observer` holds for `target` (undefined: unknown). */
  statusOf(observer: string, target: string): MemberStatus | undefined {
    return this.node(observer).machine.member(target)?.status;
  }

  /** The member view `observer` holds for `target`. */
  viewOf(observer: string, target: string): MemberView | undefined {
    return this.node(observer).machine.member(target);
  }

  /** Running nodes other than `except`. */
  running(except: readonly string[] = []): SimNode[] {
    return this.nodes.filter((n) => n.running && !except.includes(n.id));
  }

  #step(): void {
    const next = this.#queue.pop();
    if (next === undefined) return;
    this.#stuck = next.at > this.#now ? 0 : this.#stuck + 1;
    if (this.#stuck > 200_000) throw new Error(`simulation stuck at ${this.#now} ms: time does not advance`);
    this.#now = Math.max(this.#now, next.at);
    const item = next.item;
    if (item.kind === 'tick') {
      const node = item.node;
      if (!node.running || node.tickAt !== item.at) return;
      node.tickAt = Number.POSITIVE_INFINITY;
      this.#handle(node, node.machine.tick(this.#local(node)));
      return;
    }
    const d = item.datagram;
    const target = this.#byAddr.get(d.to);
    const source = this.#byAddr.get(d.from);
    if (target === undefined || !target.running || (source !== undefined && this.#blocked(source.id, target.id))) {
      this.stats.dropped += 1;
      return;
    }
    this.stats.delivered += 1;
    this.#handle(target, target.machine.receive(d.from, d.bytes, this.#local(target)));
  }

  #handle(node: SimNode, out: MachineOutput): void {
    for (const event of out.events) node.events.push({ at: this.#now, event });
    for (const o of out.send) this.#transmit(node, o.to, o.bytes);
    this.#schedule(node);
  }

  #transmit(from: SimNode, to: string, bytes: Uint8Array): void {
    this.stats.sent += 1;
    this.stats.bytes += bytes.length;
    const datagram: SimDatagram = { at: this.#now, from: from.addr, to, bytes };
    if (this.#opts.record === true) this.recorded.push(datagram);
    const target = this.#byAddr.get(to);
    if (target !== undefined && this.#blocked(from.id, target.id)) {
      this.stats.dropped += 1;
      return;
    }
    const copies = this.#random() < (this.#opts.duplicateRate ?? 0) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.#random() < this.lossRate) {
        this.stats.dropped += 1;
        continue;
      }
      const [min, max] = this.#opts.latencyMs ?? [0.2, 2];
      this.#queue.push(this.#now + min + this.#random() * (max - min), { kind: 'deliver', datagram });
    }
  }

  #blocked(a: string, b: string): boolean {
    return this.#isolated.has(a) || this.#isolated.has(b) || this.#cuts.has(pairKey(a, b));
  }

  #schedule(node: SimNode): void {
    if (!node.running) return;
    const at = Math.max(this.#now, node.machine.nextDeadline() - node.clockOffset);
    if (at < node.tickAt) {
      node.tickAt = at;
      this.#queue.push(at, { kind: 'tick', node, at });
    }
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function hashId(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) >>> 0;
  return h;
}
