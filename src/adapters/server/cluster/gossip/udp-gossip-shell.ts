import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Cancel, Clock } from '../../../../application/ports/clock.port.js';
import type { Logger } from '../../../../application/ports/logger.port.js';
import type { Metrics } from '../../../../application/ports/metrics.port.js';
import { joinHostPort, parseHostPort } from '../../../platform/config/addresses.js';
import type { DatagramBound, DatagramFamily, DatagramSocket, DatagramSocketFactory } from './datagram-socket.js';
import { createUdpSocket } from './node-udp-socket.js';
import {
  advertiseAddrOf,
  parseGossipAddr,
  sourceAddr,
  systemResolver,
  WILDCARD_HOSTS,
  type HostResolver,
} from './gossip-addresses.js';
import { GossipTelemetry, type GossipTrafficStats } from './gossip-telemetry.js';
import { JoinLoop, type JoinBackoff, type JoinResult } from './join-loop.js';
import type { Hmac } from './protocol/codec.js';
import { gossipConfigFromInterval, resolveGossipConfig, type GossipConfig } from './protocol/config.js';
import type { GossipEvent, MachineOutput } from './protocol/events.js';
import { GossipMachine } from './protocol/gossip-machine.js';
import { DEFAULT_MAX_PACKET_SIZE } from './protocol/messages.js';

/** After `leave()`, the socket is closed when the departure has spread or after this long, whichever is first. */
export const LEAVE_CAP_MS = 1000;

/** How a {@link UdpGossipShell} is set up. Only the first five fields come from configuration. */
export interface UdpGossipShellOptions {
  /** This node's ID (`cluster.node_id`). */
  readonly nodeId: string;
  /** `cluster.gossip.bind_addr`: `:8003` (every interface, IPv6 and IPv4), `10.0.0.1:8003`, `[::1]:0`. */
  readonly bindAddr: string;
  /** `cluster.gossip.advertise_addr`; `''` infers it from the bound address (Piko §5.1). */
  readonly advertiseAddr?: string;
  /** `cluster.gossip.interval` in ms (default 100); every protocol timing is a multiple of it. */
  readonly intervalMs?: number;
  /** `cluster.gossip.max_packet_size` (default 1,400). */
  readonly maxPacketSize?: number;
  /** `cluster.gossip.secret_key`: when non-empty every datagram is authenticated with HMAC-SHA256. */
  readonly secretKey?: string;
  readonly clock: Clock;
  /** The node's logger; the shell logs under the `gossip` subsystem. */
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Overrides of the timings derived from `intervalMs` (tests). */
  readonly config?: Partial<GossipConfig>;
  /** Randomness of the protocol (peer choice, jitter); `Math.random` by default, seeded in tests. */
  readonly random?: () => number;
  /** Wall-clock milliseconds, for the first incarnation (seconds since 1970); `Date.now` by default. */
  readonly wallNow?: () => number;
  /** The socket; `node:dgram` by default, an in-memory network in unit tests. */
  readonly socketFactory?: DatagramSocketFactory;
  /** DNS for `cluster.join` names; every A and AAAA record by default. */
  readonly resolveHost?: HostResolver;
  /** Join retry waits (default: Piko's 1 s doubling to 1 min, plus 0–10 % jitter). */
  readonly joinBackoff?: Partial<JoinBackoff>;
  /** This machine's addresses, to recognise a join address that is this node (default: the interfaces'). */
  readonly localAddresses?: () => ReadonlySet<string>;
}

/** What the rest of the node may read from the gossip machine (never mutate). */
export type GossipView = Pick<
  GossipMachine,
  'id' | 'addr' | 'members' | 'member' | 'state' | 'stateEntries' | 'incarnation' | 'localHealth' | 'leaving'
>;

/**
 * The I/O shell of the gossip protocol: one UDP socket, one timer and a {@link GossipMachine}. It feeds every
 * datagram to `receive`, sends what the machine returns, keeps a single timer at `nextDeadline()` through the
 * {@link Clock}, joins seeds (resolved by DNS, retried with backoff), leaves gracefully, and turns events into
 * logs and metrics. It decides nothing about the protocol. No socket or send error is ever thrown: each is
 * logged (throttled) and counted. Used on the event loop only.
 */
