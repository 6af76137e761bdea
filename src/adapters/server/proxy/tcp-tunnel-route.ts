import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Forwarder } from '../../../application/ports/forwarder.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { TunnelStream } from '../../../application/ports/upstream-transport.port.js';
import type { DispatchRequest } from '../../../application/use-cases/dispatch-request.use-case.js';
import type { ForwardOutcome } from '../../../application/ports/forwarder.port.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import { endpointKey } from '../../../domain/endpoint/tenant.js';
import { pipeStreamOverWebSocket } from '../../wire/ws-byte-pipe.js';
import { ProxyErrors, writeJsonErrorToSocket } from '../../wire/json-error.js';
import { endpointFromPath } from '../../wire/endpoint-from-path.js';
import { HALF_CLOSE_HEADER, TCP_PATH } from '../../wire/routes.js';
import { stripInternalHeaders } from './passes/strip-internal-headers.js';
import type { TcpRouteMetrics } from './tcp-route-metrics.js';
import { websocketHandshakeProblem } from './websocket-handshake.js';
import type { ProxyAuth } from './auth-proxy.js';
import type { Grant } from '../auth/auth-gate.js';
import { answerRefusalOnSocket } from '../auth/auth-answer.js';

/** Default largest WebSocket message accepted on the TCP route (`proxy.tcp.max_message_bytes`). */
export const DEFAULT_TCP_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Settings of the TCP route. */
export interface TcpTunnelRouteSettings {
  /** Largest WebSocket message accepted from a client; a larger one closes the tunnel with 1009. */
  readonly maxMessageBytes: number;
}

/** Collaborators of the TCP route. */
export interface TcpTunnelRouteDeps {
  readonly dispatch: DispatchRequest;
  readonly forwarder: Forwarder;
  readonly log: Logger;
  readonly metrics: TcpRouteMetrics;
  /** Authentication (`proxy.auth`), checked before the handshake is looked at and anything is opened. */
  readonly auth?: ProxyAuth;
}

/** A handler of the proxy's upgrade event; answers false for paths it does not own. */
export type PikoUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/**
 * The proxy port's TCP route: a WebSocket whose binary payloads are piped to one stream to an upstream of the
 * endpoint. The client's handshake is checked first, so that nothing is opened toward an upstream for a
 * handshake that is bound to fail; a 502 JSON answers before the upgrade when no upstream exists. Then, as in
 * Piko, the stream is opened before the upgrade completes, so that an upstream that has just gone away is
 * replaced by another. From the moment it is opened, the stream is owned: its errors are handled, and it is
 * destroyed if the upgrade does not complete. No idle or request timeout applies: a live TCP tunnel is never
 * cut by the proxy.
 */
