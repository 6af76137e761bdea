import type { Clock } from '../../../src/application/ports/clock.port.js';
import type {
  DatagramBound,
  DatagramFamily,
  DatagramHandlers,
  DatagramSocket,
  DatagramSocketFactory,
} from '../../../src/adapters/server/cluster/gossip/datagram-socket.js';

const WILDCARD = new Set(['', '0.0.0.0', '::']);

function unmap(host: string): string {
  return host.toLowerCase().startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** One datagram that went through an {@link InMemoryDatagramNetwork}. */
export interface NetDatagram {
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
}

interface Bound {
  readonly host: string;
  readonly port: number;
  readonly handlers: DatagramHandlers;
  open: boolean;
}

/**
 * A UDP network in memory, timed by a (fake) {@link Clock}: sockets from {@link factory} bind `host:port`
 * (port 0 picks a free one; a wildcard host receives for every host), and each datagram is delivered after
 * `latencyMs` to whatever socket is bound at its destination, or lost. Send callbacks run on the clock too, so
 * everything happens inside `FakeClock.advance`. Destinations that are not IP addresses fail their send with an
 * error, as an unresolvable name does, and so does an address of the other family (EINVAL: a udp6 socket reaches IPv4
 * only as `::ffff:a.b.c.d`, as on Linux); {@link failSends} makes any destination fail; {@link block} drops all
 * traffic of an address (a partition).
 */
export class InMemoryDatagramNetwork {
  readonly #clock: Clock;
  readonly #latencyMs: number;
  readonly #bound = new Map<string, Bound>();
  readonly #blocked = new Set<string>();
  #nextPort = 40_000;
  /** Every datagram sent (delivered or not), when {@link record} is on. */
  readonly log: NetDatagram[] = [];
  record = false;
  readonly stats = { sent: 0, delivered: 0, lost: 0 };
  /** Destinations (`host:port`) whose sends fail with this error. */
  readonly failSends = new Map<string, Error>();

  constructor(clock: Clock, options: { latencyMs?: number } = {}) {
    this.#clock = clock;
    this.#latencyMs = options.latencyMs ?? 1;
  }

  /** Creates sockets on this network. */
  readonly factory: DatagramSocketFactory = (family, handlers) => this.#socket(family, handlers);

  /** Drops every datagram from or to `addr` (`host:port`) until {@link unblock}. */
  block(addr: string): void {
    this.#blocked.add(addr);
  }

  unblock(addr: string): void {
    this.#blocked.delete(addr);
  }

  /** Delivers raw bytes to `to` as if sent from `from` (`host:port` both), after the latency. */
  inject(to: string, from: string, bytes: Uint8Array): void {
    const [host, port] = split(from);
    this.#deliver(host, port, to, bytes);
  }

  /** Makes the socket bound at `host:port` report `err` (as a socket's `'error'` event). */
  socketError(host: string, port: number, err: Error): void {
    this.#lookup(host, port)?.handlers.error(err);
  }

  /** True when a socket is bound (and open) at `host:port`. */
  isBound(host: string, port: number): boolean {
    return this.#lookup(host, port)?.open === true;
  }

  #socket(family: DatagramFamily, handlers: DatagramHandlers): DatagramSocket {
    let me: Bound | undefined;
    let closed = false;
    return {
      bind: async (host: string, port: number): Promise<DatagramBound> => {
        const h = WILDCARD.has(host) ? '*' : host;
        let p = port;
        if (p === 0) {
          while (this.#bound.has(`${h}|${this.#nextPort}`) || this.#bound.has(`*|${this.#nextPort}`)) this.#nextPort += 1;
          p = this.#nextPort++;
        }
        const key = `${h}|${p}`;
        if (this.#bound.get(key)?.open === true) throw new Error(`bind EADDRINUSE ${host}:${p}`);
        me = { host: h, port: p, handlers, open: true };
        this.#bound.set(key, me);
        return { address: h === '*' ? (host === '' ? '::' : host) : host, port: p };
      },
      send: (bytes, port, host, done) => {
        if (closed || me === undefined) {
          this.#clock.schedule(0, () => done(new Error('socket closed')));
          return;
        }
        const to = `${unmap(host)}:${port}`;
        const failure =
          this.failSends.get(to) ??
          (!/^[0-9.]+$|:/.test(host) ? new Error(`getaddrinfo ENOTFOUND ${host}`) : undefined) ??
          // As on Linux: a udp6 socket reaches IPv4 only through mapped addresses, a udp4 socket no IPv6 at all.
          ((family === 'udp6') === /^[0-9.]+$/.test(host) ? new Error(`send EINVAL ${host}:${port}`) : undefined);
        if (failure !== undefined) {
          this.#clock.schedule(0, () => done(failure));
          return;
        }
        const fromHost = me.host === '*' ? '127.0.0.1' : me.host;
        this.#deliver(fromHost, me.port, to, bytes.slice());
        this.#clock.schedule(0, () => done(null));
      },
      close: () => {
        closed = true;
        if (me !== undefined) {
          me.open = false;
          this.#bound.delete(`${me.host}|${me.port}`);
        }
      },
    };
  }

  #deliver(fromHost: string, fromPort: number, to: string, bytes: Uint8Array): void {
    const from = `${fromHost}:${fromPort}`;
    this.stats.sent += 1;
    if (this.record) this.log.push({ from, to, bytes });
    if (this.#blocked.has(from) || this.#blocked.has(to)) {
      this.stats.lost += 1;
      return;
    }
    const [host, port] = split(to);
    this.#clock.schedule(this.#latencyMs, () => {
      const target = this.#lookup(host, port);
      if (target === undefined || !target.open || this.#blocked.has(from) || this.#blocked.has(to)) {
        this.stats.lost += 1;
        return;
      }
      this.stats.delivered += 1;
      target.handlers.message(bytes, { address: fromHost, port: fromPort });
    });
  }

  #lookup(host: string, port: number): Bound | undefined {
    return this.#bound.get(`${unmap(host)}|${port}`) ?? this.#bound.get(`*|${port}`);
  }
}

function split(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return [unmap(host), Number(addr.slice(i + 1))];
}
