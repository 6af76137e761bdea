import { isIPv4, isIPv6 } from 'node:net';
import type { Cancel, Clock } from '../../../../application/ports/clock.port.js';
import type { Logger } from '../../../../application/ports/logger.port.js';
import { joinHostPort } from '../../../platform/config/addresses.js';
import type { DatagramBound, DatagramFamily } from './datagram-socket.js';
import { isIpLiteral, localAddresses, parseSeed, unmapIPv4, WILDCARD_HOSTS, type HostResolver } from './gossip-addresses.js';

/** Waits between join attempts: the first is `minMs`, each next one doubles up to `maxMs`, plus 0–10 % jitter. */
export interface JoinBackoff {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Piko's join backoff (`pkg/backoff`): 1 s doubling to 1 min. */
export const DEFAULT_JOIN_BACKOFF: JoinBackoff = Object.freeze({ minMs: 1000, maxMs: 60_000 });

/** How a join ended. The server exits on `joined: false` when `cluster.abort_if_join_fails` is set. */
export interface JoinResult {
  /** A member answered (or there was nobody to join: an empty list, or one naming only this node). */
  readonly joined: boolean;
  /** Attempts made; 0 when the join list was empty. */
  readonly attempts: number;
  /** Time from the first attempt to the outcome (injected clock). */
  readonly elapsedMs: number;
  /** True when there was nobody else to join: this node starts a cluster on its own. */
  readonly alone: boolean;
  /** The gossip addresses the last attempt contacted. */
  readonly contacted: readonly string[];
  /** Why joining failed; undefined when joined. */
  readonly reason?: string;
}

/** What a {@link JoinLoop} needs from its shell. */
export interface JoinLoopContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly random: () => number;
  readonly backoff?: Partial<JoinBackoff> | undefined;
  readonly resolveHost: HostResolver;
  readonly localAddresses?: (() => ReadonlySet<string>) | undefined;
  /** The socket's family: a udp4 socket cannot reach IPv6 seeds, and the reverse unless it is dual-stack. */
  readonly family: DatagramFamily;
  readonly dualStack: boolean;
  readonly bound: DatagramBound;
  readonly advertiseAddr: string;
  /** Sends the machine's join digest to these gossip addresses. */
  contact(seeds: readonly string[]): void;
  /** True once the shell closed or is leaving: the loop ends. */
  stopped(): boolean;
}

/**
 * Joins through `cluster.join` with retries, as Piko does after boot: resolve every entry (each A/AAAA record
 * of a name, names re-resolved at every attempt since a StatefulSet's records appear late), contact the peers,
 * wait for any digest (`synced`), else back off and try again until the timeout. Owned by one shell.
 */
export class JoinLoop {
  readonly #ctx: JoinLoopContext;
  #running: Promise<JoinResult> | undefined;
  #synced = false;
  #stopped = false;
  #wake: ((synced: boolean) => void) | undefined;

  constructor(ctx: JoinLoopContext) {
    this.#ctx = ctx;
  }

  /** A digest arrived from a peer: this node is in touch with the cluster. */
  synced(): void {
    this.#synced = true;
    this.#wake?.(true);
  }

  /** Ends a running join (the shell closed); it resolves as not joined. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.(false);
  }

  /** Runs the join once; later calls return the same result. */
  run(entries: readonly string[], timeoutMs: number, onAttempt?: (attempt: number) => void): Promise<JoinResult> {
    this.#running ??= this.#run(entries, timeoutMs, onAttempt);
    return this.#running;
  }

