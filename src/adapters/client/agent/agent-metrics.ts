import type { Metrics } from '../../../application/ports/metrics.port.js';
import type { AccessEntry, AccessLogSink } from '../../http/access-entry.js';
import { LATENCY_BUCKETS, SIZE_BUCKETS } from '../../platform/metrics/buckets.js';

/**
 * The agent's per-endpoint HTTP metrics (Piko §9.2), declared once per process and labelled by endpoint so
 * that several listeners share them (Piko panicked on a duplicate registration with two listeners).
 * Returns a sink that records one finished request.
 */
export function agentMetricsSink(metrics: Metrics): AccessLogSink {
  const requests = metrics.counter({
    name: 'piko_agent_requests_total',
    help: 'Requests forwarded by the agent to local services.',
    labelNames: ['status', 'method', 'endpoint'],
  });
  const latency = metrics.histogram({
    name: 'piko_agent_request_latency_seconds',
    help: 'Time to forward a request to the local service and stream its response back.',
    labelNames: ['status', 'method', 'endpoint'],
    buckets: LATENCY_BUCKETS,
  });
  const requestSize = metrics.histogram({
    name: 'piko_agent_request_size_bytes',
    help: 'Request body bytes per request.',
    labelNames: ['endpoint'],
    buckets: SIZE_BUCKETS,
  });
  const responseSize = metrics.histogram({
    name: 'piko_agent_response_size_bytes',
    help: 'Response body bytes per request (from Content-Length when known).',
    labelNames: ['endpoint'],
    buckets: SIZE_BUCKETS,
  });
  return (e: AccessEntry) => {
    const labels = { status: String(e.status), method: e.method, endpoint: e.endpointId };
    requests.inc(labels);
    latency.observe(e.durationMs / 1000, labels);
    requestSize.observe(e.bytesIn, { endpoint: e.endpointId });
    responseSize.observe(e.bytesOut, { endpoint: e.endpointId });
  };
}

/** An HTTP listener whose requests in flight the agent reports. */
export interface InFlightSource {
  readonly endpointId: string;
  /** Requests being served by the listener now. */
  requestsInFlight(): number;
}

/**
 * Declares `piko_agent_requests_in_flight{endpoint}` (Piko §9.2) and returns a hook that sets it from
 * `sources` (summed per endpoint, since several listeners may serve one endpoint); run the hook before each
 * scrape (`PromMetrics.beforeCollect`).
 */
export function agentInFlightHook(metrics: Metrics, sources: readonly InFlightSource[]): () => void {
  const inFlight = metrics.gauge({
    name: 'piko_agent_requests_in_flight',
    help: 'Requests being forwarded by the agent to local services.',
    labelNames: ['endpoint'],
  });
  return () => {
    const byEndpoint = new Map<string, number>();
    for (const source of sources) {
      byEndpoint.set(source.endpointId, (byEndpoint.get(source.endpointId) ?? 0) + source.requestsInFlight());
    }
    for (const [endpoint, count] of byEndpoint) inFlight.set(count, { endpoint });
  };
}

/** Calls every defined sink; undefined when there is none, so callers skip collecting entries. */
export function combineSinks(...sinks: Array<AccessLogSink | undefined>): AccessLogSink | undefined {
  const present = sinks.filter((s): s is AccessLogSink => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (entry) => {
    for (const s of present) s(entry);
  };
}
