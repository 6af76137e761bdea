import { variantBase } from './options.js';
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
export const HTTP_COMPARED = [
  'nginx', 'node-proxy', 'tunnel-http', 'forward-http', 'tunnel-http+flags', 'forward-http+flags', 'tunnel-http+variant', 'forward-http+variant',
] as const;

/**
 * Adds `rpsRatio` and `p50Ratio1c` to each compared HTTP scenario, against `direct` in the same round, and the
 * tunnel's ratios to `node-proxy` (see {@link addNodeProxyRatios}): the ratio is taken inside the round so
 * that slow drift of the machine cancels out.
 */
export function addRoundRatios(round: Round): void {
  addVariantRatios(round);
  addNodeProxyRatios(round);
  const d = round.outcomes.direct;
  if (d === undefined || d.status !== 'ok') return;
  for (const id of HTTP_COMPARED) {
    const o = round.outcomes[id];
    if (o === undefined || o.status !== 'ok') continue;
    if (o.metrics.rps !== undefined && d.metrics.rps) o.metrics.rpsRatio = o.metrics.rps / d.metrics.rps;
    if (o.metrics.p50Ms1c !== undefined && d.metrics.p50Ms1c) o.metrics.p50Ratio1c = o.metrics.p50Ms1c / d.metrics.p50Ms1c;
  }
}

/** Sets `metrics[key]` to a / b when both are numbers and b is not 0. */
function ratio(metrics: Record<string, number>, key: string, a: number | undefined, b: number | undefined): void {
  if (a !== undefined && b !== undefined && b !== 0) metrics[key] = a / b;
}

/**
 * Adds `rpsVsNodeProxy`, `cpuVsNodeProxy` and `p50VsNodeProxy1c` to `tunnel-http` (and its twins) against
 * `node-proxy` of the same round: the targets compare the tunnel with one ordinary Node proxy hop.
 */
export function addNodeProxyRatios(round: Round): void {
  const np = round.outcomes['node-proxy'];
  if (np === undefined || np.status !== 'ok') return;
  for (const id of ['tunnel-http', 'tunnel-http+flags', 'tunnel-http+variant']) {
    const o = round.outcomes[id];
    if (o === undefined || o.status !== 'ok') continue;
    ratio(o.metrics, 'rpsVsNodeProxy', o.metrics.rps, np.metrics.rps);
    ratio(o.metrics, 'cpuVsNodeProxy', o.metrics.cpuUsPerReq, np.metrics.cpuUsPerReq);
    ratio(o.metrics, 'p50VsNodeProxy1c', o.metrics.p50Ms1c, np.metrics.p50Ms1c);
  }
}

/**
 * Adds `rpsVsBase`, `cpuVsBase` and `p50VsBase1c` to each twin (`<id>+flags`, `<id>+variant`) against `<id>`
 * in the same round: an experiment's before/after, taken inside the round like the ratios to direct.
 */
