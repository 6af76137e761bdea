import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Metrics } from '../../../../../src/application/ports/metrics.port.js';
import { PromMetrics } from '../../../../../src/adapters/platform/metrics/prom-metrics.adapter.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

/**
 * The `Metrics` port's declaration rules, run against the real adapter and the fake so that the fake stays
 * honest.
 */
const subjects: readonly { name: string; make: () => Metrics }[] = [
  { name: 'PromMetrics', make: () => new PromMetrics() },
  { name: 'InMemoryMetrics', make: () => new InMemoryMetrics() },
];

for (const { name, make } of subjects) {
  describe(`${name} (Metrics port rules)`, () => {
    it('returns the same metric for the same name, kind and labels', () => {
      const metrics = make();
      const options = { name: 'piko_proxy_requests_total', help: 'Requests.', labelNames: ['status', 'method'] };

      assert.equal(metrics.counter(options), metrics.counter({ ...options, labelNames: ['method', 'status'] }));
      assert.equal(metrics.gauge({ name: 'g', help: 'G.' }), metrics.gauge({ name: 'g', help: 'G.' }));
      assert.equal(metrics.histogram({ name: 'h', help: 'H.' }), metrics.histogram({ name: 'h', help: 'H.' }));
    });

    it('throws a clear error for the same name with another kind', () => {
      const metrics = make();
      metrics.counter({ name: 'piko_cluster_nodes', help: 'Nodes.' });

      assert.throws(() => metrics.gauge({ name: 'piko_cluster_nodes', help: 'Nodes.' }), /already declared as a counter/);
      assert.throws(() => metrics.histogram({ name: 'piko_cluster_nodes', help: 'Nodes.' }), /already declared as a counter/);
    });

    it('throws a clear error for the same name with other labels', () => {
      const metrics = make();
      metrics.gauge({ name: 'piko_cluster_nodes', help: 'Nodes.', labelNames: ['status'] });

      assert.throws(
        () => metrics.gauge({ name: 'piko_cluster_nodes', help: 'Nodes.' }),
        /already declared with labels \[status\]/,
      );
    });

    it('rejects a label that was not declared', () => {
      const metrics = make();
      const counter = metrics.counter({ name: 'c', help: 'C.', labelNames: ['status'] });

      assert.throws(() => counter.inc({ method: 'GET' }));
    });

    it('rejects decreasing a counter', () => {
      const metrics = make();
      const counter = metrics.counter({ name: 'c', help: 'C.' });

      assert.throws(() => counter.inc(undefined, -1));
    });
  });
}
