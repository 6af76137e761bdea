import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamConnection } from './upstream-transport.port.js';

/**
 * Where the forwarder sends one request: a local upstream connection, or a peer node's proxy port. A request
 * sent to a node carries the forwarded-hop marker, so that node serves it only from a local upstream (one hop at
 * most).
 */
export type ForwardTarget =
  | { readonly kind: 'upstream'; readonly upstream: UpstreamConnection }
  | { readonly kind: 'node'; readonly nodeId: string; readonly proxyAddr: string; readonly endpointId: string };

/** How a forward attempt ended, so that the proxy can retry, log and count it. */
export type ForwardOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  /**
   * Nothing was sent and nothing was written to the client: no tunnel stream could be opened on the upstream
   * (it has just gone away: `UpstreamGoneError`), or the peer node refused the connection. Safe to retry.
   */
  | { readonly kind: 'not-sent'; readonly error: Error }
  /** The response has been answered with an error status (502/504) or the client went away. */
  | { readonly kind: 'failed'; readonly status: number; readonly error: Error };

/** Options of one forward. */
export interface ForwardOptions {
  /** Longest wait for the response headers, counted from the end of the request body; 0 waits forever. */
  readonly headerTimeoutMs: number;
  /**
   * Headers added only when the target is a peer node: how this node vouches for the request it authenticated
   * (a hop proof, or the client's token). Never sent to an upstream.
   */
  readonly peerHeaders?: Readonly<Record<string, string>>;
}

/**
 * Sends an HTTP request (or an upgrade) to a target and streams the response back. The implementation owns
 * the HTTP details (hop-by-hop headers, X-Forwarded-*, error bodies); callers own routing and retries.
 */
export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome>;
  forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome>;
}
