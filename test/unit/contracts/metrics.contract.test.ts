import { PromMetrics } from '../../../src/adapters/platform/metrics/prom-metrics.adapter.js';
import { metricsContract } from '../../support/contracts/metrics.contract.js';
import { inMemoryMetricsReader, promTextReader } from '../../support/contracts/metrics-readers.js';
import { InMemoryMetrics } from '../../support/fakes/in-memory-metrics.js';

/*
 * The Metrics contract against the in-memory fake (read through its accessors) and the prom-client adapter
 * (read through its text exposition, as Prometheus scrapes it). Neither needs a socket or a timer.
 */

metricsContract('Metrics contract: InMemoryMetrics', () => {
  const metrics = new InMemoryMetrics();
  return { metrics, read: inMemoryMetricsReader(metrics) };
});

metricsContract('Metrics contract: PromMetrics', () => {
  const metrics = new PromMetrics();
  return { metrics, read: promTextReader(() => metrics.text()) };
});
