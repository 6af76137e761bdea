import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** What is known of one proxied request when it ends; the access log formats and filters it. */
export interface AccessEntry {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly proto: string;
  readonly status: number;
  readonly durationMs: number;
  readonly endpointId: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly clientIp: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly responseHeaders: OutgoingHttpHeaders;
}

/** Receives one entry per finished request. */
export type AccessLogSink = (entry: AccessEntry) => void;