export function addVariantRatios(round: Round): void {
  for (const [id, v] of Object.entries(round.outcomes)) {
    const baseId = variantBase(id);
    if (baseId === undefined || v.status !== 'ok') continue;
    const b = round.outcomes[baseId];
    if (b === undefined || b.status !== 'ok') continue;
    ratio(v.metrics, 'rpsVsBase', v.metrics.rps, b.metrics.rps);
    ratio(v.metrics, 'cpuVsBase', v.metrics.cpuUsPerReq, b.metrics.cpuUsPerReq);
    ratio(v.metrics, 'p50VsBase1c', v.metrics.p50Ms1c, b.metrics.p50Ms1c);
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

/** A target, checked against the medians (of per-round ratios where the measure is a ratio of two scenarios). */
export interface TargetResult {
  readonly measure: string;
  readonly scenario: string;
  readonly value: number | undefined;
  readonly unit: string;
  readonly target: string;
  /** `info`: shown for reference, not a target; `not run`: a scenario it needs was not chosen. */
  readonly result: 'pass' | 'miss' | 'info' | 'not run' | 'n/a';
  readonly why?: string;
}

interface TargetDef {
  readonly measure: string;
  /** The scenarios it needs, all of them chosen (or, with `anyOf`, at least one); the first holds the metric. */
  readonly scenarios: readonly string[];
  readonly anyOf?: boolean;
  readonly metric: string | ((summary: Record<string, ScenarioSummary>) => number | undefined);
  readonly unit: string;
  /** `aim` is an informational row: the limit is what one would like, not a pass/miss. */
  readonly op: '>=' | '<=' | 'aim';
  readonly limit: number;
  /** Converts the stored metric to the unit shown. */
  readonly scale?: number;
}

/** The scenarios whose product processes count for the peak RSS under load (not the twins, not idle's own server). */
export const RSS_UNDER_LOAD = ['tunnel-http', 'forward-http', 'tunnel-tcp', 'bulk'] as const;

/** The highest peak RSS of `role` over {@link RSS_UNDER_LOAD}, in bytes; undefined when none of them had one. */
function peakUnderLoad(role: ProductRole): (summary: Record<string, ScenarioSummary>) => number | undefined {
  return (summary) => {
    const peaks = RSS_UNDER_LOAD.map((id) => peakRssByRole(summary[id]?.peakRss ?? {})[role]).filter((b): b is number => b !== undefined);
    return peaks.length > 0 ? Math.max(...peaks) : undefined;
  };
}

const MB = 1e-6;

const TARGETS: readonly TargetDef[] = [
  { measure: 'HTTP 1 KiB, {connections} conns: tunnel rps / node-proxy rps', scenarios: ['tunnel-http', 'node-proxy'], metric: 'rpsVsNodeProxy', unit: '×', op: '>=', limit: 1.0 },
  { measure: 'HTTP 1 KiB, {connections} conns: tunnel rps / direct rps', scenarios: ['tunnel-http', 'direct'], metric: 'rpsRatio', unit: '×', op: 'aim', limit: 0.4 },
  { measure: 'CPU per request: tunnel (server+agent) / node-proxy', scenarios: ['tunnel-http', 'node-proxy'], metric: 'cpuVsNodeProxy', unit: '×', op: '<=', limit: 1.5 },
  { measure: 'p50 at 1 connection: tunnel / node-proxy', scenarios: ['tunnel-http', 'node-proxy'], metric: 'p50VsNodeProxy1c', unit: '×', op: '<=', limit: 1.3 },
  { measure: '{bulkMiB} MiB HTTP download: tunnel / direct', scenarios: ['bulk'], metric: 'ratio', unit: '×', op: '>=', limit: 0.3 },
  { measure: 'TCP stream: through forward / direct', scenarios: ['tunnel-tcp'], metric: 'ratio', unit: '×', op: '>=', limit: 0.3 },
  { measure: 'Peak RSS under load, server (MB = 10⁶ bytes)', scenarios: RSS_UNDER_LOAD, anyOf: true, metric: peakUnderLoad('server'), unit: 'MB', op: '<=', limit: 100, scale: MB },
  { measure: 'Peak RSS under load, agent (MB = 10⁶ bytes)', scenarios: RSS_UNDER_LOAD, anyOf: true, metric: peakUnderLoad('agent'), unit: 'MB', op: '<=', limit: 80, scale: MB },
  { measure: 'Peak RSS under load, forward (MB = 10⁶ bytes)', scenarios: ['forward-http', 'tunnel-tcp'], anyOf: true, metric: peakUnderLoad('forward'), unit: 'MB', op: '<=', limit: 80, scale: MB },
  { measure: 'L4: HTTP through forward, {connections} conns: rps / direct rps', scenarios: ['forward-http', 'direct'], metric: 'rpsRatio', unit: '×', op: '>=', limit: 0.5 },
  { measure: 'Server RSS with 10,000 idle upstreams (MB = 10⁶ bytes)', scenarios: ['idle'], metric: 'projected10kRssBytes', unit: 'MB', op: '<=', limit: 200, scale: MB },
];

/**
 * Checks every target. A target whose scenarios were not chosen is listed as `not run` rather than dropped, so
 * every report has the same rows. `connections` and `bulkMiB` are the run's, named in the table.
 */
export function checkTargets(summary: Record<string, ScenarioSummary>, idleN: number, connections: number, bulkMiB = 100): TargetResult[] {
  const out: TargetResult[] = [];
  for (const t of TARGETS) {
    const target = t.op === 'aim' ? `aim ${t.limit} ${t.unit}` : `${t.op === '>=' ? '≥' : '≤'} ${t.limit} ${t.unit}`;
    let measure = t.measure.replace('{connections}', String(connections)).replace('{bulkMiB}', String(bulkMiB));
    if (t.metric === 'projected10kRssBytes' && idleN !== 10_000) measure += ` (projected from ${idleN})`;
    const scenario = t.scenarios.join(t.anyOf === true ? ' | ' : ' + ');
    const missing = t.scenarios.filter((id) => summary[id] === undefined);
    if (t.anyOf === true ? missing.length === t.scenarios.length : missing.length > 0) {
      out.push({ measure, scenario, value: undefined, unit: t.unit, target, result: 'not run', why: `not run: needs ${missing.join(t.anyOf === true ? ' or ' : ' and ')}` });
      continue;
    }
    const first = summary[t.scenarios[0] ?? ''];
    const raw = typeof t.metric === 'function' ? t.metric(summary) : first?.metrics[t.metric]?.median;
    const value = raw === undefined ? undefined : raw * (t.scale ?? 1);
    if (value === undefined) {
      const s = t.scenarios.map((id) => summary[id]).find((x) => x !== undefined && x.status !== 'ok') ?? first;
      out.push({ measure, scenario, value, unit: t.unit, target, result: 'n/a', why: s?.reasons[0] ?? s?.notes[0] ?? 'not measured' });
      continue;
    }
    const result = t.op === 'aim' ? 'info' : (t.op === '>=' ? value >= t.limit : value <= t.limit) ? 'pass' : 'miss';
    out.push({ measure, scenario, value, unit: t.unit, target, result });
  }
  return out;
}
