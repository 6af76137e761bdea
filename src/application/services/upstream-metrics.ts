import type { Counter, Gauge, Metrics } from '../ports/metrics.port.js';

/** The upstream metrics of §9.1, declared once per node. */
export interface UpstreamMetrics {
  readonly connectedUpstreams: Gauge;
  readonly registeredEndpoints: Gauge;
  readonly upstreamRequests: Counter;
  readonly remoteRequests: Counter;
}

/** Declares Piko's upstream metrics on `metrics`. */
export function declareUpstreamMetrics(metrics: Metrics): UpstreamMetrics {
  return {
    connectedUpstreams: metrics.gauge({
      name: 'piko_upstreams_connected_upstreams',
      help: 'Number of upstream connections (listeners) connected to this node.',
    }),
    registeredEndpoints: metrics.gauge({
      name: 'piko_upstreams_registered_endpoints',
      help: 'Number of endpoints with at least one upstream connected to this node.',
    }),
    upstreamRequests: metrics.counter({
      name: 'piko_upstreams_upstream_requests_total',
      help: 'Requests and TCP connections sent to a local upstream.',
    }),
    remoteRequests: metrics.counter({
      name: 'piko_upstreams_remote_requests_total',
      help: 'Requests and TCP connections forwarded to another node.',
      labelNames: ['node_id'],
    }),
  };
}
