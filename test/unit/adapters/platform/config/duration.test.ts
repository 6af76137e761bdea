import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../../../../src/adapters/platform/config/duration.js';

describe('parseDuration', () => {
  describe('having a Go-style duration', () => {
    const valid: readonly [unknown, number][] = [
      ['100ms', 100],
      ['30s', 30_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['1m30s', 90_000],
      ['2h45m10s', 9_910_000],
      ['1.5s', 1_500],
      ['.5s', 500],
      ['500us', 0.5],
      ['500µs', 0.5],
      ['1000000ns', 1],
      ['0s', 0],
      ['0ms', 0],
      ['0', 0],
      [0, 0],
    ];
    for (const [input, ms] of valid) {
      it(`parses ${JSON.stringify(input)} as ${ms} ms`, () => assert.equal(parseDuration(input), ms));
    }
  });

  describe('having anything else', () => {
    // A bare number has no unit: guessing one made Piko's 1s timeout effectively off (T4).
    const invalid: readonly unknown[] = ['30', 30, 1.5, '', ' 30s', '30s ', '30 s', '-1s', '+1s', '1d', '1S', 's', 'ms', '1m 30s', null, true, [], {}];
    for (const input of invalid) {
      it(`rejects ${JSON.stringify(input)}`, () => assert.equal(parseDuration(input), undefined));
    }
  });

  it('parses the Node timer limit exactly, so callers can reject longer values', () => {
    assert.ok((parseDuration('596h31m23.647s') ?? 0) <= MAX_DURATION_MS);
    assert.ok((parseDuration('597h') ?? 0) > MAX_DURATION_MS);
  });
});

describe('formatDuration', () => {
  const table: readonly [number, string][] = [
    [0, '0s'],
    [100, '100ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [300_000, '5m0s'],
    [3_600_000, '1h0m0s'],
    [1_500, '1.5s'],
  ];
  for (const [ms, text] of table) {
    it(`formats ${ms} ms as ${text}, which parses back`, () => {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    });
  }
});
