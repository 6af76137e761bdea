import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseOptions, variantBase, variantNote } from '../../../bench/lib/options.js';
import { tables } from '../../../bench/lib/report.js';
import { addRoundRatios, checkTargets, summarize, type Round, type ScenarioSummary } from '../../../bench/lib/summary.js';
import { outcome, type Outcome } from '../../../bench/lib/types.js';

const ok = (metrics: Record<string, number>): Outcome => ({ ...outcome(), metrics });

const summaryOf = (metrics: Record<string, number>, peakRss: Record<string, number> = {}): ScenarioSummary => ({
  status: 'ok',
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { median: v, min: v, max: v, n: 1 }])),
  peakRss,
  reasons: [],
  notes: [],
});

describe('bench experiment: --variant-dist', () => {
  it('names the twins +variant when another build runs them, with or without flags', () => {
    const o = parseOptions(['--scenarios', 'tunnel-http,forward-http', '--variant-dist', '/tmp/base/dist/main']);
    assert.deepEqual(o?.scenarios, ['tunnel-http', 'tunnel-http+variant', 'forward-http', 'forward-http+variant']);
    assert.equal(o?.variantDir, '/tmp/base/dist/main');
    const both = parseOptions(['--scenarios', 'tunnel-http', '--variant-dist=rel/dir', '--variant-flags=--max-semi-space-size=32']);
    assert.deepEqual(both?.scenarios, ['tunnel-http', 'tunnel-http+variant']);
    assert.equal(both?.variantDir, resolve('rel/dir'));
  });

  it('keeps +flags when only flags are given, and no twin without either', () => {
    assert.deepEqual(parseOptions(['--scenarios', 'tunnel-http', '--variant-flags=--jitless'])?.scenarios, ['tunnel-http', 'tunnel-http+flags']);
    const plain = parseOptions(['--scenarios', 'tunnel-http']);
    assert.deepEqual(plain?.scenarios, ['tunnel-http']);
    assert.equal(plain?.variantDir, undefined);
  });

  it('rejects an empty directory', () => {
    assert.throws(() => parseOptions(['--variant-dist=']), /--variant-dist needs a directory/);
  });

  it('says in a note which build and flags the variant ran', () => {
    const note = variantNote({ productDir: '/w/dist/main', variantFlags: [], variantDir: '/b/dist/main' });
    assert.match(note ?? '', /\+variant scenarios .* from \/b\/dist\/main with no extra Node flags; the plain ones from \/w\/dist\/main/);
    assert.equal(variantNote({ productDir: '/w', variantFlags: [] }), undefined);
    assert.match(variantNote({ productDir: '/w', variantFlags: ['--jitless'] }) ?? '', /\+flags .* from \/w with node --jitless/);
  });

  it('divides a +variant twin by the plain scenario of the same round, p50 at 1 connection included', () => {
    assert.equal(variantBase('forward-http+variant'), 'forward-http');
    assert.equal(variantBase('tunnel-http'), undefined);
    const plain = ok({ rps: 400, cpuUsPerReq: 500, p50Ms1c: 0.2 });
    const twin = ok({ rps: 200, cpuUsPerReq: 1000, p50Ms1c: 0.3 });
    addRoundRatios({ round: 1, order: [], outcomes: { 'tunnel-http': plain, 'tunnel-http+variant': twin } });
    assert.equal(twin.metrics.rpsVsBase, 0.5);
    assert.equal(twin.metrics.cpuVsBase, 2);
    assert.ok(Math.abs((twin.metrics.p50VsBase1c ?? 0) - 1.5) < 1e-9);
  });

  it('shows the +variant twins in the experiment table', () => {
    const t = tables(
      { 'forward-http': summaryOf({ rps: 1 }), 'forward-http+variant': summaryOf({ rpsVsBase: 1.1, cpuVsBase: 0.9, p50VsBase1c: 1 }) },
      [],
      50,
    ).find((x) => x.title.startsWith('Experiment'));
    assert.ok(t, 'the experiment table is present');
    assert.match(t.title, /\+variant/);
    assert.deepEqual(t.rows.map((r) => r.slice(0, 4)), [['forward-http+variant', '1.100', '0.900', '1.000']]);
  });
});

