import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { join, relative } from 'node:path';
import { Fixtures, SkipError, firstLine } from './lib/fixtures.js';
import { pickLoadGenerator } from './lib/load.js';
import { USAGE, parseOptions, variantNote } from './lib/options.js';
import { Managed, PRODUCT_NODE_FLAGS, ROOT, fdLimits, runTool, which } from './lib/proc.js';
import { markdown, remarks, svgChart, tables, textTable, type Meta } from './lib/report.js';
import { HTTP_COMPARED, addRoundRatios, checkTargets, summarize, type Round } from './lib/summary.js';
import { outcome, type Options, type Outcome, type Scenario } from './lib/types.js';
import { bulk } from './scenarios/bulk.js';
import { cluster } from './scenarios/cluster.js';
import { direct, forwardHttp, nginx, nodeProxy, tunnelHttp, variantScenarios } from './scenarios/http.js';
import { idle } from './scenarios/idle.js';
import { tunnelTcp } from './scenarios/tcp.js';

const SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  [direct, nginx, nodeProxy, tunnelHttp, forwardHttp, ...variantScenarios, tunnelTcp, bulk, idle, cluster].map((s) => [s.id, s]),
);

/** The progress line on stderr: rewritten in place on a terminal, one line per step otherwise. */
class Progress {
  private readonly t0 = performance.now();
  private readonly tty = process.stderr.isTTY === true;
  prefix = '';

  show(what: string): void {
    const s = Math.round((performance.now() - this.t0) / 1000);
    const line = `[bench ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s] ${this.prefix}${what}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }

  /** A line that stays (a note or a finished step). */
  log(text: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}\n`);
    else process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function toolVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const probes: Array<[string, string[], RegExp]> = [
    ['wrk', ['--version'], /wrk (\S+)/],
    ['nginx', ['-v'], /nginx\/(\S+)/],
    ['iperf3', ['--version'], /iperf (\S+)/],
  ];
  for (const [name, args, re] of probes) {
    const bin = which(name);
    if (bin === undefined) {
      out[name] = 'not installed';
      continue;
    }
    const r = await runTool(bin, args, 5000);
    out[name] = re.exec(`${r.stdout}\n${r.stderr}`)?.[1] ?? 'installed';
  }
  return out;
}

/** A file name under `dir` that does not exist yet: `<date>-<commit>`, then `-2`, `-3`… */
function resultBase(dir: string, date: string, commit: string): string {
  let base = join(dir, `${date}-${commit}`);
  for (let i = 2; existsSync(`${base}.json`); i++) base = join(dir, `${date}-${commit}-${i}`);
  return base;
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function runScenario(s: Scenario, ctx: Parameters<Scenario['run']>[0]): Promise<Outcome> {
  try {
    return await s.run(ctx);
  } catch (err) {
    const o = outcome();
    if (err instanceof SkipError) return { ...o, status: 'skipped', reason: err.message };
    return { ...o, status: 'error', reason: firstLine(err) };
  }
}

async function main(opts: Options, fixtures: Fixtures, progress: Progress): Promise<void> {
  const t0 = performance.now();
  const general: string[] = [];
  const { gen, note } = pickLoadGenerator(opts.loadGen);
  if (note !== undefined) general.push(note);
  let ids = [...opts.scenarios];
  if (ids.some((id) => (HTTP_COMPARED as readonly string[]).includes(id)) && !ids.includes('direct')) {
    ids = ['direct', ...ids];
    general.push('direct added: the HTTP ratios are taken against it in the same round');
  }
  general.push(`product processes run with the recommended Node flags: node ${PRODUCT_NODE_FLAGS.join(' ')}`);
  const vNote = variantNote(opts);
  if (vNote !== undefined) general.push(vNote);
  for (const n of general) progress.log(`note: ${n}`);

  const rounds: Round[] = [];
  for (let r = 0; r < opts.repetitions; r++) {
    const start = r % ids.length;
    const order = [...ids.slice(start), ...ids.slice(0, start)];
    const round: Round = { round: r + 1, order, outcomes: {} };
    for (const [i, id] of order.entries()) {
      if (closing) return;
      const s = SCENARIOS[id] as Scenario;
      progress.prefix = `round ${r + 1}/${opts.repetitions} · ${i + 1}/${order.length} `;
      progress.show(`${id}: starting`);
      const o = await runScenario(s, { opts, fixtures, load: gen, progress: (w) => progress.show(w) });
      round.outcomes[id] = o;
      if (o.status !== 'ok') progress.log(`${id}: ${o.status}: ${o.reason ?? ''}`);
    }
    if (closing) return;
    addRoundRatios(round);
    rounds.push(round);
  }
  progress.done();

  const summary = summarize(rounds, ids);
  const targets = checkTargets(summary, opts.idleUpstreams, opts.connections, opts.bulkMiB);
  const commit = git(['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const meta: Meta = {
    date: new Date().toISOString(),
    commit,
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    os: `Linux ${release()}`,
    loadGenerator: gen.name,
    tools: await toolVersions(),
    fdLimit: fdLimits(),
    options: { ...opts, scenarios: ids, outDir: relative(ROOT, opts.outDir) || '.', productDir: relative(ROOT, opts.productDir) || '.' },
    elapsedS: (performance.now() - t0) / 1000,
  };

  const notes = remarks(summary, general);
  for (const t of tables(summary, targets, opts.connections)) {
    process.stdout.write(`\n${t.title}\n${textTable(t.headers, t.rows)}\n`);
  }
  if (notes.length > 0) process.stdout.write(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`);

  mkdirSync(opts.outDir, { recursive: true });
  const base = resultBase(opts.outDir, meta.date.slice(0, 10), commit);
  const svgName = `${base.slice(base.lastIndexOf('/') + 1)}.svg`;
  writeAtomic(`${base}.json`, JSON.stringify({ meta, summary, targets, notes, rounds }, null, 2) + '\n');
  writeAtomic(`${base}.md`, markdown(meta, summary, targets, notes, svgName));
  writeAtomic(`${base}.svg`, svgChart(meta, summary));
  process.stdout.write(`\nResults: ${relative(process.cwd(), base)}.{json,md,svg}\n`);
}

const progress = new Progress();
let fixtures: Fixtures | undefined;
let closing = false;

async function shutdown(code: number): Promise<never> {
  if (!closing) {
    closing = true;
    await fixtures?.close().catch(() => {});
  }
  process.exit(code);
}

process.on('exit', () => Managed.killAllSync());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    progress.done();
    process.stderr.write(`\n${sig}: stopping everything the bench started\n`);
    void shutdown(130);
  });
}

let opts: Options | undefined;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${firstLine(err)}\n\n${USAGE}`);
  process.exit(2);
}
if (opts === undefined) {
  process.stdout.write(USAGE);
  process.exit(0);
}
fixtures = new Fixtures(opts.productDir, opts.variantFlags, opts.variantDir);
main(opts, fixtures, progress).then(
  () => shutdown(0),
  (err: unknown) => {
    progress.done();
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return shutdown(1);
  },
);
