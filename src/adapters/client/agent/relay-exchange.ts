import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { Socket } from 'node:net';
import { lastForwardedFor, type AccessEntry, type AccessLogSink } from '../../http/access-entry.js';
import type { BodyTracker } from '../../http/relay/http1-body.js';
import { headerRecord, headerValue, type RequestHead, type ResponseHead } from '../../http/relay/http1-head.js';

/** Settings of the relay of one HTTP listener whose service is plain `http://` with no base path. */
export interface HttpRelaySettings {
  readonly host: string;
  readonly port: number;
  /** Longest wait for the response headers after the request body was sent; 0 = none. Also bounds connecting. */
  readonly timeoutMs: number;
  readonly endpointId: string;
  /** Largest request head (request line and headers) accepted from the server. */
  readonly maxHeaderBytes: number;
}

/** What a stream's relay needs of the listener's relay: settings, time, logs, the dialler and the in-flight count. */
export interface RelayOwner {
  readonly settings: HttpRelaySettings;
  readonly clock: Clock;
  readonly accessLog?: AccessLogSink;
  readonly log?: Logger;
  readonly dial: (port: number, host: string) => Socket;
  requestsInFlight: number;
}

/** One exchange: the request being relayed and what is known of its response. */
export interface Exchange {
  readonly head: RequestHead;
  readonly headBytes: Buffer;
  readonly started: number;
  readonly body: BodyTracker;
  readonly upgrade: boolean;
  /** The request may be sent again on a fresh connection if a reused one dies before answering. */
  readonly replayable: boolean;
  sent: boolean;
  response?: ResponseHead;
  responseBody?: BodyTracker;
  timer?: Cancel;
}

/** The access log entry of an exchange that ended with `status` after `durationMs`. */
export function accessEntry(ex: Exchange, status: number, durationMs: number, endpointId: string): AccessEntry {
  const { head } = ex;
  const requestHeaders = headerRecord(head.headers);
  return {
    method: head.method,
    host: headerValue(head.headers, 'host') ?? '',
    path: head.target.split('?', 1)[0] ?? '/',
    proto: `HTTP/${head.version}`,
    status,
    durationMs,
    endpointId,
    bytesIn: ex.body.payload,
    bytesOut: ex.responseBody?.payload ?? 0,
    clientIp: lastForwardedFor(headerValue(head.headers, 'x-forwarded-for')),
    requestHeaders,
    responseHeaders: ex.response === undefined ? {} : headerRecord(ex.response.headers),
  };
}
