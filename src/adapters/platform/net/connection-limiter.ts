/**
 * The key a client address is counted under: IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack
 * listener reports IPv4 clients) count as their IPv4 address, so one client is one key whichever way it came.
 */
export function clientKey(remoteAddress: string | undefined): string {
  const address = remoteAddress ?? '';
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Counts open connections per client address and refuses one past `maxPerKey` (0 turns the limit off). The
 * map holds only keys with at least one open connection, so it is bounded by the number of open connections.
 * Mutated only on the event loop, by the server that owns it.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerKey: number) {}

  /** True when the limit is on. */
  get enabled(): boolean {
    return this.maxPerKey > 0;
  }

  /** Connections open for `key`. */
  count(key: string): number {
    return this.open.get(key) ?? 0;
  }

  /** Number of keys with open connections. */
  get keys(): number {
    return this.open.size;
  }

  /**
   * Takes a slot for a new connection from `key`; returns false (and takes nothing) when `key` already has
   * `maxPerKey` open. Every true answer must be matched by one {@link release}.
   */
  acquire(key: string): boolean {
    if (!this.enabled) return true;
    const n = this.open.get(key) ?? 0;
    if (n >= this.maxPerKey) return false;
    this.open.set(key, n + 1);
    return true;
  }

  /** Gives back the slot of a closed connection from `key`. */
  release(key: string): void {
    if (!this.enabled) return;
    const n = this.open.get(key) ?? 0;
    if (n <= 1) this.open.delete(key);
    else this.open.set(key, n - 1);
  }
}
