import { clusterTables } from './cluster-report.js';
import { mibText, peakRssByRole, rssRows } from './rss.js';
import { variantBase } from './options.js';
import type { ScenarioSummary, Spread, TargetResult } from './summary.js';

/** Run facts recorded with every result. */
export interface Meta {
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly os: string;
  readonly loadGenerator: string;
  readonly tools: Record<string, string>;
  readonly fdLimit: { soft: number; hard: number };
  readonly options: Record<string, unknown>;
  readonly elapsedS: number;
}

type Row = readonly string[];

/** A plain-text table with right-aligned numbers. */
export function textTable(headers: Row, rows: readonly Row[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: Row): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown. */
export function mdTable(headers: Row, rows: readonly Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `|${headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** A number with `digits` significant decimals, or a dash. */
export function num(v: number | undefined, digits = 2): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(Math.max(0, digits - 2));
  return v.toFixed(digits);
}

const mib = (b: number | undefined): string => (b === undefined ? '–' : (b / (1 << 20)).toFixed(1));

function spread(s: Spread | undefined, digits = 2): string {
  if (s === undefined) return '–';
  return s.n > 1 && s.min !== s.max ? `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})` : num(s.median, digits);
}

const HTTP_IDS = ['direct', 'nginx', 'node-proxy', 'tunnel-http', 'tunnel-http+flags', 'tunnel-http+variant', 'forward-http', 'forward-http+flags', 'forward-http+variant'];

/** The tables every report shows, as header and rows, for text and Markdown alike. */
export function tables(
  summary: Record<string, ScenarioSummary>,
  targets: readonly TargetResult[],
  connections: number,
): Array<{ title: string; headers: Row; rows: Row[] }> {
  const out: Array<{ title: string; headers: Row; rows: Row[] }> = [];
  const http = HTTP_IDS.filter((id) => summary[id] !== undefined);
  if (http.length > 0) {
    out.push({
      title: `HTTP 1 KiB: median over rounds (min–max); latency in ms; RSS in MiB`,
      headers: ['scenario', 'status', `rps @${connections}`, '× direct', 'p50', 'p99', 'p50 @1', 'own CPU µs/req', 'upstream CPU µs/req', 'peak RSS'],
      rows: http.map((id) => {
        const s = summary[id] as ScenarioSummary;
        const m = s.metrics;
        const rss = Object.entries(s.peakRss)
          .filter(([name]) => id === 'direct' || name !== 'upstream')
          .map(([name, b]) => `${name} ${mib(b)}`)
          .join(', ');
        return [
          id,
          s.status,
          spread(m.rps, 0),
          id === 'direct' ? '1' : spread(m.rpsRatio, 3),
          num(m.p50Ms?.median, 3),
          num(m.p99Ms?.median, 3),
          num(m.p50Ms1c?.median, 3),
          num(m.cpuUsPerReq?.median, 1),
          num(m.upstreamCpuUsPerReq?.median, 1),
          rss || '–',
        ];
      }),
    });
  }
  const other: Row[] = [];
  const add = (id: string, label: string, metric: string, unit: string, digits = 2, scale = 1): void => {
    const s = summary[id]?.metrics[metric];
    if (s === undefined) return;
    const scaled = { median: s.median * scale, min: s.min * scale, max: s.max * scale, n: s.n };
    other.push([id, label, spread(scaled, digits), unit]);
  };
  add('bulk', 'direct download', 'directMiBps', 'MiB/s', 0);
  add('bulk', 'tunnel download', 'tunnelMiBps', 'MiB/s', 0);
  add('bulk', 'tunnel / direct', 'ratio', '×', 3);
  add('bulk', 'tunnel own CPU', 'cpuUsPerMiB', 'µs/MiB', 0);
  add('tunnel-tcp', 'direct stream', 'directGbps', 'Gbit/s');
  add('tunnel-tcp', 'stream through forward', 'tunnelGbps', 'Gbit/s');
  add('tunnel-tcp', 'forward / direct', 'ratio', '×', 3);
  add('tunnel-tcp', 'tunnel own CPU', 'cpuUsPerMiB', 'µs/MiB', 0);
  add('tunnel-tcp', 'iperf3 direct', 'iperfDirectGbps', 'Gbit/s');
  add('tunnel-tcp', 'iperf3 through forward', 'iperfTunnelGbps', 'Gbit/s');
  add('idle', 'connections open', 'connected', 'count', 0);
  add('idle', 'time to connect all', 'connectMs', 's', 2, 1e-3);
  add('idle', 'server RSS before', 'baselineRssBytes', 'MiB', 1, 1 / (1 << 20));
  add('idle', 'server RSS with all open', 'rssBytes', 'MiB', 1, 1 / (1 << 20));
  add('idle', 'server RSS per connection', 'rssPerConnBytes', 'KiB', 1, 1 / 1024);
  add('idle', 'open after the hold', 'stillOpen', 'count', 0);
  add('idle', 'listed by the server', 'registered', 'count', 0);
  for (const id of ['bulk', 'tunnel-tcp']) {
    for (const [name, b] of Object.entries(summary[id]?.peakRss ?? {})) other.push([id, `peak RSS ${name}`, mib(b), 'MiB']);
  }
  if (other.length > 0) out.push({ title: 'Bulk, TCP and idle scale: median over rounds (min–max)', headers: ['scenario', 'measure', 'value', 'unit'], rows: other });
  const rss = rssRows(Object.entries(summary).map(([id, s]) => [id, s.peakRss] as const));
  if (rss.length > 0) {
    out.push({
      title: 'Peak RSS of the product under load (VmRSS sampled every 100 ms over the measured runs of every round), MiB',
      headers: ['scenario', 'server', 'agent', 'forward', 'sum'],
      rows: rss,
    });
  }
  const variants = Object.keys(summary).filter((id) => variantBase(id) !== undefined);
  if (variants.length > 0) {
    const suffixes = [...new Set(variants.map((id) => id.slice((variantBase(id) ?? '').length)))].join(', ');
    out.push({
      title: `Experiment: the ${suffixes} processes against the plain ones, same rounds (ratio within each round; median (min–max)); RSS in MiB`,
      headers: ['scenario', 'rps × plain', 'CPU/req × plain', 'p50@1 × plain', 'peak RSS plain (server/agent/forward)', 'peak RSS variant'],
      rows: variants.map((id) => {
        const v = summary[id] as ScenarioSummary;
        const roles = (s: ScenarioSummary | undefined): string => {
          const by = peakRssByRole(s?.peakRss ?? {});
          return [by.server, by.agent, by.forward].filter((b) => b !== undefined).map(mibText).join(' / ') || '–';
        };
        return [id, spread(v.metrics.rpsVsBase, 3), spread(v.metrics.cpuVsBase, 3), spread(v.metrics.p50VsBase1c, 3), roles(summary[variantBase(id) ?? '']), roles(v)];
      }),
    });
  }
  out.push(...clusterTables(summary, connections));
  if (targets.length > 0) {
    out.push({
      title: 'Targets',
      headers: ['measure', 'value', 'target', 'result'],
      rows: targets.map((t) => [
        t.measure,
        t.value === undefined ? '–' : `${num(t.value, t.unit === '×' ? 3 : 1)} ${t.unit}`,
        t.target,
        // The reason is in the notes below the tables.
        t.result !== 'n/a' ? t.result : (t.why?.startsWith('skipped') ? 'skipped' : t.why?.startsWith('error') ? 'error' : 'n/a'),
      ]),
    });
  }
  return out;
}

/** Skip reasons, errors and notes, one line each. */
export function remarks(summary: Record<string, ScenarioSummary>, general: readonly string[]): string[] {
  const out = [...general];
  for (const [id, s] of Object.entries(summary)) {
    for (const r of s.reasons) out.push(`${id}: ${r}`);
    for (const n of s.notes) out.push(`${id}: ${n}`);
  }
  return out;
}

/** The Markdown summary written beside the JSON. */
export function markdown(meta: Meta, summary: Record<string, ScenarioSummary>, targets: readonly TargetResult[], notes: readonly string[], svgName: string): string {
  const conns = Number(meta.options.connections ?? 50);
  const parts = [
    `# Benchmark ${meta.date} (${meta.commit}${meta.dirty ? ', uncommitted changes' : ''})`,
    '',
    `Node ${meta.node}, ${meta.cpus} CPUs (${meta.cpuModel}), ${meta.os}. Load: ${meta.loadGenerator}. ` +
      `Options: ${JSON.stringify(meta.options)}. Took ${Math.round(meta.elapsedS)} s.`,
    '',
    `Tools: ${Object.entries(meta.tools).map(([k, v]) => `${k} ${v}`).join(', ')}. Open-file limit ${meta.fdLimit.soft}/${meta.fdLimit.hard}.`,
    '',
    `![ratios to direct](${svgName})`,
  ];
  for (const t of tables(summary, targets, conns)) parts.push('', `## ${t.title}`, '', mdTable(t.headers, t.rows));
  if (notes.length > 0) parts.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return parts.join('\n') + '\n';
}

