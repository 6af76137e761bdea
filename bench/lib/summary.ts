import { peakRssByRole, type ProductRole } from './rss.js';
import type { Outcome } from './types.js';

/** One round: the order the scenarios ran in and what each gave. */
export interface Round {
  readonly round: number;
  readonly order: readonly string[];
  readonly outcomes: Record<string, Outcome>;
}

/** The spread of one metric over the rounds that measured it. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** A scenario over all rounds. */
export interface ScenarioSummary {
  /** ok if any round measured it; otherwise the status of the last round. */
  readonly status: 'ok' | 'skipped' | 'error';
  readonly metrics: Record<string, Spread>;
  /** Peak VmRSS of each process over every round and phase, in bytes. */
  readonly peakRss: Record<string, number>;
  /** The same peaks per product role (server, agent, forward): the highest process of each role. */
  readonly peakRssByRole?: Partial<Record<ProductRole, number>>;
  /** Distinct skip or error reasons, and notes. */
  readonly reasons: string[];
  readonly notes: string[];
}

/** The median (mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** The HTTP scenarios whose throughput is divided by the direct one of the same round. */
export const HTTP_COMPARED = ['nginx', 'node-proxy', 'tunnel-http', 'forward-http', 'tunnel-http+flags', 'forward-http+flags'] as const;

/**
 * Adds `rpsRatio` and `p50Ratio1c` to each compared HTTP scenario, against `direct` in the same round: the
 * ratio is taken inside the round so that slow drift of the machine cancels out.
 */
export function addRoundRatios(round: Round): void {
  addVariantRatios(round);
  const d = round.outcomes.direct;
  if (d === undefined || d.status !== 'ok') return;
  for (const id of HTTP_COMPARED) {
    const o = round.outcomes[id];
    if (o === undefined || o.status !== 'ok') continue;
    if (o.metrics.rps !== undefined && d.metrics.rps) o.metrics.rpsRatio = o.metrics.rps / d.metrics.rps;
    if (o.metrics.p50Ms1c !== undefined && d.metrics.p50Ms1c) o.metrics.p50Ratio1c = o.metrics.p50Ms1c / d.metrics.p50Ms1c;
  }
}

/**
 * Adds `rpsVsBase` and `cpuVsBase` to each `<id>+flags` scenario against `<id>` in the same round: an
 * experiment's before/after, taken inside the round like the ratios to direct.
 */
export function addVariantRatios(round: Round): void {
  for (const [id, v] of Object.entries(round.outcomes)) {
    if (!id.endsWith('+flags') || v.status !== 'ok') continue;
    const b = round.outcomes[id.slice(0, -'+flags'.length)];
    if (b === undefined || b.status !== 'ok') continue;
    if (v.metrics.rps !== undefined && b.metrics.rps) v.metrics.rpsVsBase = v.metrics.rps / b.metrics.rps;
    if (v.metrics.cpuUsPerReq !== undefined && b.metrics.cpuUsPerReq) v.metrics.cpuVsBase = v.metrics.cpuUsPerReq / b.metrics.cpuUsPerReq;
  }
}

/** Folds the rounds into one summary per scenario. Skipped rounds contribute what they did measure. */
export function summarize(rounds: readonly Round[], ids: readonly string[]): Record<string, ScenarioSummary> {
  const out: Record<string, ScenarioSummary> = {};
  for (const id of ids) {
    const outcomes = rounds.map((r) => r.outcomes[id]).filter((o): o is Outcome => o !== undefined);
    const usable = outcomes.filter((o) => o.status !== 'error');
    const values = new Map<string, number[]>();
    for (const o of usable) {
      for (const [k, v] of Object.entries(o.metrics)) {
        if (!Number.isFinite(v)) continue;
        const list = values.get(k) ?? [];
        list.push(v);
        values.set(k, list);
      }
    }
    const metrics: Record<string, Spread> = {};
    for (const [k, list] of values) metrics[k] = { median: median(list), min: Math.min(...list), max: Math.max(...list), n: list.length };
    const peakRss: Record<string, number> = {};
    for (const o of outcomes) {
      for (const phase of Object.values(o.usage)) {
        for (const u of phase) peakRss[u.name] = Math.max(peakRss[u.name] ?? 0, u.peakRssBytes);
      }
    }
    const status = outcomes.some((o) => o.status === 'ok') ? 'ok' : (outcomes.at(-1)?.status ?? 'skipped');
    out[id] = {
      status,
      metrics,
      peakRss,
      peakRssByRole: peakRssByRole(peakRss),
      reasons: [...new Set(outcomes.filter((o) => o.reason !== undefined).map((o) => `${o.status}: ${o.reason}`))],
      notes: [...new Set(outcomes.flatMap((o) => o.notes))],
    };
  }
  return out;
}

