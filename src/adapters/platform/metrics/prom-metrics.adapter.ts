import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from 'prom-client';

import type {
  Counter,
  Gauge,
  Histogram,
  MetricLabels,
  MetricOptions,
  Metrics,
} from '../../../application/ports/metrics.port.js';
import { MetricDeclarations, type MetricDeclaration } from './metric-declarations.js';

/**
 * prom-client's default gauges whose names end in `_total`: `promtool check metrics` rejects them ("non-counter
 * metrics should not have "_total" suffix"), so they are unregistered. Nothing is lost: the per-type gauges
 * `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` carry the same counts
 * (`sum(nodejs_active_handles)` is the dropped total).
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Runs just before each exposition; see {@link PromMetrics.beforeCollect}. */
export type CollectHook = () => void;

/** Options of {@link PromMetrics}. */
export interface PromMetricsOptions {
  /**
   * Also register prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`) in this registry,
   * the counterpart of the Go runtime collector on Piko's server registry. Off by default: Piko's agent
   * registry has none, and unit tests do not want the event-loop monitor running.
   */
  readonly collectDefaultMetrics?: boolean;
}

/**
 * The `Metrics` port on prom-client. Each instance owns a private `Registry` (never prom-client's global one),
 * so several nodes, or a node and its tests, can live in one process without duplicate-registration errors.
 *
 * Declaring a name again returns the metric declared first; another kind, other label names or other buckets
 * for an existing name throw a clear `Error` (see `MetricDeclarations`). Labels are passed as records; a label
 * name that was not declared is a programming error and prom-client throws on it.
 */
export class PromMetrics implements Metrics {
  private readonly registry = new Registry();
  private readonly declarations = new MetricDeclarations<Counter | Gauge | Histogram>();
  private readonly hooks: Array<{ readonly hook: CollectHook; readonly onError?: (error: unknown) => void }> = [];

  constructor(options: PromMetricsOptions = {}) {
    if (options.collectDefaultMetrics === true) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
  }

  /**
   * Registers `hook` to run before each {@link PromMetrics.text}, in registration order, so that gauges read
   * from state elsewhere (cluster nodes, gossip entries, requests in flight) are set at scrape time. A hook that
   * throws does not stop the scrape: the error goes to `onError` (if given) and the other hooks still run.
   */
  beforeCollect(hook: CollectHook, onError?: (error: unknown) => void): void {
    this.hooks.push(onError === undefined ? { hook } : { hook, onError });
  }

  /** The `Content-Type` of {@link PromMetrics.text}'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The registry in the Prometheus text exposition format, for `GET /metrics`, after running the
   * {@link PromMetrics.beforeCollect} hooks. A family with no sample (a labelled metric never used) is left out,
   * as Go's Prometheus client does, rather than shown as a bare `# HELP`/`# TYPE` pair.
   */
  async text(): Promise<string> {
    for (const { hook, onError } of this.hooks) {
      try {
        hook();
      } catch (error) {
        onError?.(error);
      }
    }
    return omitEmptyFamilies(await this.registry.metrics());
  }

  counter(options: MetricOptions): Counter {
    return this.declare({ ...options, kind: 'counter' }, () => {
      const counter = new PromCounter({ ...this.common(options) });
      return {
        inc: (labels?: MetricLabels, value = 1): void => {
          if (labels === undefined) counter.inc(value);
          else counter.inc(labels, value);
        },
      };
    }) as Counter;
  }

  gauge(options: MetricOptions): Gauge {
    return this.declare({ ...options, kind: 'gauge' }, () => {
      const gauge = new PromGauge({ ...this.common(options) });
      return {
        set: (value: number, labels?: MetricLabels): void => {
          if (labels === undefined) gauge.set(value);
          else gauge.set(labels, value);
        },
        inc: (labels?: MetricLabels, value = 1): void => {
          if (labels === undefined) gauge.inc(value);
          else gauge.inc(labels, value);
        },
        dec: (labels?: MetricLabels, value = 1): void => {
          if (labels === undefined) gauge.dec(value);
          else gauge.dec(labels, value);
        },
      };
    }) as Gauge;
  }

  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): Histogram {
    return this.declare({ ...options, kind: 'histogram' }, () => {
      const histogram = new PromHistogram({
        ...this.common(options),
        ...(options.buckets === undefined ? {} : { buckets: [...options.buckets] }),
      });
      return {
        observe: (value: number, labels?: MetricLabels): void => {
          if (labels === undefined) histogram.observe(value);
          else histogram.observe(labels, value);
        },
      };
    }) as Histogram;
  }

  /** Options every prom-client metric is built with: registered in our registry only. */
  private common(options: MetricOptions): {
    name: string;
    help: string;
    labelNames: string[];
    registers: Registry[];
  } {
    return {
      name: options.name,
      help: options.help,
      labelNames: [...(options.labelNames ?? [])],
      registers: [this.registry],
    };
  }

  private declare(
    declaration: MetricDeclaration,
    create: () => Counter | Gauge | Histogram,
  ): Counter | Gauge | Histogram {
    return this.declarations.declare(declaration, () => {
      try {
        return create();
      } catch (error) {
        // prom-client rejects invalid names and names already taken by the default metrics.
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`metric "${declaration.name}" cannot be declared: ${reason}`, { cause: error });
      }
    });
  }
}

/**
 * Drops the families of a text exposition that have no sample line. prom-client writes each family as its
 * `# HELP` line, its `# TYPE` line, then its samples, so a family is the run of lines from one `# HELP` to the
 * next.
 */
export function omitEmptyFamilies(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let family: string[] = [];
  let hasSample = false;
  const flush = (): void => {
    if (hasSample) out.push(...family);
    family = [];
    hasSample = false;
  };
  for (const line of lines) {
    if (line.startsWith('# HELP ')) flush();
    if (line === '') continue;
    family.push(line);
    if (!line.startsWith('#')) hasSample = true;
  }
  flush();
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
