import type { Counter, Gauge, Histogram, Metrics } from '../../../application/ports/metrics.port.js';
import { LATENCY_BUCKETS, SIZE_BUCKETS } from '../../platform/metrics/buckets.js';


/** The proxy-port metrics of §9.1. */
export interface ProxyMetrics {
  readonly inFlight: Gauge;
  readonly requests: Counter;
  readonly latency: Histogram;
  readonly requestSize: Histogram;
  readonly responseSize: Histogram;
}

/** Declares Piko's proxy metrics on `metrics`. */
export function declareProxyMetrics(metrics: Metrics): ProxyMetrics {
  return {
    inFlight: metrics.gauge({ name: 'piko_proxy_requests_in_flight', help: 'Requests being handled on the proxy port.' }),
    requests: metrics.counter({
      name: 'piko_proxy_requests_total',
      help: 'Requests completed on the proxy port.',
      labelNames: ['status', 'method'],
    }),
    latency: metrics.histogram({
      name: 'piko_proxy_request_latency_seconds',
      help: 'Time from request to the end of the response on the proxy port.',
      labelNames: ['status', 'method'],
      buckets: LATENCY_BUCKETS,
    }),
    requestSize: metrics.histogram({
      name: 'piko_proxy_request_size_bytes',
      help: 'Bytes received per request on the proxy port (head and body).',
      buckets: SIZE_BUCKETS,
    }),
    responseSize: metrics.histogram({
      name: 'piko_proxy_response_size_bytes',
      help: 'Bytes sent per response on the proxy port (head and body).',
      buckets: SIZE_BUCKETS,
    }),
  };
}
