import type { Counter, Gauge, Metrics } from '../../../application/ports/metrics.port.js';

/** Why the TCP route refused a connection (the `reason` label of `piko_proxy_tcp_refused_total`). */
export type TcpRefusal = 'invalid_endpoint' | 'bad_handshake' | 'no_upstream';

/**
 * Metrics of the proxy port's TCP route (`/_piko/v1/tcp/:endpointId`). Piko has none for it (its request
 * metrics count the upgrade only); the names follow its `piko_proxy_*` family and its `_inbound` / `_outbound`
 * byte counters. Inbound bytes come from the client and go to the upstream; outbound bytes go the other way.
 */
export interface TcpRouteMetrics {
  /** Tunnels opened: the WebSocket upgrade completed and a stream to an upstream is open. */
  readonly opened: Counter;
  /** Tunnels open now. */
  readonly active: Gauge;
  readonly bytesInbound: Counter;
  readonly bytesOutbound: Counter;
  /** Connections refused before the upgrade, by {@link TcpRefusal}. */
  readonly refused: Counter;
}

/** Declares the TCP route's metrics on `metrics` (idempotent, as every declaration of the port). */
export function declareTcpRouteMetrics(metrics: Metrics): TcpRouteMetrics {
  return {
    opened: metrics.counter({ name: 'piko_proxy_tcp_connections_total', help: 'TCP tunnels opened on the proxy port.' }),
    active: metrics.gauge({ name: 'piko_proxy_tcp_connections_active', help: 'TCP tunnels open on the proxy port.' }),
    bytesInbound: metrics.counter({
      name: 'piko_proxy_tcp_bytes_inbound_total',
      help: 'Bytes received from TCP-tunnel clients and sent to upstreams.',
    }),
    bytesOutbound: metrics.counter({
      name: 'piko_proxy_tcp_bytes_outbound_total',
      help: 'Bytes received from upstreams and sent to TCP-tunnel clients.',
    }),
    refused: metrics.counter({
      name: 'piko_proxy_tcp_refused_total',
      help: 'TCP-tunnel connections refused before the upgrade, by reason (invalid_endpoint, bad_handshake, no_upstream).',
      labelNames: ['reason'],
    }),
  };
}