export function createTcpTunnelRoute(settings: TcpTunnelRouteSettings, deps: TcpTunnelRouteDeps): PikoUpgradeHandler {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: settings.maxMessageBytes });
  wss.on('headers', (headers: string[]) => headers.push(`${HALF_CLOSE_HEADER}: 1`));
  const { metrics } = deps;
  let open = 0;

  const tunnel = (ws: WebSocket, stream: TunnelStream, endpointId: EndpointId): void => {
    ws.binaryType = 'nodebuffer';
    open++;
    metrics.opened.inc();
    metrics.active.inc();
    deps.log.debug('tcp tunnel opened', { 'endpoint-id': endpointId, open });
    const counters = {
      inbound: (n: number) => metrics.bytesInbound.inc(undefined, n),
      outbound: (n: number) => metrics.bytesOutbound.inc(undefined, n),
    };
    void pipeStreamOverWebSocket(ws, stream, counters).then((end) => {
      open--;
      metrics.active.dec();
      const why = end.clean ? {} : { reason: end.reason };
      deps.log.debug('tcp tunnel closed', { 'endpoint-id': endpointId, clean: end.clean, ...why });
    });
  };

  /** Opens a stream on a local upstream and upgrades; the stream is destroyed if the upgrade never completes. */
  const openLocal = (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    endpointId: EndpointId,
    openStream: () => TunnelStream,
  ): ForwardOutcome => {
    // The client left while another upstream was tried: nothing to open.
    if (socket.destroyed) return { kind: 'failed', status: 499, error: new Error('client closed the connection') };
    let stream: TunnelStream;
    try {
      stream = openStream();
    } catch (err) {
      return { kind: 'not-sent', error: err instanceof Error ? err : new Error(String(err)) };
    }
    let upgraded = false;
    const orphanError = (err: Error): void =>
      deps.log.debug('tcp tunnel stream failed before the upgrade', { 'endpoint-id': endpointId, error: err.message });
    stream.on('error', orphanError);
    socket.once('close', () => {
      if (!upgraded) stream.destroy();
    });
    stripInternalHeaders(req.headers);
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      stream.off('error', orphanError);
      if (stream.destroyed) {
        ws.terminate();
        return;
      }
      tunnel(ws, stream, endpointId);
    });
    return { kind: 'ok', status: 101 };
  };

  /** Checks the handshake of an authenticated upgrade, then opens the tunnel (or hands it to the peer node). */
  function serve(req: IncomingMessage, socket: Duplex, head: Buffer, endpointId: EndpointId, grant: Grant | undefined): void {
    const problem = websocketHandshakeProblem(req.method, req.headers);
    if (problem !== undefined) {
      metrics.refused.inc({ reason: 'bad_handshake' });
      const reason = problem.status === 405 ? 'Method Not Allowed' : 'Bad Request';
      writeJsonErrorToSocket(socket, problem.status, reason, problem.message, problem.headers);
      return;
    }
    const forwarded = req.headers['x-piko-forward'] === 'true';
    if (grant !== undefined) deps.auth?.strip(req.headers, grant);
    const peerHeaders = grant === undefined ? undefined : deps.auth?.peerHeaders(grant, endpointId);
    void deps.dispatch
      .execute(endpointId, forwarded, async (target) => {
        if (target.kind === 'upstream') return openLocal(req, socket, head, endpointId, () => target.upstream.openStream());
        // The peer node terminates the WebSocket: the forwarder hands it the upgrade with the hop marker.
        return deps.forwarder.forwardUpgrade(req, socket, head, target, { headerTimeoutMs: 0, ...(peerHeaders !== undefined ? { peerHeaders } : {}) });
      })
      .then(
        (outcome) => {
          if (outcome.kind !== 'no-route' && outcome.kind !== 'not-sent') return;
          metrics.refused.inc({ reason: 'no_upstream' });
          writeJsonErrorToSocket(socket, 502, 'Bad Gateway', ProxyErrors.noUpstreams);
        },
        (err: unknown) => {
          deps.log.warn('tcp tunnel dispatch failed', { 'endpoint-id': endpointId, error: String(err) });
          socket.destroy();
        },
      );
  }

  return (req, socket, head) => {
    const target = endpointFromPath(req.url, TCP_PATH);
    if (target.kind === 'other') return false;
    socket.on('error', () => socket.destroy());
    if (target.kind === 'invalid') {
      metrics.refused.inc({ reason: 'invalid_endpoint' });
      writeJsonErrorToSocket(socket, 400, 'Bad Request', `invalid endpoint id: ${target.problem}`);
      return true;
    }
    const { endpointId } = target;
    if (deps.auth === undefined) {
      serve(req, socket, head, endpointId, undefined);
      return true;
    }
    void deps.auth.check(req.headers, endpointId, req.socket.remoteAddress ?? '').then((decision) => {
      if (socket.destroyed) return;
      if (decision.ok) {
        // A tenant's tunnel reaches only that tenant's endpoint of this ID.
        serve(req, socket, head, endpointKey(decision.grant.tenant, endpointId), decision.grant);
        return;
      }
      metrics.refused.inc({ reason: 'unauthorized' });
      answerRefusalOnSocket(socket, decision);
    });
    return true;
  };
}
