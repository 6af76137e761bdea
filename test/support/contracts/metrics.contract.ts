import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { MetricLabels, Metrics } from '../../../src/application/ports/metrics.port.js';
import { caseOptions, type KnownViolations } from './contract-case.js';

/** What a histogram series holds, as read back from an implementation. */
export interface HistogramReading {
  readonly count: number;
  readonly sum: number;
  /** For each requested bound, in order: how many observations were at most that bound. */
  readonly cumulative: readonly number[];
}

/**
 * Reads values back through an implementation's own reader (the fake's accessors, the real adapter's
 * exposition), so the contract checks what a user of that implementation would see.
 */
export interface MetricsReader {
  /** The value of a counter or gauge series; `undefined` when the implementation shows no such series. */
  value(name: string, labels?: MetricLabels): Promise<number | undefined>;
  /** A histogram series with its cumulative counts at `bounds`; `undefined` when there is no such series. */
  histogram(name: string, bounds: readonly number[], labels?: MetricLabels): Promise<HistogramReading | undefined>;
}

/** A fresh metrics object and its reader. */
export interface MetricsHarness {
  readonly metrics: Metrics;
  readonly read: MetricsReader;
}

/** The IDs of the cases of {@link metricsContract}, for {@link KnownViolations}. */
export type MetricsCase =
  | 'counter-inc'
  | 'counter-labels'
  | 'counter-never-decreases'
  | 'gauge-set-inc-dec'
  | 'gauge-labels'
  | 'histogram-buckets'
  | 'histogram-labels'
  | 'redeclare-returns-first'
  | 'redeclare-other-kind';

/** Options of {@link metricsContract}. */
export interface MetricsContractOptions {
  /** Cases this implementation is known to break; they run as `todo`. */
  readonly knownViolations?: KnownViolations<MetricsCase>;
}

/**
 * The contract of the `Metrics` port (`src/application/ports/metrics.port.ts`): counters only grow (by 1 or by a
 * value), gauges are set and move both ways, histograms count observations into cumulative buckets, every label
 * combination is its own series (whatever order the labels are written in), and declaring a name again returns
 * the metric declared first, so two components share one series.
 */
