import type {
  Counter,
  Gauge,
  Histogram,
  MetricLabels,
  MetricOptions,
  Metrics,
} from '../../../src/application/ports/metrics.port.js';
import { MetricDeclarations, type MetricKind } from '../../../src/adapters/platform/metrics/metric-declarations.js';

/** One label combination of a metric and what was recorded for it. */
interface Series {
  readonly labels: MetricLabels;
  value: number;
  readonly observations: number[];
}

/** A declared metric: its declaration and its series keyed by canonical labels. */
interface Recorded {
  readonly name: string;
  readonly kind: MetricKind;
  readonly labelNames: ReadonlySet<string>;
  readonly series: Map<string, Series>;
  /** The object handed out for this metric; every declaration of the name returns this same one. */
  handle: Counter | Gauge | Histogram;
}

/**
 * A `Metrics` that keeps values in memory, for tests. It follows the same declaration rules as `PromMetrics`
 * (shared `MetricDeclarations`: same name → same metric; another kind or other labels → `Error`) and rejects
 * what prom-client rejects at record time (an undeclared label name, a negative counter increment), so code
 * that passes against the fake also works against the real adapter.
 *
 * Inspect with {@link InMemoryMetrics.value} (counters, gauges) and {@link InMemoryMetrics.observations}
 * (histograms). Labels are matched exactly, as a set of name/value pairs; no labels means the unlabelled series.
 */
export class InMemoryMetrics implements Metrics {
  private readonly declarations = new MetricDeclarations<Recorded>();

  counter(options: MetricOptions): Counter {
    return this.declare('counter', options, undefined, (metric) => ({
      inc: (labels?: MetricLabels, value = 1): void => {
        checkNumber(metric, value);
        if (value < 0) throw new Error(`counter "${metric.name}" cannot be decreased (inc by ${value})`);
        seriesOf(metric, labels).value += value;
      },
    })) as Counter;
  }

  gauge(options: MetricOptions): Gauge {
    return this.declare('gauge', options, undefined, (metric) => ({
      set: (value: number, labels?: MetricLabels): void => {
        checkNumber(metric, value);
        seriesOf(metric, labels).value = value;
      },
      inc: (labels?: MetricLabels, value = 1): void => {
        checkNumber(metric, value);
        seriesOf(metric, labels).value += value;
      },
      dec: (labels?: MetricLabels, value = 1): void => {
        checkNumber(metric, value);
        seriesOf(metric, labels).value -= value;
      },
    })) as Gauge;
  }

  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): Histogram {
    return this.declare('histogram', options, options.buckets, (metric) => ({
      observe: (value: number, labels?: MetricLabels): void => {
        checkNumber(metric, value);
        seriesOf(metric, labels).observations.push(value);
      },
    })) as Histogram;
  }

  /** Whether a metric named `name` has been declared. */
  has(name: string): boolean {
    return this.declarations.get(name) !== undefined;
  }

  /**
   * The current value of a counter or gauge series; 0 when the series was never touched.
   *
   * @throws Error when `name` is not declared or is a histogram, so a typo fails the test instead of reading 0.
   */
  value(name: string, labels?: MetricLabels): number {
    const metric = this.lookup(name, ['counter', 'gauge']);
    return metric.series.get(labelKey(labels))?.value ?? 0;
  }

  /**
   * The values observed by a histogram series, in order; empty when none were.
   *
   * @throws Error when `name` is not declared or is not a histogram.
   */
  observations(name: string, labels?: MetricLabels): number[] {
    const metric = this.lookup(name, ['histogram']);
    return [...(metric.series.get(labelKey(labels))?.observations ?? [])];
  }

  /** Every touched series of a counter or gauge, with its labels and value, in first-touch order. */
  series(name: string): { labels: MetricLabels; value: number }[] {
    const metric = this.lookup(name, ['counter', 'gauge']);
    return [...metric.series.values()].map(({ labels, value }) => ({ labels, value }));
  }

  private declare(
    kind: MetricKind,
    options: MetricOptions,
    buckets: readonly number[] | undefined,
    makeHandle: (metric: Recorded) => Counter | Gauge | Histogram,
  ): Counter | Gauge | Histogram {
    const declaration = { ...options, kind, ...(buckets === undefined ? {} : { buckets }) };
    return this.declarations.declare(declaration, () => {
      const metric: Recorded = {
        name: options.name,
        kind,
        labelNames: new Set(options.labelNames ?? []),
        series: new Map(),
        handle: { inc: () => undefined }, // replaced just below, once the handle can close over `metric`
      };
      metric.handle = makeHandle(metric);
      return metric;
    }).handle;
  }

  private lookup(name: string, kinds: readonly MetricKind[]): Recorded {
    const declared = this.declarations.get(name);
    if (declared === undefined) throw new Error(`metric "${name}" was never declared`);
    if (!kinds.includes(declared.kind)) {
      throw new Error(`metric "${name}" is a ${declared.kind}, not a ${kinds.join(' or ')}`);
    }
    return declared.metric;
  }
}

function seriesOf(metric: Recorded, labels: MetricLabels | undefined): Series {
  for (const name of Object.keys(labels ?? {})) {
    if (!metric.labelNames.has(name)) {
      throw new Error(`label "${name}" is not declared for metric "${metric.name}"`);
    }
  }
  const key = labelKey(labels);
  let series = metric.series.get(key);
  if (series === undefined) {
    series = { labels: { ...labels }, value: 0, observations: [] };
    metric.series.set(key, series);
  }
  return series;
}

function checkNumber(metric: Recorded, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`metric "${metric.name}": value ${String(value)} is not a number`);
  }
}

/** A key identifying a label set regardless of the order its names were written in. */
function labelKey(labels: MetricLabels | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
