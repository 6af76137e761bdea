import type { MetricLabels } from '../../../src/application/ports/metrics.port.js';
import type { InMemoryMetrics } from '../fakes/in-memory-metrics.js';
import type { HistogramReading, MetricsReader } from './metrics.contract.js';
import { parsePromText, sameLabels, type PromSample } from './prom-text.js';

/** Reads an {@link InMemoryMetrics} through its own accessors (`series`, `observations`). */
export function inMemoryMetricsReader(metrics: InMemoryMetrics): MetricsReader {
  return {
    value: async (name, labels = {}) => metrics.series(name).find((s) => sameLabels(s.labels, labels))?.value,
    histogram: async (name, bounds, labels) => {
      const seen = metrics.observations(name, labels);
      if (seen.length === 0) return undefined;
      return {
        count: seen.length,
        sum: seen.reduce((a, b) => a + b, 0),
        cumulative: bounds.map((bound) => seen.filter((v) => v <= bound).length),
      };
    },
  };
}

/**
 * Reads a metrics implementation through its Prometheus text exposition (`text()` returns it), the way a
 * scraper sees it: `name{labels} value` for counters and gauges, `name_count`, `name_sum` and
 * `name_bucket{le}` for histograms.
 */
export function promTextReader(text: () => Promise<string>): MetricsReader {
  const find = (samples: PromSample[], name: string, labels: MetricLabels): number | undefined =>
    samples.find((s) => s.name === name && sameLabels(s.labels, labels))?.value;
  return {
    value: async (name, labels = {}) => find(parsePromText(await text()), name, labels),
    histogram: async (name, bounds, labels = {}): Promise<HistogramReading | undefined> => {
      const samples = parsePromText(await text());
      const count = find(samples, `${name}_count`, labels);
      const sum = find(samples, `${name}_sum`, labels);
      if (count === undefined || sum === undefined) return undefined;
      const cumulative = bounds.map((bound) => {
        const bucket = samples.find((s) => {
          if (s.name !== `${name}_bucket` || s.labels.le === undefined || Number(s.labels.le) !== bound) return false;
          const { le: _le, ...rest } = s.labels;
          return sameLabels(rest, labels);
        });
        if (bucket === undefined) throw new Error(`${name} has no bucket le="${bound}" for ${JSON.stringify(labels)}`);
        return bucket.value;
      });
      return { count, sum, cumulative };
    },
  };
}