/** A target of the issue, checked against the medians. */
export interface TargetResult {
  readonly measure: string;
  readonly scenario: string;
  readonly value: number | undefined;
  readonly unit: string;
  readonly target: string;
  readonly result: 'pass' | 'miss' | 'n/a';
  readonly why?: string;
}

interface TargetDef {
  readonly measure: string;
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  readonly op: '>=' | '<=';
  readonly limit: number;
  /** Converts the stored metric to the unit shown. */
  readonly scale?: number;
}

const TARGETS: readonly TargetDef[] = [
  { measure: 'HTTP 1 KiB, {connections} conns: tunnel rps / direct rps', scenario: 'tunnel-http', metric: 'rpsRatio', unit: '×', op: '>=', limit: 0.24 },
  { measure: 'Tunnel CPU per request (server+agent)', scenario: 'tunnel-http', metric: 'cpuUsPerReq', unit: 'µs', op: '<=', limit: 100 },
  { measure: 'Tunnel p50 latency at 1 connection', scenario: 'tunnel-http', metric: 'p50Ms1c', unit: 'ms', op: '<=', limit: 0.25 },
  { measure: 'L4: HTTP through forward, {connections} conns: rps / direct rps', scenario: 'forward-http', metric: 'rpsRatio', unit: '×', op: '>=', limit: 0.5 },
  { measure: '100 MiB HTTP download through the tunnel', scenario: 'bulk', metric: 'tunnelMiBps', unit: 'MiB/s', op: '>=', limit: 700 },
  { measure: 'TCP bulk through forward (stream)', scenario: 'tunnel-tcp', metric: 'tunnelGbps', unit: 'Gbit/s', op: '>=', limit: 3.2 },
  { measure: 'TCP bulk through forward (iperf3)', scenario: 'tunnel-tcp', metric: 'iperfTunnelGbps', unit: 'Gbit/s', op: '>=', limit: 3.2 },
  { measure: 'Server RSS with 10,000 idle upstreams', scenario: 'idle', metric: 'projected10kRssBytes', unit: 'MB', op: '<=', limit: 300, scale: 1e-6 },
  { measure: 'Cluster, {connections} conns: forwarded rps / local rps', scenario: 'cluster', metric: 'remoteRatio', unit: '×', op: '>=', limit: 0.8 },
];

/** Checks every target whose scenario was selected; `connections` is the run's --connections, named in the table. */
export function checkTargets(summary: Record<string, ScenarioSummary>, idleN: number, connections: number): TargetResult[] {
  const out: TargetResult[] = [];
  for (const t of TARGETS) {
    const s = summary[t.scenario];
    if (s === undefined) continue;
    const raw = s.metrics[t.metric]?.median;
    const value = raw === undefined ? undefined : raw * (t.scale ?? 1);
    const target = `${t.op === '>=' ? '≥' : '≤'} ${t.limit} ${t.unit}`;
    let measure = t.measure.replace('{connections}', String(connections));
    if (t.metric === 'projected10kRssBytes' && idleN !== 10_000) measure += ` (projected from ${idleN})`;
    if (value === undefined) {
      out.push({ measure, scenario: t.scenario, value, unit: t.unit, target, result: 'n/a', why: s.reasons[0] ?? s.notes[0] ?? 'not measured' });
      continue;
    }
    const pass = t.op === '>=' ? value >= t.limit : value <= t.limit;
    out.push({ measure, scenario: t.scenario, value, unit: t.unit, target, result: pass ? 'pass' : 'miss' });
  }
  return out;
}
