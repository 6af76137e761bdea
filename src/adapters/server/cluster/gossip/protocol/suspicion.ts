/**
 * Lifeguard's dynamic suspicion timeout: it starts at `maxMs` and falls towards `minMs` as independent members
 * confirm the suspicion, `timeout(C) = max(min, max − (max − min) · log(C + 1) / log(K + 1))`. With K = 0 (a
 * cluster too small to expect confirmations) it is `minMs` at once.
 */
export function suspicionTimeout(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k <= 0) return minMs;
  const c = Math.min(confirmations, k);
  const timeout = maxMs - ((maxMs - minMs) * Math.log(c + 1)) / Math.log(k + 1);
  return Math.max(minMs, timeout);
}

/** How many confirmations to expect in a cluster of `liveMembers` (self and the suspect included). */
export function expectedConfirmations(configured: number, liveMembers: number): number {
  return Math.max(0, Math.min(configured, liveMembers - 2));
}

/**
 * One running suspicion of a member at one incarnation: who suspects it, and when it turns into "dead". Held
 * by the member table; mutated only by the gossip machine.
 */
export class Suspicion {
  readonly incarnation: number;
  readonly startedAt: number;
  /** The member that suspected first (named when the suspicion is passed on). */
  readonly by: string;
  readonly #suspectors = new Set<string>();
  readonly #k: number;
  readonly #minMs: number;
  readonly #maxMs: number;

  constructor(
    incarnation: number,
    startedAt: number,
    firstSuspector: string,
    options: { k: number; minMs: number; maxMs: number },
  ) {
    this.incarnation = incarnation;
    this.startedAt = startedAt;
    this.by = firstSuspector;
    this.#suspectors.add(firstSuspector);
    this.#k = options.k;
    this.#minMs = options.minMs;
    this.#maxMs = options.maxMs;
  }

  /** Confirmations so far (suspectors beyond the first). */
  get confirmations(): number {
    return this.#suspectors.size - 1;
  }

  /** Records a suspicion by `from`; returns true when it is a new, independent confirmation. */
  confirm(from: string): boolean {
    if (this.#suspectors.has(from)) return false;
    this.#suspectors.add(from);
    return true;
  }

  /** When the member is declared dead unless it refutes first. */
  get deadline(): number {
    return this.startedAt + suspicionTimeout(this.confirmations, this.#k, this.#minMs, this.#maxMs);
  }
}