describe('bench targets: ratios to node-proxy and direct, RSS', () => {
  it('takes the tunnel / node-proxy ratios within each round and checks their median', () => {
    const round = (r: number, tunnelRps: number): Round => ({
      round: r,
      order: [],
      outcomes: {
        direct: ok({ rps: 10_000, p50Ms1c: 0.1 }),
        'node-proxy': ok({ rps: 4000, cpuUsPerReq: 100, p50Ms1c: 0.2 }),
        'tunnel-http': ok({ rps: tunnelRps, cpuUsPerReq: 140, p50Ms1c: 0.3 }),
      },
    });
    const rounds = [round(1, 3000), round(2, 4400), round(3, 4200)];
    rounds.forEach(addRoundRatios);
    const rows = checkTargets(summarize(rounds, ['direct', 'node-proxy', 'tunnel-http']), 10_000, 50);
    const by = (re: RegExp) => rows.find((r) => re.test(r.measure));
    assert.equal(by(/tunnel rps \/ node-proxy/)?.value, 1.05);
    assert.equal(by(/tunnel rps \/ node-proxy/)?.result, 'pass');
    assert.equal(by(/tunnel rps \/ direct/)?.result, 'info');
    assert.equal(by(/tunnel rps \/ direct/)?.target, 'aim 0.4 ×');
    assert.ok(Math.abs((by(/CPU per request/)?.value ?? 0) - 1.4) < 1e-9);
    assert.equal(by(/CPU per request/)?.result, 'pass');
    assert.ok(Math.abs((by(/p50 at 1 connection/)?.value ?? 0) - 1.5) < 1e-9);
    assert.equal(by(/p50 at 1 connection/)?.result, 'miss');
  });

  it('lists every target, those whose scenarios did not run as "not run"', () => {
    const rows = checkTargets({ 'tunnel-http': summaryOf({ rps: 1 }) }, 10_000, 50);
    assert.equal(rows.length, 11);
    const np = rows.find((r) => r.measure.includes('node-proxy rps'));
    assert.equal(np?.result, 'not run');
    assert.match(np?.why ?? '', /needs node-proxy/);
    for (const re of [/download/, /TCP stream/, /forward, \d+ conns/, /idle upstreams/]) {
      assert.equal(rows.find((r) => re.test(r.measure))?.result, 'not run', String(re));
    }
    const t = tables({}, rows, 50).find((x) => x.title === 'Targets');
    assert.ok(t?.rows.some((r) => r[3] === 'not run'));
  });

  it('checks peak RSS under load per role in MB (10^6 bytes), over the tunnel scenarios but not the twins', () => {
    const rows = checkTargets(
      {
        'tunnel-http': summaryOf({}, { server: 90e6, 'agent-http': 50e6 }),
        'forward-http': summaryOf({}, { server: 95e6, 'agent-l4': 81e6, 'forward-l4': 30e6 }),
        'forward-http+variant': summaryOf({}, { 'server-v': 500e6, 'agent-l4-v': 500e6, 'forward-l4-v': 500e6 }),
      },
      10_000,
      50,
    );
    const rss = (role: string) => rows.find((r) => r.measure.startsWith(`Peak RSS under load, ${role}`));
    assert.deepEqual([rss('server')?.value, rss('server')?.result], [95, 'pass']);
    assert.deepEqual([rss('agent')?.value, rss('agent')?.result], [81, 'miss']);
    assert.deepEqual([rss('forward')?.value, rss('forward')?.result], [30, 'pass']);
    assert.equal(rss('server')?.target, '≤ 100 MB');
  });

  it('checks bulk and the TCP stream against 0.30 of direct, and idle against 200 MB', () => {
    const rows = checkTargets(
      { bulk: summaryOf({ ratio: 0.29 }), 'tunnel-tcp': summaryOf({ ratio: 0.31 }), idle: summaryOf({ projected10kRssBytes: 150e6 }) },
      10_000,
      50,
      64,
    );
    assert.equal(rows.find((r) => /64 MiB HTTP download/.test(r.measure))?.result, 'miss');
    assert.equal(rows.find((r) => /TCP stream/.test(r.measure))?.result, 'pass');
    const idle = rows.find((r) => /idle upstreams/.test(r.measure));
    assert.deepEqual([idle?.value, idle?.result, idle?.target], [150, 'pass', '≤ 200 MB']);
  });
});
