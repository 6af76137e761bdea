import type { Upstream } from '../upstream/upstream.js';

/**
 * Round-robin over the local upstreams of one endpoint. Adding an upstream twice or removing one that is not
 * there does nothing, so removal racing with a session close cannot be counted twice (Piko's §15 #4).
 * Mutated only by RoutingTable, on the event loop.
 */
export class RoundRobin<U extends Upstream> {
  private readonly items: U[] = [];
  private cursor = 0;

  /** Number of upstreams in the rotation. */
  get size(): number {
    return this.items.length;
  }

  /** Adds `upstream`; returns false if an upstream with its ID was already present. */
  add(upstream: U): boolean {
    if (this.items.some((u) => u.id === upstream.id)) return false;
    this.items.push(upstream);
    return true;
  }

  /** Removes the upstream with `id`; returns false if it was not present. */
  remove(id: string): boolean {
    const index = this.items.findIndex((u) => u.id === id);
    if (index < 0) return false;
    this.items.splice(index, 1);
    // Keep the cursor on the element that would have come next.
    if (index < this.cursor) this.cursor -= 1;
    if (this.cursor >= this.items.length) this.cursor = 0;
    return true;
  }

  /**
   * The next upstream in turn, skipping those for which `skip` is true (ones that just failed). Returns
   * undefined when every upstream is skipped or none is left.
   */
  next(skip?: (upstream: U) => boolean): U | undefined {
    const n = this.items.length;
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n;
      const candidate = this.items[index] as U;
      if (skip !== undefined && skip(candidate)) continue;
      this.cursor = (index + 1) % n;
      return candidate;
    }
    return undefined;
  }

  /** A snapshot of the upstreams in rotation order. */
  list(): readonly U[] {
    return [...this.items];
  }
}