export class UdpGossipShell {
  readonly #o: UdpGossipShellOptions;
  readonly #config: GossipConfig;
  readonly #log: Logger;
  readonly #telemetry: GossipTelemetry;
  readonly #listeners = new Set<(events: readonly GossipEvent[]) => void>();
  readonly #closeWaiters: Array<() => void> = [];
  #socket: DatagramSocket | undefined;
  #family: DatagramFamily = 'udp4';
  #bound: DatagramBound | undefined;
  #machine: GossipMachine | undefined;
  #timer: Cancel | undefined;
  #timerAt = Number.NaN;
  #leaveCap: Cancel | undefined;
  #leaving: Promise<void> | undefined;
  #join: JoinLoop | undefined;
  #started = false;
  #closed = false;

  /** Throws a RangeError naming the setting when the interval, packet size or a timing is out of range. */
  constructor(options: UdpGossipShellOptions) {
    this.#o = options;
    const intervalMs = options.intervalMs ?? 100;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`gossip interval must be > 0 ms (got ${intervalMs})`);
    this.#config = resolveGossipConfig({
      ...gossipConfigFromInterval(intervalMs, options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE),
      ...options.config,
    });
    this.#log = options.logger.child('gossip');
    this.#telemetry = new GossipTelemetry(options.metrics, this.#log, options.clock, this.maxPacketSize);
  }

  /** The largest datagram sent or accepted. */
  get maxPacketSize(): number {
    return this.#config.maxPacketSize;
  }

  /** The address the socket bound (port 0 resolved); undefined before {@link start}. */
  get boundAddress(): DatagramBound | undefined {
    return this.#bound;
  }

  /** The gossip address peers reach this node at; `''` before {@link start}. */
  get advertiseAddr(): string {
    return this.#machine?.addr ?? '';
  }

  /** Read access to the machine (members, state), once started. */
  get view(): GossipView | undefined {
    return this.#machine;
  }

  /** Traffic counts since start. */
  get stats(): GossipTrafficStats {
    return this.#telemetry.stats;
  }

  /** True once the socket is closed (after {@link leave} or {@link close}). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` with the events of every machine call, after they were logged and counted. */
  onEvents(listener: (events: readonly GossipEvent[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Binds the socket (udp4 for an IPv4 host, udp6 for an IPv6 one; for an empty host every interface over IPv6
   * and IPv4, falling back to IPv4 alone), builds the machine at the advertised address and starts its timer.
   * Rejects with an error naming the address when the bind fails.
   */
  async start(): Promise<DatagramBound> {
    if (this.#started) throw new Error('gossip shell already started');
    this.#started = true;
    const o = this.#o;
    const hp = parseHostPort(o.bindAddr);
    if (hp === undefined) throw new RangeError(`invalid gossip bind address ${JSON.stringify(o.bindAddr)}`);
    const bound = await this.#bind(hp.host, hp.port);
    const key = o.secretKey ?? '';
    const hmac: Hmac | undefined = key === '' ? undefined : (d) => createHmac('sha256', key).update(d).digest();
    let advertised: { addr: string; why: string };
    try {
      advertised = advertiseAddrOf(o.advertiseAddr ?? '', bound);
      this.#machine = new GossipMachine({
        nodeId: o.nodeId,
        addr: advertised.addr,
        incarnation: Math.floor((o.wallNow ?? Date.now)() / 1000) >>> 0,
        random: o.random ?? Math.random,
        now: o.clock.now(),
        config: this.#config,
        hmac,
      });
    } catch (err) {
      // A bad advertise address or node ID: give the port back before reporting it.
      this.#socket?.close();
      this.#closed = true;
      throw err;
    }
    this.#log.info('gossip started', {
      'node-id': o.nodeId,
      'bind-addr': joinHostPort(bound.address, bound.port),
      'advertise-addr': advertised.addr,
      advertise: advertised.why,
      authenticated: hmac !== undefined,
    });
    this.#arm();
    return bound;
  }

  async #bind(host: string, port: number): Promise<DatagramBound> {
    const attempts: Array<[DatagramFamily, string]> =
      host === '' ? [['udp6', '::'], ['udp4', '0.0.0.0']] : [[isIPv6(host) ? 'udp6' : 'udp4', host]];
    if (host !== '' && !isIPv4(host) && !isIPv6(host)) {
      let addrs: readonly string[];
      try {
        addrs = await (this.#o.resolveHost ?? systemResolver)(host);
      } catch (err) {
        throw new Error(`gossip bind ${joinHostPort(host, port)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const pick = addrs.find((a) => isIPv4(a)) ?? addrs[0];
      if (pick === undefined) throw new Error(`gossip bind address ${host}: the name has no address`);
      attempts[0] = [isIPv6(pick) ? 'udp6' : 'udp4', pick];
    }
    const factory = this.#o.socketFactory ?? createUdpSocket;
    let last: unknown;
    for (const [family, address] of attempts) {
      const socket = factory(family, {
        message: (bytes, from) => this.#receive(sourceAddr(from.address, from.port), bytes),
        error: (err) => this.#telemetry.socketError(err),
      });
      try {
        this.#bound = await socket.bind(address, port);
        this.#socket = socket;
        this.#family = family;
        return this.#bound;
      } catch (err) {
        socket.close();
        last = err;
      }
    }
    const why = last instanceof Error ? last.message : String(last);
    throw new Error(`gossip bind ${joinHostPort(host, port)}: ${why}`);
  }

  /** Sets (or, with undefined, deletes) a key of the local state; a RangeError for a key or value too long. */
  setLocal(key: string, value: string | undefined): void {
    const m = this.#machine;
    if (m === undefined || this.#closed || m.leaving) return;
    this.#dispatch(m.setLocal(key, value, this.#o.clock.now()));
  }

  /**
   * Joins the cluster through `entries` (`cluster.join`): each is resolved (every A/AAAA record of a name;
   * `host`, `host:port`, `[v6]:port`), contacted with a full digest, and retried with backoff until a peer
   * answers (a `sync-received` event) or `timeoutMs` passed. An empty list, or one that only names this node,
   * counts as joined. One join runs at a time: a second call returns the first one's result.
   * `onAttempt` is told when each attempt has been answered or has waited out its backoff.
   */
  join(entries: readonly string[], timeoutMs: number, onAttempt?: (attempt: number) => void): Promise<JoinResult> {
    if (this.#machine === undefined) return Promise.reject(new Error('gossip shell not started'));
    this.#join ??= new JoinLoop({
      clock: this.#o.clock,
      log: this.#log,
      random: this.#o.random ?? Math.random,
      backoff: this.#o.joinBackoff,
      resolveHost: this.#o.resolveHost ?? systemResolver,
      localAddresses: this.#o.localAddresses,
      family: this.#family,
      dualStack: this.#family === 'udp6' && this.#bound !== undefined && WILDCARD_HOSTS.has(this.#bound.address),
      bound: this.#bound as DatagramBound,
      advertiseAddr: this.advertiseAddr,
      contact: (seeds) => {
        const m = this.#machine;
        if (m !== undefined && !this.#closed && !m.leaving) this.#dispatch(m.join(seeds, this.#o.clock.now()));
      },
      stopped: () => this.#closed || this.#machine?.leaving === true,
    });
    return this.#join.run(entries, timeoutMs, onAttempt);
  }

  /**
   * Leaves gracefully: the machine announces the departure, the shell keeps ticking until it has spread
   * (`leaveSettled`) or {@link LEAVE_CAP_MS} passed, then closes the socket. Resolves once closed; calling it
   * again returns the same promise.
   */
  leave(): Promise<void> {
    this.#leaving ??= new Promise<void>((resolve) => {
      const m = this.#machine;
      if (m === undefined || this.#closed) {
        void this.close().then(resolve);
        return;
      }
      this.#closeWaiters.push(resolve);
      this.#log.info('gossip leaving', { 'node-id': m.id });
      this.#leaveCap = this.#o.clock.schedule(LEAVE_CAP_MS, () => void this.close());
      this.#dispatch(m.leave(this.#o.clock.now()));
      // Nobody alive to tell: nothing will ever carry the departure, so there is nothing to wait for.
      if (!this.#closed && !m.members().some((x) => !x.local && (x.status === 'alive' || x.status === 'suspect'))) {
        void this.close();
      }
    });
    return this.#leaving;
  }

  /** Closes the socket and stops the timer without leaving (peers will detect this node as failed). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#timer?.();
    this.#timer = undefined;
    this.#leaveCap?.();
    this.#leaveCap = undefined;
    this.#join?.stop();
    this.#socket?.close();
    const st = this.#telemetry.stats;
    this.#log.info('gossip stopped', {
      'node-id': this.#o.nodeId,
      'packets-in': st.packetsIn,
      'packets-out': st.packetsOut,
      'bytes-in': st.bytesIn,
      'bytes-out': st.bytesOut,
      'auth-failures': st.authFailures,
      'send-errors': st.sendErrors,
    });
    for (const w of this.#closeWaiters.splice(0)) w();
    return Promise.resolve();
  }

  #receive(from: string, bytes: Uint8Array): void {
    const m = this.#machine;
    if (m === undefined || this.#closed) return;
    let out: MachineOutput;
    try {
      out = m.receive(from, bytes, this.#o.clock.now());
    } catch (err) {
      this.#telemetry.inbound(bytes, false);
      this.#log.error('gossip machine failed on a datagram', { from, error: String(err) });
      return;
    }
    this.#telemetry.inbound(bytes, !out.events.some((e) => e.type === 'message-rejected'));
    this.#dispatch(out);
  }

  #tick(): void {
    const m = this.#machine;
    if (m === undefined || this.#closed) return;
    let out: MachineOutput;
    try {
      out = m.tick(this.#o.clock.now());
    } catch (err) {
      this.#log.error('gossip machine failed on a tick', { error: String(err) });
      this.#arm(m.config.gossipIntervalMs);
      return;
    }
    // A deadline that did not move past this tick waits at least 1 ms, so a fake clock can never spin.
    this.#dispatch(out, 1);
  }

  #dispatch(out: MachineOutput, floorMs = 0): void {
    for (const o of out.send) this.#send(o.to, o.bytes);
    if (out.events.length > 0) {
      this.#telemetry.events(out.events);
      if (out.events.some((e) => e.type === 'sync-received')) this.#join?.synced();
      for (const listener of [...this.#listeners]) {
        try {
          listener(out.events);
        } catch (err) {
          this.#log.error('gossip event listener failed', { error: String(err) });
        }
      }
    }
    const m = this.#machine;
    if (m !== undefined && m.leaving && !this.#closed && m.leaveSettled(this.#o.clock.now())) {
      void this.close();
      return;
    }
    this.#arm(floorMs);
  }

  #send(to: string, bytes: Uint8Array): void {
    const socket = this.#socket;
    if (socket === undefined || this.#closed) return;
    const dest = parseGossipAddr(to);
    if (dest === undefined) {
      this.#telemetry.sendError(to, new Error('not a host:port address'));
      return;
    }
    let host = dest.host;
    if (this.#family === 'udp6' && isIPv4(host)) host = `::ffff:${host}`;
    socket.send(bytes, dest.port, host, (err) => {
      if (err !== null) this.#telemetry.sendError(to, err);
      else this.#telemetry.outbound(bytes);
    });
  }

  /** Keeps exactly one timer, at the machine's next deadline (or `floorMs` from now at the earliest). */
  #arm(floorMs = 0): void {
    const m = this.#machine;
    if (m === undefined || this.#closed) return;
    const now = this.#o.clock.now();
    const at = Math.max(m.nextDeadline(), now + floorMs);
    if (!Number.isFinite(at)) return;
    if (this.#timer !== undefined && this.#timerAt === at) return;
    this.#timer?.();
    this.#timerAt = at;
    this.#timer = this.#o.clock.schedule(Math.max(0, at - now), () => {
      this.#timer = undefined;
      this.#timerAt = Number.NaN;
      this.#tick();
    });
  }
}

export type { JoinResult } from './join-loop.js';
export { createUdpSocket } from './node-udp-socket.js';
