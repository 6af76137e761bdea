import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declareTcpRouteMetrics } from '../../../../../src/adapters/server/proxy/tcp-route-metrics.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

describe('declareTcpRouteMetrics', () => {
  it('declares the piko_proxy_tcp_* family, idempotently', () => {
    const metrics = new InMemoryMetrics();
    const m = declareTcpRouteMetrics(metrics);
    m.opened.inc();
    m.active.inc();
    m.bytesInbound.inc(undefined, 10);
    m.bytesOutbound.inc(undefined, 20);
    m.refused.inc({ reason: 'no_upstream' });
    const again = declareTcpRouteMetrics(metrics);
    again.opened.inc();
    assert.equal(metrics.value('piko_proxy_tcp_connections_total'), 2);
    assert.equal(metrics.value('piko_proxy_tcp_connections_active'), 1);
    assert.equal(metrics.value('piko_proxy_tcp_bytes_inbound_total'), 10);
    assert.equal(metrics.value('piko_proxy_tcp_bytes_outbound_total'), 20);
    assert.equal(metrics.value('piko_proxy_tcp_refused_total', { reason: 'no_upstream' }), 1);
  });
});