  async #run(entries: readonly string[], timeoutMs: number, onAttempt?: (attempt: number) => void): Promise<JoinResult> {
    const { clock, log } = this.#ctx;
    const started = clock.now();
    const result = (joined: boolean, attempts: number, alone: boolean, contacted: readonly string[], reason?: string): JoinResult => ({
      joined,
      attempts,
      elapsedMs: clock.now() - started,
      alone,
      contacted,
      ...(reason === undefined ? {} : { reason }),
    });
    if (entries.length === 0) return result(true, 0, true, []);
    const backoff = { ...DEFAULT_JOIN_BACKOFF, ...this.#ctx.backoff };
    let delay = backoff.minMs;
    let contacted: readonly string[] = [];
    for (let attempt = 1; ; attempt += 1) {
      if (this.#isStopped()) return result(false, attempt - 1, false, contacted, 'gossip stopped before joining');
      const seeds = await this.#resolve(entries, attempt === 1);
      if (this.#isStopped()) return result(false, attempt, false, contacted, 'gossip stopped before joining');
      contacted = seeds.peers;
      if (seeds.peers.length === 0 && seeds.self > 0) {
        log.info('gossip join list names only this node: starting a cluster', { entries: entries.join(',') });
        onAttempt?.(attempt);
        return result(true, attempt, true, []);
      }
      if (seeds.peers.length > 0) {
        log.info('gossip joining', { attempt, seeds: seeds.peers.join(',') });
        this.#ctx.contact(seeds.peers);
      } else {
        log.warn('gossip join: no address to contact', { attempt, entries: entries.join(',') });
      }
      const remaining = timeoutMs - (clock.now() - started);
      const wait = Math.min(delay * (1 + 0.1 * this.#ctx.random()), Math.max(0, remaining));
      const synced = this.#synced || (wait > 0 && (await this.#sleep(wait)));
      onAttempt?.(attempt);
      if (synced || this.#synced) {
        log.info('gossip joined', { attempt, 'elapsed-ms': Math.round(clock.now() - started) });
        return result(true, attempt, false, contacted);
      }
      if (this.#isStopped()) return result(false, attempt, false, contacted, 'gossip stopped before joining');
      if (clock.now() - started >= timeoutMs) {
        const reason = `no cluster member answered within ${timeoutMs} ms (${attempt} attempts)`;
        log.warn('gossip join failed', { attempts: attempt, reason, entries: entries.join(',') });
        return result(false, attempt, false, contacted, reason);
      }
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }

  #isStopped(): boolean {
    return this.#stopped || this.#ctx.stopped();
  }

  #sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let cancel: Cancel | undefined;
      const wake = (synced: boolean): void => {
        if (this.#wake !== wake) return;
        this.#wake = undefined;
        cancel?.();
        resolve(synced);
      };
      this.#wake = wake;
      cancel = this.#ctx.clock.schedule(ms, () => wake(false));
    });
  }

  /** Every address the entries name now, split into peers and this node; names that fail are logged and skipped. */
  async #resolve(entries: readonly string[], first: boolean): Promise<{ peers: string[]; self: number }> {
    const { bound, log } = this.#ctx;
    const peers = new Set<string>();
    let self = 0;
    const locals = (this.#ctx.localAddresses ?? localAddresses)();
    for (const entry of entries) {
      const hp = parseSeed(entry, bound.port);
      if (hp === undefined) {
        if (first) log.warn('gossip join address is not host[:port]; skipped', { entry });
        continue;
      }
      let hosts: readonly string[];
      if (isIpLiteral(hp.host)) hosts = [hp.host];
      else {
        try {
          hosts = await this.#ctx.resolveHost(hp.host);
        } catch (err) {
          log.warn('gossip join name did not resolve', { entry, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
      }
      for (const raw of hosts) {
        const ip = unmapIPv4(raw);
        if (!this.#reachable(ip)) continue;
        if (this.#isSelf(ip, hp.port, locals)) self += 1;
        else peers.add(joinHostPort(ip, hp.port));
      }
    }
    return { peers: [...peers], self };
  }

  #reachable(ip: string): boolean {
    if (this.#ctx.family === 'udp4') return isIPv4(ip);
    return this.#ctx.dualStack || isIPv6(ip);
  }

  #isSelf(ip: string, port: number, locals: ReadonlySet<string>): boolean {
    const { bound, advertiseAddr } = this.#ctx;
    if (joinHostPort(ip, port) === advertiseAddr) return true;
    if (port !== bound.port) return false;
    const boundHost = unmapIPv4(bound.address);
    return ip === boundHost || (WILDCARD_HOSTS.has(boundHost) && locals.has(ip));
  }
}
