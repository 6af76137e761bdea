import type { Duplex } from 'node:stream';
import type { Upstream } from '../../domain/upstream/upstream.js';

/**
 * A byte stream to an upstream, opened per proxied HTTP request or TCP connection. It behaves like a socket:
 * `end()` half-closes, `destroy()` resets.
 */
export type TunnelStream = Duplex;

/** Raised by `openStream` when the connection has gone away or closed: try another upstream. */
export class UpstreamGoneError extends Error {
  constructor(message = 'upstream is gone') {
    super(message);
    this.name = 'UpstreamGoneError';
  }
}

/**
 * One registered upstream connection (Piko: one WebSocket carrying a yamux session). The transport adapter
 * creates it; use cases register it in the routing table and open streams through it.
 */
export interface UpstreamConnection extends Upstream {
  /** Address of the agent, for logs and the status API. */
  readonly remoteAddress: string;
  /** False once the peer sent go-away or the connection closed: route new traffic elsewhere. */
  readonly accepting: boolean;
  /** Opens a stream to the upstream at once. Throws UpstreamGoneError when `accepting` is false. */
  openStream(): TunnelStream;
  /**
   * Calls `listener` once when the connection stops accepting streams (go-away from either side, or close),
   * so holders of idle streams can release them.
   */
  onStopAccepting(listener: () => void): void;
  /** Asks the agent to stop using this connection (go-away) while in-flight streams finish. */
  goAway(): void;
  /** Closes the connection and every stream on it. */
  close(): void;
}

/**
 * The server side of the upstream port: it accepts agents' connections, hands each one that completed its
 * handshake to the register use case (and to unregister when it ends), and can let them all go. Implemented over
 * WebSocket + yamux (`WsUpstreamServer`); a fake accepts in-memory connections.
 *
 * Contract: `goAwayAll` refuses new connections at once and asks every connected agent to move (in-flight
 * streams finish); `closeAll` closes every connection and its streams. Both are idempotent; neither throws.
 * `shed` moves one connection the same graceful way while the node keeps serving (rebalancing).
 */
export interface UpstreamTransport {
  /** Connections currently registered. */
  readonly size: number;
  /** Refuses new connections and sends go-away on every connection. */
  goAwayAll(): void;
  /**
   * Asks the agent of one open connection to move (go-away: it reconnects, through the load balancer, to some
   * node) without cutting its in-flight streams: the connection is unregistered at once, so no new request is
   * routed to it, and closed once its streams have finished (or after a bound). Returns false, doing nothing,
   * when `connection` is not open on this transport or is already leaving. Never throws.
   */
  shed(connection: UpstreamConnection): boolean;
  /** Closes every connection and stops accepting. */
  closeAll(): void;
}
