import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { AccessLogSink } from '../../http/access-entry.js';
import type { HttpRelaySettings, RelayOwner } from './relay-exchange.js';
import { StreamRelay } from './stream-relay.js';

export type { HttpRelaySettings } from './relay-exchange.js';

/**
 * Relays HTTP/1.1 between tunnel streams and a plain-HTTP local service without rebuilding the messages: each
 * stream gets its own connection to the service (dialled when its first request arrives, dialled again when the
 * service closed it between requests), request and response bytes pass through as they came, and only the heads
 * are read, for the framing (where each message ends), the access log and the header timeout. The server has
 * already validated and normalised every request (hop-by-hop headers gone, `Connection: keep-alive`), which is
 * what makes a pass-through safe; a head or framing that is not strict HTTP/1.1 is still refused here (400 for
 * the server's side, 502 for the service's), never guessed at. One request at a time per stream, as HTTP/1.1
 * without pipelining; a WebSocket upgrade answered 101 turns the stream into a raw pipe.
 *
 * The general path ({@link HttpServiceForwarder} with http-proxy-3) serves `https://` services and services
 * under a base path; this one costs the agent about a third of the CPU per request.
 */
export class HttpRelay implements RelayOwner {
  private readonly relays = new Set<StreamRelay>();
  /** Requests being served. */
  requestsInFlight = 0;

  constructor(
    readonly settings: HttpRelaySettings,
    readonly clock: Clock,
    readonly accessLog?: AccessLogSink,
    readonly log?: Logger,
    readonly dial: (port: number, host: string) => Socket = (port, host) => connect({ port, host, noDelay: true }),
  ) {}

  /** Serves one tunnel stream. */
  handle(stream: Duplex): void {
    const relay = new StreamRelay(this, stream);
    this.relays.add(relay);
    stream.once('close', () => this.relays.delete(relay));
  }

  /** Closes tunnel streams that carry no request now (kept open by the server for reuse). */
  closeIdleStreams(): void {
    for (const r of this.relays) r.closeIfIdle();
  }

  /** Closes every stream and service connection. */
  close(): void {
    for (const r of [...this.relays]) r.destroy();
  }
}

