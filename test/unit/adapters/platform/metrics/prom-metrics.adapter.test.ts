import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PromMetrics } from '../../../../../src/adapters/platform/metrics/prom-metrics.adapter.js';

describe('PromMetrics', () => {
  describe('.text', () => {
    it('exposes every declared metric with its help and type', async () => {
      const metrics = new PromMetrics();
      metrics
        .counter({ name: 'piko_proxy_requests_total', help: 'Completed proxy requests.', labelNames: ['status', 'method'] })
        .inc({ status: '200', method: 'GET' });
      metrics.gauge({ name: 'piko_proxy_requests_in_flight', help: 'Requests being handled.' });
      metrics
        .histogram({ name: 'piko_proxy_request_latency_seconds', help: 'Latency.', labelNames: ['status', 'method'] })
        .observe(0.1, { status: '200', method: 'GET' });
      const text = await metrics.text();

      assert.match(text, /^# HELP piko_proxy_requests_total Completed proxy requests\.$/m);
      assert.match(text, /^# TYPE piko_proxy_requests_total counter$/m);
      assert.match(text, /^# TYPE piko_proxy_requests_in_flight gauge$/m);
      assert.match(text, /^# TYPE piko_proxy_request_latency_seconds histogram$/m);
    });

    it('writes counter values per label set, whatever the order the labels were passed in', async () => {
      const metrics = new PromMetrics();
      const requests = metrics.counter({ name: 'piko_proxy_requests_total', help: 'Requests.', labelNames: ['status', 'method'] });
      requests.inc({ status: '200', method: 'GET' });
      requests.inc({ method: 'GET', status: '200' }, 2);
      requests.inc({ status: '502', method: 'POST' });

      const text = await metrics.text();
      assert.match(text, /^piko_proxy_requests_total\{status="200",method="GET"\} 3$/m);
      assert.match(text, /^piko_proxy_requests_total\{status="502",method="POST"\} 1$/m);
    });

    it('writes an unlabelled counter incremented with and without a value', async () => {
      const metrics = new PromMetrics();
      const selections = metrics.counter({ name: 'piko_upstreams_upstream_requests_total', help: 'Selections.' });
      selections.inc();
      selections.inc(undefined, 4);

      assert.match(await metrics.text(), /^piko_upstreams_upstream_requests_total 5$/m);
    });

    it('writes gauge values after set, inc and dec', async () => {
      const metrics = new PromMetrics();
      const nodes = metrics.gauge({ name: 'piko_cluster_nodes', help: 'Nodes.', labelNames: ['status'] });
      const connected = metrics.gauge({ name: 'piko_upstreams_connected_upstreams', help: 'Sessions.' });
      nodes.set(3, { status: 'active' });
      nodes.inc({ status: 'active' });
      nodes.dec({ status: 'active' }, 2);
      connected.set(7);
      connected.inc();
      connected.dec(undefined, 3);

      const text = await metrics.text();
      assert.match(text, /^piko_cluster_nodes\{status="active"\} 2$/m);
      assert.match(text, /^piko_upstreams_connected_upstreams 5$/m);
    });

    it('writes histogram buckets as declared', async () => {
      const metrics = new PromMetrics();
      const size = metrics.histogram({ name: 'piko_proxy_request_size_bytes', help: 'Size.', buckets: [256, 1024] });
      size.observe(100);
      size.observe(2000);

      const text = await metrics.text();
      assert.match(text, /^piko_proxy_request_size_bytes_bucket\{le="256"\} 1$/m);
      assert.match(text, /^piko_proxy_request_size_bytes_bucket\{le="1024"\} 1$/m);
      assert.match(text, /^piko_proxy_request_size_bytes_bucket\{le="\+Inf"\} 2$/m);
      assert.match(text, /^piko_proxy_request_size_bytes_count 2$/m);
    });

    it('records labelled histogram observations', async () => {
      const metrics = new PromMetrics();
      const latency = metrics.histogram({ name: 'lat', help: 'Latency.', labelNames: ['status'], buckets: [1] });
      latency.observe(0.5, { status: '200' });

      assert.match(await metrics.text(), /^lat_count\{status="200"\} 1$/m);
    });

    it('holds nothing but what was declared on this instance', async () => {
      const first = new PromMetrics();
      const second = new PromMetrics();
      first.counter({ name: 'shared_name_total', help: 'One.' }).inc();
      second.counter({ name: 'shared_name_total', help: 'Two.' });

      assert.match(await first.text(), /^shared_name_total 1$/m);
      assert.match(await second.text(), /^shared_name_total 0$/m);
      assert.doesNotMatch(await second.text(), /process_|nodejs_/);
    });
  });

  describe('having default metrics turned on', () => {
    it('exposes the process and Node.js metrics, and rejects their names for our own', async () => {
      const metrics = new PromMetrics({ collectDefaultMetrics: true });
      const text = await metrics.text();

      assert.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m);
      assert.match(text, /^# TYPE nodejs_heap_size_total_bytes gauge$/m);
      assert.throws(
        () => metrics.counter({ name: 'process_cpu_user_seconds_total', help: 'Clash.' }),
        /metric "process_cpu_user_seconds_total" cannot be declared: /,
      );
    });

    it('serves no gauge named *_total (promtool rejects prom-client\'s nodejs_active_*_total gauges)', async () => {
      const metrics = new PromMetrics({ collectDefaultMetrics: true });
      const text = await metrics.text();
      const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]] as const);

      assert.deepEqual(types.filter(([name, type]) => type !== 'counter' && name!.endsWith('_total')), []);
      for (const dropped of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        assert.doesNotMatch(text, new RegExp(`^${dropped}`, 'm'));
      }
      assert.match(text, /^# TYPE nodejs_active_handles gauge$/m, 'the per-type gauge still carries the same count');
    });
  });

  describe('exposition rules', () => {
    it('omits a labelled family that has no sample yet, as Piko (Go) does, and shows it once it has one', async () => {
      const metrics = new PromMetrics();
      const remote = metrics.counter({ name: 'piko_upstreams_remote_requests_total', help: 'Remote.', labelNames: ['node_id'] });
      metrics.counter({ name: 'piko_upstreams_upstream_requests_total', help: 'Local.' });

      const before = await metrics.text();
      assert.doesNotMatch(before, /piko_upstreams_remote_requests_total/);
      assert.match(before, /^piko_upstreams_upstream_requests_total 0$/m, 'an unlabelled counter keeps its zero sample');

      remote.inc({ node_id: 'abc' });
      const after = await metrics.text();
      assert.match(after, /^# TYPE piko_upstreams_remote_requests_total counter$/m);
      assert.match(after, /^piko_upstreams_remote_requests_total\{node_id="abc"\} 1$/m);
    });

    it('runs every beforeCollect hook before each exposition, so scrape-time gauges are current', async () => {
      const metrics = new PromMetrics();
      const nodes = metrics.gauge({ name: 'piko_cluster_nodes', help: 'Nodes.', labelNames: ['status'] });
      let active = 1;
      metrics.beforeCollect(() => nodes.set(active, { status: 'active' }));

      assert.match(await metrics.text(), /^piko_cluster_nodes\{status="active"\} 1$/m);
      active = 3;
      assert.match(await metrics.text(), /^piko_cluster_nodes\{status="active"\} 3$/m);
    });

    it('still exposes the registry when a beforeCollect hook throws, and reports the hook failure', async () => {
      const metrics = new PromMetrics();
      metrics.counter({ name: 'ok_total', help: 'Fine.' });
      const failures: unknown[] = [];
      metrics.beforeCollect(() => {
        throw new Error('hook broke');
      }, (error) => failures.push(error));

      assert.match(await metrics.text(), /^ok_total 0$/m);
      assert.equal(failures.length, 1);
    });
  });

  describe('.counter', () => {
    it('rejects an invalid metric name with a clear error', () => {
      assert.throws(() => new PromMetrics().counter({ name: 'not a name', help: 'Bad.' }), /metric "not a name" cannot be declared/);
    });
  });

  describe('.contentType', () => {
    it('is the Prometheus text format', () => {
      assert.match(new PromMetrics().contentType, /^text\/plain; version=0\.0\.4/);
    });
  });
});
