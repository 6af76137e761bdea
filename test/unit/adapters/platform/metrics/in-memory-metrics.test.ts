import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

describe('InMemoryMetrics', () => {
  describe('.value', () => {
    it('reads counters and gauges per label set, ignoring label order', () => {
      const metrics = new InMemoryMetrics();
      const requests = metrics.counter({ name: 'requests_total', help: 'R.', labelNames: ['status', 'method'] });
      const inFlight = metrics.gauge({ name: 'in_flight', help: 'F.' });
      requests.inc({ status: '200', method: 'GET' });
      requests.inc({ method: 'GET', status: '200' }, 2);
      inFlight.inc();
      inFlight.inc(undefined, 4);
      inFlight.dec();
      metrics.gauge({ name: 'in_flight', help: 'F.' }).set(10);

      assert.equal(metrics.value('requests_total', { method: 'GET', status: '200' }), 3);
      assert.equal(metrics.value('requests_total', { status: '500', method: 'GET' }), 0);
      assert.equal(metrics.value('in_flight'), 10);
    });

    it('lists every touched series', () => {
      const metrics = new InMemoryMetrics();
      const nodes = metrics.gauge({ name: 'nodes', help: 'N.', labelNames: ['status'] });
      nodes.set(2, { status: 'active' });
      nodes.set(1, { status: 'left' });

      assert.deepEqual(metrics.series('nodes'), [
        { labels: { status: 'active' }, value: 2 },
        { labels: { status: 'left' }, value: 1 },
      ]);
    });

    it('throws for a name never declared or for a histogram', () => {
      const metrics = new InMemoryMetrics();
      metrics.histogram({ name: 'latency', help: 'L.' });

      assert.throws(() => metrics.value('typo_total'), /never declared/);
      assert.throws(() => metrics.value('latency'), /is a histogram, not a counter or gauge/);
      assert.equal(metrics.has('latency'), true);
      assert.equal(metrics.has('typo_total'), false);
    });
  });

  describe('.observations', () => {
    it('returns the values observed by one histogram series, in order', () => {
      const metrics = new InMemoryMetrics();
      const latency = metrics.histogram({ name: 'latency', help: 'L.', labelNames: ['status'] });
      latency.observe(0.2, { status: '200' });
      latency.observe(0.1, { status: '200' });
      latency.observe(3, { status: '504' });

      assert.deepEqual(metrics.observations('latency', { status: '200' }), [0.2, 0.1]);
      assert.deepEqual(metrics.observations('latency'), []);
      assert.throws(() => metrics.observations('nothing'), /never declared/);
    });
  });
});
