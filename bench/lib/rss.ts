/** The product's processes, by role: what a user runs and pays memory for. */
export const PRODUCT_ROLES = ['server', 'agent', 'forward'] as const;

/** One of {@link PRODUCT_ROLES}. */
export type ProductRole = (typeof PRODUCT_ROLES)[number];

/**
 * The highest value seen per key. The sampler feeds it VmRSS readings taken on a timer; a key that was never
 * observed has no peak (undefined), which is not the same as a peak of 0. Mutated only by `observe`.
 */
export class PeakTracker {
  private readonly peaks = new Map<string, number>();

  /** Records one reading; readings that are not finite numbers (a process already gone) are ignored. */
  observe(key: string, value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const prev = this.peaks.get(key);
    if (prev === undefined || value > prev) this.peaks.set(key, value);
  }

  /** The peak of `key`, or undefined when it was never observed. */
  get(key: string): number | undefined {
    return this.peaks.get(key);
  }

  /** Every peak, as a plain object (for the results file). */
  toRecord(): Record<string, number> {
    return Object.fromEntries(this.peaks);
  }
}

/**
 * The role of a watched process from its name in the bench (`server`, `agent-iperf`, `forward-l4` …), or
 * undefined for what is not the product (the upstream, the one-hop proxies, the cluster's nodes, which have
 * their own table).
 */
export function roleOf(processName: string): ProductRole | undefined {
  return PRODUCT_ROLES.find((r) => processName === r || processName.startsWith(`${r}-`));
}

/**
 * Peak RSS per product role: the highest peak of the processes of that role (a scenario can watch two agents,
 * such as the stream's and iperf3's). Roles with no process are absent.
 */
export function peakRssByRole(peakRss: Readonly<Record<string, number>>): Partial<Record<ProductRole, number>> {
  const t = new PeakTracker();
  for (const [name, bytes] of Object.entries(peakRss)) {
    const role = roleOf(name);
    if (role !== undefined) t.observe(role, bytes);
  }
  const out: Partial<Record<ProductRole, number>> = {};
  for (const r of PRODUCT_ROLES) {
    const v = t.get(r);
    if (v !== undefined) out[r] = v;
  }
  return out;
}

/**
 * The rows of the "peak RSS under load" table: one per scenario that ran a product process, with the server,
 * agent and forward peaks in MiB (a dash where the scenario has no such process) and their sum.
 */
export function rssRows(summaries: ReadonlyArray<readonly [string, Readonly<Record<string, number>>]>): string[][] {
  const rows: string[][] = [];
  for (const [id, peakRss] of summaries) {
    const byRole = peakRssByRole(peakRss);
    const present = PRODUCT_ROLES.filter((r) => byRole[r] !== undefined);
    if (present.length === 0) continue;
    const total = present.reduce((s, r) => s + (byRole[r] ?? 0), 0);
    rows.push([id, ...PRODUCT_ROLES.map((r) => mibText(byRole[r])), mibText(total)]);
  }
  return rows;
}

/** Bytes as MiB with one decimal, or a dash. */
export function mibText(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '–' : (bytes / (1 << 20)).toFixed(1);
}
