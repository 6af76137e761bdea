import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { USAGE } from '../../../bench/lib/options.js';
import { checkTargets, type ScenarioSummary } from '../../../bench/lib/summary.js';

const tunnelHttp = (rpsRatio: number): ScenarioSummary =>
  ({
    status: 'ok',
    metrics: { rpsRatio: { median: rpsRatio } },
    peakRss: {},
    reasons: [],
    notes: [],
  }) as unknown as ScenarioSummary;

describe('bench targets table (issue 7)', () => {
  it('names the --connections of the run, not a fixed 50', () => {
    const rows = checkTargets({ 'tunnel-http': tunnelHttp(0.3) }, 10_000, 8);
    const row = rows.find((r) => r.measure.includes('tunnel rps'));
    assert.ok(row, 'the rps row is present');
    assert.match(row.measure, /HTTP 1 KiB, 8 conns/);
    assert.doesNotMatch(row.measure, /50 conns/);
  });

  it('shows the command users run in --help, not an internal build path', () => {
    assert.match(USAGE, /^Usage: piko-ts bench/);
    assert.doesNotMatch(USAGE, /dist-test/);
  });
});
