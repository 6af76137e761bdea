/** Label values of one metric series. */
export type MetricLabels = Readonly<Record<string, string>>;

/** A monotonically increasing count. */
export interface Counter {
  inc(labels?: MetricLabels, value?: number): void;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number, labels?: MetricLabels): void;
  inc(labels?: MetricLabels, value?: number): void;
  dec(labels?: MetricLabels, value?: number): void;
}

/** A distribution of observed values in buckets. */
export interface Histogram {
  observe(value: number, labels?: MetricLabels): void;
}

/** What every metric is declared with. Names follow Piko's (`piko_proxy_requests_total`...). */
export interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

/**
 * Creates metrics without exposing the metrics library. Declaring a name a second time returns the metric
 * declared first, so two components (or two agent listeners) can share a series without a duplicate
 * registration error.
 */
export interface Metrics {
  counter(options: MetricOptions): Counter;
  gauge(options: MetricOptions): Gauge;
  histogram(options: MetricOptions & { readonly buckets?: readonly number[] }): Histogram;
}
