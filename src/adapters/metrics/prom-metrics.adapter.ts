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
} from '../../application/ports/metrics.port.js';
import { MetricDeclarations, type MetricDeclaration } from './metric-declarations.js';

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

  constructor(options: PromMetricsOptions = {}) {
    if (options.collectDefaultMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** The `Content-Type` of {@link PromMetrics.text}'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry in the Prometheus text exposition format, for `GET /metrics`. */
  async text(): Promise<string> {
    return this.registry.metrics();
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
