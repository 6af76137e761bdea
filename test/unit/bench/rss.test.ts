import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from '../../../bench/lib/options.js';
import { tables } from '../../../bench/lib/report.js';
import { PeakTracker, mibText, peakRssByRole, roleOf, rssRows } from '../../../bench/lib/rss.js';
import { addRoundRatios, checkTargets, summarize, type Round, type ScenarioSummary } from '../../../bench/lib/summary.js';
import { outcome, type Outcome } from '../../../bench/lib/types.js';

const MIB = 1 << 20;

describe('bench peak RSS (issue 13)', () => {
  it('keeps the highest reading per key and ignores missing readings', () => {
    const t = new PeakTracker();
    t.observe('a', 5);
    t.observe('a', 9);
    t.observe('a', 7);
    t.observe('a', undefined);
    t.observe('a', NaN);
    t.observe('b', 0);
    assert.equal(t.get('a'), 9);
    assert.equal(t.get('b'), 0);
    assert.equal(t.get('c'), undefined);
    assert.deepEqual(t.toRecord(), { a: 9, b: 0 });
  });

  it('maps process names to the product roles and leaves the rest out', () => {
    assert.equal(roleOf('server'), 'server');
    assert.equal(roleOf('agent-iperf'), 'agent');
    assert.equal(roleOf('forward-l4'), 'forward');
    assert.equal(roleOf('upstream'), undefined);
    assert.equal(roleOf('node-proxy'), undefined);
    assert.equal(roleOf('nodeA'), undefined);
    assert.equal(roleOf('serverless'), undefined);
  });

  it('takes the highest process of each role', () => {
    const by = peakRssByRole({ upstream: 90 * MIB, server: 50 * MIB, agent: 20 * MIB, 'agent-iperf': 30 * MIB });
    assert.deepEqual(by, { server: 50 * MIB, agent: 30 * MIB });
  });

  it('builds one row per scenario with a product process, dashes for the roles it lacks, and the sum', () => {
    const rows = rssRows([
      ['direct', { upstream: 40 * MIB }],
      ['tunnel-http', { upstream: 40 * MIB, server: 100 * MIB, agent: 60 * MIB }],
      ['forward-http', { server: 110 * MIB, 'agent-l4': 70 * MIB, 'forward-l4': 50.25 * MIB }],
    ]);
    assert.deepEqual(rows, [
      ['tunnel-http', '100.0', '60.0', '–', '160.0'],
      ['forward-http', '110.0', '70.0', '50.3', '230.3'],
    ]);
    assert.equal(mibText(undefined), '–');
  });

  it('records the per-role peaks in the summary, over every round and phase', () => {
    const o = (server: number): Outcome => ({
      ...outcome(),
      metrics: { rps: 1 },
      usage: { c50: [{ name: 'server', own: true, cpuUs: 1, peakRssBytes: server }], c1: [{ name: 'forward-l4', own: true, cpuUs: 1, peakRssBytes: 3 }] },
    });
    const rounds: Round[] = [
      { round: 1, order: ['forward-http'], outcomes: { 'forward-http': o(10) } },
      { round: 2, order: ['forward-http'], outcomes: { 'forward-http': o(12) } },
    ];
    const s = summarize(rounds, ['forward-http'])['forward-http'];
    assert.deepEqual(s?.peakRssByRole, { server: 12, forward: 3 });
  });

  it('prints the peak RSS table with the server, agent and forward columns', () => {
    const s: ScenarioSummary = {
      status: 'ok',
      metrics: { rps: { median: 100, min: 100, max: 100, n: 1 } },
      peakRss: { server: 100 * MIB, 'agent-l4': 60 * MIB, 'forward-l4': 40 * MIB },
      reasons: [],
      notes: [],
    };
    const t = tables({ 'forward-http': s }, [], 50).find((x) => x.title.startsWith('Peak RSS'));
    assert.ok(t, 'the peak RSS table is present');
    assert.deepEqual(t.headers, ['scenario', 'server', 'agent', 'forward', 'sum']);
    assert.deepEqual(t.rows, [['forward-http', '100.0', '60.0', '40.0', '200.0']]);
  });
});