export function metricsContract(
  name: string,
  make: () => Promise<MetricsHarness> | MetricsHarness,
  options: MetricsContractOptions = {},
): void {
  const known = options.knownViolations;
  let seq = 0;
  /** A fresh metric name per case, so that a reader never sees another case's series. */
  const fresh = (base: string): string => `contract_${base}_${(seq += 1)}`;

  describe(name, () => {
    describe('counter', () => {
      it('grows by 1 by default, or by the given value', caseOptions('counter-inc', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('requests_total');
        const c = metrics.counter({ name: n, help: 'Requests.' });
        c.inc();
        assert.equal(await read.value(n), 1);
        c.inc(undefined, 2.5);
        assert.equal(await read.value(n), 3.5);
      });

      it('keeps one series per label combination, whatever the order of the labels', caseOptions('counter-labels', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('labelled_total');
        const c = metrics.counter({ name: n, help: 'Labelled.', labelNames: ['method', 'status'] });
        c.inc({ method: 'GET', status: '200' });
        c.inc({ status: '200', method: 'GET' }, 4);
        c.inc({ method: 'POST', status: '200' });
        c.inc({ method: 'GET', status: '502' }, 2);
        assert.equal(await read.value(n, { method: 'GET', status: '200' }), 5);
        assert.equal(await read.value(n, { status: '200', method: 'GET' }), 5);
        assert.equal(await read.value(n, { method: 'POST', status: '200' }), 1);
        assert.equal(await read.value(n, { method: 'GET', status: '502' }), 2);
        assert.equal(await read.value(n, { method: 'PUT', status: '200' }) ?? 0, 0, 'an untouched series holds nothing');
        const odd = { method: 'we"ird\\', status: 'line\nbreak' };
        c.inc(odd, 3);
        assert.equal(await read.value(n, odd), 3, 'label values are kept exactly, quotes, backslashes and newlines too');
      });

      it('never decreases: a negative increment throws or is ignored', caseOptions('counter-never-decreases', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('monotonic_total');
        const c = metrics.counter({ name: n, help: 'Monotonic.', labelNames: ['kind'] });
        c.inc(undefined, 3);
        c.inc({ kind: 'a' }, 2);
        try {
          c.inc(undefined, -1);
        } catch {
          // Rejecting the decrement keeps the promise too.
        }
        try {
          c.inc({ kind: 'a' }, -5);
        } catch {
          // idem
        }
        assert.equal(await read.value(n), 3);
        assert.equal(await read.value(n, { kind: 'a' }), 2);
      });
    });

    describe('gauge', () => {
      it('is set, and moves up and down by 1 or by a value, below zero too', caseOptions('gauge-set-inc-dec', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('in_flight');
        const g = metrics.gauge({ name: n, help: 'In flight.' });
        g.set(5);
        assert.equal(await read.value(n), 5);
        g.inc();
        g.inc(undefined, 4);
        assert.equal(await read.value(n), 10);
        g.dec();
        assert.equal(await read.value(n), 9);
        g.dec(undefined, 10);
        assert.equal(await read.value(n), -1);
        g.set(2.5);
        assert.equal(await read.value(n), 2.5);
      });

      it('keeps one series per label combination', caseOptions('gauge-labels', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('per_endpoint');
        const g = metrics.gauge({ name: n, help: 'Per endpoint.', labelNames: ['endpoint'] });
        g.set(3, { endpoint: 'a' });
        g.set(7, { endpoint: 'b' });
        g.inc({ endpoint: 'a' });
        g.dec({ endpoint: 'b' }, 2);
        assert.equal(await read.value(n, { endpoint: 'a' }), 4);
        assert.equal(await read.value(n, { endpoint: 'b' }), 5);
      });
    });

    describe('histogram', () => {
      it('counts observations into the declared cumulative buckets, bounds inclusive, with count and sum', caseOptions('histogram-buckets', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('duration_seconds');
        const bounds = [0.1, 1, 10];
        const h = metrics.histogram({ name: n, help: 'Duration.', buckets: bounds });
        for (const v of [0.05, 0.1, 0.5, 20]) h.observe(v);
        const r = await read.histogram(n, bounds);
        assert.ok(r, 'the series exists');
        assert.equal(r.count, 4);
        assert.ok(Math.abs(r.sum - 20.65) < 1e-9, `sum ${r.sum}`);
        assert.deepEqual(r.cumulative, [2, 3, 3]);
      });

      it('keeps one series per label combination', caseOptions('histogram-labels', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('size_bytes');
        const bounds = [100, 1000];
        const h = metrics.histogram({ name: n, help: 'Size.', labelNames: ['route'], buckets: bounds });
        h.observe(50, { route: 'a' });
        h.observe(500, { route: 'a' });
        h.observe(5000, { route: 'b' });
        assert.deepEqual(await read.histogram(n, bounds, { route: 'a' }), { count: 2, sum: 550, cumulative: [1, 2] });
        assert.deepEqual(await read.histogram(n, bounds, { route: 'b' }), { count: 1, sum: 5000, cumulative: [0, 0] });
      });
    });

    describe('declaration', () => {
      it('returns the metric declared first when a name is declared again: both share the series', caseOptions('redeclare-returns-first', known), async () => {
        const { metrics, read } = await make();
        const cn = fresh('shared_total');
        const gn = fresh('shared_gauge');
        const hn = fresh('shared_seconds');
        const bounds = [1];
        const c1 = metrics.counter({ name: cn, help: 'Shared.', labelNames: ['l'] });
        const c2 = metrics.counter({ name: cn, help: 'Shared, declared again.', labelNames: ['l'] });
        c1.inc({ l: 'x' });
        c2.inc({ l: 'x' }, 2);
        assert.equal(await read.value(cn, { l: 'x' }), 3);
        const g1 = metrics.gauge({ name: gn, help: 'Shared.' });
        const g2 = metrics.gauge({ name: gn, help: 'Shared.' });
        g1.set(4);
        g2.inc();
        assert.equal(await read.value(gn), 5);
        const h1 = metrics.histogram({ name: hn, help: 'Shared.', buckets: bounds });
        const h2 = metrics.histogram({ name: hn, help: 'Shared.', buckets: bounds });
        h1.observe(0.5);
        h2.observe(2);
        assert.deepEqual(await read.histogram(hn, bounds), { count: 2, sum: 2.5, cumulative: [1] });
      });

      it('refuses a name declared again as another kind, keeping the first', caseOptions('redeclare-other-kind', known), async () => {
        const { metrics, read } = await make();
        const n = fresh('kind_total');
        const c = metrics.counter({ name: n, help: 'A counter.' });
        assert.throws(() => metrics.gauge({ name: n, help: 'Not a gauge.' }), /kind_total/);
        assert.throws(() => metrics.histogram({ name: n, help: 'Not a histogram.' }), /kind_total/);
        c.inc();
        assert.equal(await read.value(n), 1);
      });
    });
  });
}
