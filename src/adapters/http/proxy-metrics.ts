import type { Counter, Gauge, Histogram, Metrics } from '../../application/ports/metrics.port.js';

/** Prometheus' default latency buckets, in seconds, as Piko uses. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Piko's size buckets, in bytes. */
export const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304] as const;

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