describe('bench L4 HTTP through forward (issue 13)', () => {
  it('is a scenario of its own, and part of the http, tunnel and tcp groups', () => {
    assert.deepEqual(parseOptions(['--scenario', 'forward-http'])?.scenarios, ['forward-http']);
    for (const g of ['http', 'tunnel', 'tcp', 'all']) assert.ok(parseOptions(['--scenarios', g])?.scenarios.includes('forward-http'), g);
  });

  it('gets its rps ratio to direct within the round, and a target of 0.5', () => {
    const d: Outcome = { ...outcome(), metrics: { rps: 1000, p50Ms1c: 0.1 } };
    const f: Outcome = { ...outcome(), metrics: { rps: 300, p50Ms1c: 0.4 } };
    addRoundRatios({ round: 1, order: ['direct', 'forward-http'], outcomes: { direct: d, 'forward-http': f } });
    assert.equal(f.metrics.rpsRatio, 0.3);
    assert.equal(f.metrics.p50Ratio1c, 4);
    const summary = summarize([{ round: 1, order: ['direct', 'forward-http'], outcomes: { direct: d, 'forward-http': f } }], ['direct', 'forward-http']);
    const row = checkTargets(summary, 10_000, 50).find((r) => r.measure.startsWith('L4'));
    assert.equal(row?.result, 'miss');
    assert.equal(row?.target, '≥ 0.5 ×');
  });
});

describe('bench experiment: --variant-flags (issue 13)', () => {
  it('adds a +flags twin after tunnel-http and forward-http, and nothing without the option', () => {
    const o = parseOptions(['--scenarios', 'direct,tunnel-http,forward-http,bulk', '--variant-flags=--max-semi-space-size=32']);
    assert.deepEqual(o?.scenarios, ['direct', 'tunnel-http', 'tunnel-http+flags', 'forward-http', 'forward-http+flags', 'bulk']);
    assert.deepEqual(o?.variantFlags, ['--max-semi-space-size=32']);
    assert.deepEqual(parseOptions(['--scenarios', 'tunnel-http'])?.scenarios, ['tunnel-http']);
  });

  it('rejects what is not a Node flag, naming it', () => {
    assert.throws(() => parseOptions(['--variant-flags', '--max-semi-space-size=32 ;rm']), /--variant-flags .* not ;rm/);
  });

  it('divides the variant by the plain scenario of the same round, even without direct', () => {
    const plain: Outcome = { ...outcome(), metrics: { rps: 400, cpuUsPerReq: 500 } };
    const flags: Outcome = { ...outcome(), metrics: { rps: 500, cpuUsPerReq: 400 } };
    addRoundRatios({ round: 1, order: [], outcomes: { 'tunnel-http': plain, 'tunnel-http+flags': flags } });
    assert.equal(flags.metrics.rpsVsBase, 1.25);
    assert.equal(flags.metrics.cpuVsBase, 0.8);
    assert.equal(plain.metrics.rpsVsBase, undefined);
  });

  it('prints the experiment table with the ratios and both peak RSS', () => {
    const s = (metrics: Record<string, number>, peakRss: Record<string, number>): ScenarioSummary => ({
      status: 'ok',
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { median: v, min: v, max: v, n: 1 }])),
      peakRss,
      reasons: [],
      notes: [],
    });
    const t = tables(
      {
        'tunnel-http': s({ rps: 400 }, { server: 100 * MIB, agent: 80 * MIB }),
        'tunnel-http+flags': s({ rps: 500, rpsVsBase: 1.25, cpuVsBase: 0.8, p50VsBase1c: 0.9 }, { 'server-v': 120 * MIB, 'agent-http-v': 90 * MIB }),
      },
      [],
      50,
    ).find((x) => x.title.startsWith('Experiment'));
    assert.ok(t, 'the experiment table is present');
    assert.deepEqual(t.rows, [['tunnel-http+flags', '1.250', '0.800', '0.900', '100.0 / 80.0', '120.0 / 90.0']]);
  });
});
