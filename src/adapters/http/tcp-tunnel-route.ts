import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../application/ports/logger.port.js';
import type { TunnelStream } from '../../application/ports/upstream-transport.port.js';
import { SENT, type DispatchRequest } from '../../application/use-cases/dispatch-request.use-case.js';
import { endpointFromPath } from './passes/endpoint-from-path.js';
import type { Forwarder } from '../../application/ports/forwarder.port.js';
import { pipeStreamOverWebSocket } from '../transport/ws-byte-pipe.js';
import { MAX_WS_PAYLOAD } from '../transport/ws-upstream-server.js';
import { ProxyErrors, writeJsonErrorToSocket } from './json-error.js';
import { stripInternalHeaders } from './passes/strip-internal-headers.js';

/** Path of the TCP route after any base path (Piko's `/_piko/v1/tcp/:endpointId`). */
export const TCP_PATH = '/_piko/v1/tcp/';

/** Collaborators of the TCP route. */
export interface TcpTunnelRouteDeps {
  readonly dispatch: DispatchRequest;
  readonly forwarder: Forwarder;
  readonly log: Logger;
}

/**
 * The proxy port's TCP route: a WebSocket whose binary payloads are piped to one stream to an upstream of the
 * endpoint. A 502 JSON answers before the upgrade when no upstream exists. No idle or request timeout applies:
 * a live TCP tunnel is never cut by the proxy. Returns a handler for the proxy's upgrade event that answers
 * false for paths it does not own.
 */
export function createTcpTunnelRoute(deps: TcpTunnelRouteDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_WS_PAYLOAD });
  let open = 0;
  return (req, socket, head) => {
    const target = endpointFromPath(req.url, TCP_PATH);
    if (target.kind === 'other') return false;
    socket.on('error', () => socket.destroy());
    if (target.kind === 'invalid') {
      writeJsonErrorToSocket(socket, 400, 'Bad Request', `invalid endpoint id: ${target.problem}`);
      return true;
    }
    const { endpointId } = target;
    const forwarded = req.headers['x-piko-forward'] === 'true';
    void deps.dispatch
      .execute(endpointId, forwarded, (route) => {
        if (route.kind === 'remote') {
          // The peer terminates the WebSocket: hand it the upgrade as is.
          req.headers['x-piko-forward'] = 'true';
          void deps.forwarder.forwardUpgrade(req, socket, head, { kind: 'node', proxyAddr: route.node.proxyAddr }, { headerTimeoutMs: 0 });
          return SENT;
        }
        let stream: TunnelStream;
        try {
          stream = route.upstream.openStream();
        } catch (err) {
          return { sent: false, error: err instanceof Error ? err : new Error(String(err)) };
        }
        stripInternalHeaders(req.headers);
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.binaryType = 'nodebuffer';
          open++;
          deps.log.debug('tcp tunnel opened', { 'endpoint-id': endpointId, open });
          void pipeStreamOverWebSocket(ws, stream).then((end) => {
            open--;
            deps.log.debug('tcp tunnel closed', { 'endpoint-id': endpointId, clean: end.clean, ...(end.clean ? {} : { reason: end.reason }) });
          });
        });
        return SENT;
      })
      .then((sent) => {
        if (!sent) writeJsonErrorToSocket(socket, 502, 'Bad Gateway', ProxyErrors.noUpstreams);
      });
    return true;
  };
}
