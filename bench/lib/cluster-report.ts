import type { ScenarioSummary, Spread } from './summary.js';

type Row = readonly string[];

/** A table in the shape `report.ts` prints and writes to Markdown. */
export interface ReportTable {
  readonly title: string;
  readonly headers: Row;
  readonly rows: Row[];
}

function num(v: number | undefined, digits: number): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

/** The median with the min–max of the rounds when they differ. */
function spread(s: Spread | undefined, digits: number): string {
  if (s === undefined) return '–';
  return s.n > 1 && s.min !== s.max ? `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})` : num(s.median, digits);
}

/**
 * The cluster scenario's two tables: propagation and failure detection (sampled once, in milliseconds), and
 * throughput through the node holding the upstream against one forwarded hop (median over the rounds, with
 * each process's CPU share of the run so that a saturated process shows). Empty when the scenario did not run.
 */
export function clusterTables(summary: Record<string, ScenarioSummary>, connections: number): ReportTable[] {
  const s = summary.cluster;
  if (s === undefined) return [];
  const m = s.metrics;
  const v = (key: string, digits = 0): string => num(m[key]?.median, digits);
  const out: ReportTable[] = [];
  const timing: Row[] = [];
  const sizes = [
    ...new Set(
      Object.keys(m)
        .map((k) => /^prop(\d+)Trials$/.exec(k)?.[1])
        .filter((x): x is string => x !== undefined),
    ),
  ].sort((a, b) => Number(a) - Number(b));
  for (const n of sizes) {
    timing.push([
      `propagation: endpoint registered on 1 node → 200 through all ${Number(n) - 1} others`,
      n,
      `${v(`prop${n}Trials`)}${m[`prop${n}Missed`]?.median ? ` (+${v(`prop${n}Missed`)} missed)` : ''}`,
      v(`prop${n}P50Ms`),
      v(`prop${n}P90Ms`),
      v(`prop${n}P99Ms`),
      v(`prop${n}MaxMs`),
    ]);
  }
  if (m.detectTrials !== undefined) {
    const missed = m.detectMissed?.median ? ` (+${v('detectMissed')} missed)` : '';
    timing.push(['detection: kill -9 → unreachable, each survivor', '3', `${v('detectTrials')}×2${missed}`, v('detectP50Ms'), '–', '–', v('detectMaxMs')]);
    timing.push(['detection: kill -9 → unreachable on both survivors', '3', `${v('detectTrials')}${missed}`, v('detectAllP50Ms'), '–', '–', v('detectAllMaxMs')]);
  }
  if (timing.length > 0) {
    out.push({ title: 'Cluster: propagation and failure detection, real processes on 127.0.0.1 (ms)', headers: ['measure', 'nodes', 'trials', 'p50', 'p90', 'p99', 'max'], rows: timing });
  }
  const cpu = (path: string): string =>
    ['nodeA', 'nodeB', 'agent', 'upstream']
      .map((p) => `${p} ${num(m[`${path}CpuPct.${p}`]?.median, 0)}`)
      .join(', ');
  const paths: Row[] = [];
  for (const [path, label] of [
    ['local', 'local: client → node A → agent → upstream'],
    ['remote', 'remote: client → node B → node A → agent → upstream'],
  ] as const) {
    if (m[`${path}Rps`] === undefined) continue;
    paths.push([
      label,
      spread(m[`${path}Rps`], 0),
      path === 'local' ? '1' : spread(m.remoteRatio, 3),
      num(m[`${path}P50Ms`]?.median, 2),
      num(m[`${path}P99Ms`]?.median, 2),
      num(m[`${path}CpuUsPerReq`]?.median, 1),
      cpu(path),
      num(m[`${path}MachineBusyPct`]?.median, 0),
    ]);
  }
  if (paths.length > 0) {
    out.push({
      title: `Cluster: HTTP 1 KiB, ${connections} connections, local vs forwarded one hop: median over rounds (min–max)`,
      headers: ['path', 'rps', '× local', 'p50 ms', 'p99 ms', 'own CPU µs/req', 'CPU % of one core', 'machine busy %'],
      rows: paths,
    });
  }
  return out;
}