/** One bar of the chart: the median ratio and its spread over rounds. */
interface Bar {
  readonly label: string;
  readonly s: Spread;
  readonly target?: number;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart of every ratio to direct, with the min–max of the rounds and the target marks. */
export function svgChart(meta: Meta, summary: Record<string, ScenarioSummary>): string {
  const bars: Bar[] = [];
  const pick = (id: string, metric: string, label: string, target?: number): void => {
    const s = summary[id]?.metrics[metric];
    if (s !== undefined) bars.push({ label, s, ...(target !== undefined ? { target } : {}) });
  };
  pick('nginx', 'rpsRatio', 'nginx: rps, 1 KiB');
  pick('node-proxy', 'rpsRatio', 'node-proxy: rps, 1 KiB');
  pick('tunnel-http', 'rpsRatio', 'tunnel: rps, 1 KiB', 0.4);
  pick('forward-http', 'rpsRatio', 'forward: HTTP (L4), 1 KiB', 0.5);
  pick('bulk', 'ratio', `tunnel: ${String(meta.options.bulkMiB ?? 100)} MiB download`, 0.3);
  pick('tunnel-tcp', 'ratio', 'forward: TCP stream', 0.3);
  pick('tunnel-tcp', 'iperfRatio', 'forward: iperf3');

  const left = 190;
  const plotW = 460;
  const rowH = 30;
  const top = 56;
  const height = top + Math.max(1, bars.length) * rowH + 40;
  const width = left + plotW + 80;
  const maxV = Math.max(1.1, ...bars.map((b) => b.s.max));
  const x = (v: number): number => left + (v / maxV) * plotW;
  const el: string[] = [];
  el.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  el.push(`<text x="12" y="22" font-size="15" font-weight="bold">Throughput relative to direct (same round)</text>`);
  el.push(
    `<text x="12" y="40" font-size="11" fill="#555">${xmlEscape(`${meta.date} · ${meta.commit}${meta.dirty ? '+' : ''} · Node ${meta.node} · ${meta.cpus} CPUs · ${meta.loadGenerator} · median, whiskers min–max`)}</text>`,
  );
  for (let t = 0; t <= maxV + 1e-9; t += maxV > 2 ? 0.5 : 0.25) {
    const tx = x(t).toFixed(1);
    el.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + bars.length * rowH}" stroke="#e5e5e5"/>`);
    el.push(`<text x="${tx}" y="${top + bars.length * rowH + 16}" font-size="11" text-anchor="middle" fill="#555">${t.toFixed(2)}</text>`);
  }
  const one = x(1).toFixed(1);
  el.push(`<line x1="${one}" y1="${top - 8}" x2="${one}" y2="${top + bars.length * rowH}" stroke="#333" stroke-dasharray="4 3"/>`);
  el.push(`<text x="${one}" y="${top - 10}" font-size="10" text-anchor="middle" fill="#333">direct = 1</text>`);
  if (bars.length === 0) el.push(`<text x="${left}" y="${top + 20}" font-size="12" fill="#555">no ratio measured in this run</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const miss = b.target !== undefined && b.s.median < b.target;
    const color = b.label.startsWith('tunnel') || b.label.startsWith('forward') ? (miss ? '#d9534f' : '#2a7ab9') : '#8a8a8a';
    el.push(`<text x="${left - 8}" y="${y + 19}" font-size="12" text-anchor="end">${xmlEscape(b.label)}</text>`);
    el.push(`<rect x="${left}" y="${y + 6}" width="${Math.max(1, x(b.s.median) - left).toFixed(1)}" height="18" fill="${color}"/>`);
    if (b.s.n > 1) {
      const y0 = y + 15;
      el.push(`<line x1="${x(b.s.min).toFixed(1)}" y1="${y0}" x2="${x(b.s.max).toFixed(1)}" y2="${y0}" stroke="#000" stroke-width="1.2"/>`);
      for (const v of [b.s.min, b.s.max]) el.push(`<line x1="${x(v).toFixed(1)}" y1="${y0 - 5}" x2="${x(v).toFixed(1)}" y2="${y0 + 5}" stroke="#000" stroke-width="1.2"/>`);
    }
    if (b.target !== undefined) {
      const tx = x(b.target).toFixed(1);
      el.push(`<line x1="${tx}" y1="${y + 2}" x2="${tx}" y2="${y + 28}" stroke="#d9534f" stroke-width="2"/>`);
      el.push(`<text x="${tx}" y="${y + 2}" font-size="9" text-anchor="middle" fill="#d9534f">target ${b.target}</text>`);
    }
    el.push(`<text x="${(x(Math.max(b.s.median, b.s.max)) + 6).toFixed(1)}" y="${y + 19}" font-size="11">${b.s.median.toFixed(3)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n${el.join('\n')}\n</svg>\n`;
}
