import type { AccessLogRequest } from './access-log.js';

/**
 * What is known of one proxied request when it ends: the access log's request record with every optional fact
 * present. The access log formats and filters it; the agent's metrics count it.
 */
export type AccessEntry = AccessLogRequest & {
  readonly endpointId: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly clientIp: string;
};

/** Receives one entry per finished request. */
export type AccessLogSink = (entry: AccessEntry) => void;
