import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterTables } from '../../../bench/lib/cluster-report.js';
import { percentile } from '../../../bench/lib/cluster-probe.js';
import { parseOptions } from '../../../bench/lib/options.js';
import { checkTargets, type ScenarioSummary, type Spread } from '../../../bench/lib/summary.js';

const one = (median: number): Spread => ({ median, min: median, max: median, n: 1 });

const clusterSummary = (metrics: Record<string, number>): ScenarioSummary => ({
  status: 'ok',
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, one(v)])),
  peakRss: {},
  reasons: [],
  notes: [],
});

describe('bench cluster scenario: options', () => {
  it('runs only the cluster scenario with --scenario cluster, with the documented defaults', () => {
    const o = parseOptions(['--scenario', 'cluster']);
    assert.ok(o);
    assert.deepEqual(o.scenarios, ['cluster']);
    assert.equal(o.clusterTrials, 100);
    assert.equal(o.clusterKills, 10);
    assert.deepEqual(o.clusterSizes, [3, 10]);
  });

  it('takes trial counts and sizes, and 0 kills to leave detection out', () => {
    const o = parseOptions(['--scenarios=cluster', '--cluster-trials', '7', '--cluster-kills', '0', '--cluster-sizes', '3,5,3']);
    assert.ok(o);
    assert.equal(o.clusterTrials, 7);
    assert.equal(o.clusterKills, 0);
    assert.deepEqual(o.clusterSizes, [3, 5]);
  });

  it('refuses a cluster size outside 2–20, naming the option', () => {
    assert.throws(() => parseOptions(['--cluster-sizes', '3,50']), /--cluster-sizes/);
    assert.throws(() => parseOptions(['--cluster-sizes', '1']), /--cluster-sizes/);
    assert.throws(() => parseOptions(['--cluster-trials', '0']), /--cluster-trials/);
  });
});

describe('bench cluster scenario: figures', () => {
  it('takes percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 90), 90);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('prints one propagation row per size, detection rows and both throughput paths', () => {
    const s = clusterSummary({
      prop3Trials: 100, prop3Missed: 0, prop3P50Ms: 110, prop3P90Ms: 130, prop3P99Ms: 180, prop3MaxMs: 200,
      prop10Trials: 99, prop10Missed: 1, prop10P50Ms: 150, prop10P90Ms: 200, prop10P99Ms: 260, prop10MaxMs: 300,
      detectTrials: 10, detectMissed: 0, detectP50Ms: 750, detectMaxMs: 900, detectAllP50Ms: 760, detectAllMaxMs: 900,
      localRps: 4000, remoteRps: 3000, remoteRatio: 0.75,
    });
    const tables = clusterTables({ cluster: s }, 50);
    assert.equal(tables.length, 2);
    const [timing, paths] = tables as [(typeof tables)[0], (typeof tables)[0]];
    assert.deepEqual(timing.rows.map((r) => r[1]), ['3', '10', '3', '3']);
    assert.match(timing.rows[1]?.[2] ?? '', /99 \(\+1 missed\)/);
    assert.equal(timing.rows[0]?.[5], '180');
    assert.deepEqual(paths.rows.map((r) => r[2]), ['1', '0.750']);
    assert.match(paths.title, /50 connections/);
  });

  it('prints nothing when the scenario did not run', () => {
    assert.deepEqual(clusterTables({}, 50), []);
  });

  it('has no row in the targets table: the targets are the tunnel\'s, the cluster figures are in its own tables', () => {
    const rows = checkTargets({ cluster: clusterSummary({ remoteRatio: 0.75 }) }, 10_000, 50);
    assert.equal(rows.filter((t) => t.scenario === 'cluster').length, 0);
  });
});
