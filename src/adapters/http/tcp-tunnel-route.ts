import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../application/ports/logger.port.js';
import { UpstreamGoneError, type TunnelStream } from '../../application/ports/upstream-transport.port.js';
import type { RouteRequest } from '../../application/use-cases/route-request.use-case.js';
import type { UnregisterUpstream } from '../../application/use-cases/unregister-upstream.use-case.js';
import { endpointIdProblem, type EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Forwarder } from '../../application/ports/forwarder.port.js';
import { pipeStreamOverWebSocket } from '../transport/ws-byte-pipe.js';
import { MAX_WS_PAYLOAD } from '../transport/ws-upstream-server.js';
import { ProxyErrors, writeJsonErrorToSocket } from './json-error.js';
import { stripInternalHeaders } from './passes/strip-internal-headers.js';

/** Path of the TCP route after any base path (Piko's `/_piko/v1/tcp/:endpointId`). */
export const TCP_PATH = '/_piko/v1/tcp/';

/** Collaborators of the TCP route. */
export interface TcpTunnelRouteDeps {
  readonly route: RouteRequest;
  readonly unregister: UnregisterUpstream;
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
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    const at = path.lastIndexOf(TCP_PATH);
    if (at < 0) return false;
    socket.on('error', () => socket.destroy());
    let raw: string;
    try {
      raw = decodeURIComponent(path.slice(at + TCP_PATH.length));
    } catch {
      raw = '';
    }
    const problem = endpointIdProblem(raw);
    if (problem !== undefined) {
      writeJsonErrorToSocket(socket, 400, 'Bad Request', `invalid endpoint id: ${problem}`);
      return true;
    }
    const endpointId = raw as EndpointId;
    const forwarded = req.headers['x-piko-forward'] === 'true';
    const tried = new Set<string>();
    for (let attempt = 0; attempt < 4; attempt++) {
      const route = deps.route.execute({ endpointId, forwarded, exclude: tried });
      if (route === undefined) break;
      if (route.kind === 'remote') {
        // The peer terminates the WebSocket: hand it the upgrade as is.
        req.headers['x-piko-forward'] = 'true';
        void deps.forwarder.forwardUpgrade(req, socket, head, { kind: 'node', proxyAddr: route.node.proxyAddr }, { headerTimeoutMs: 0 });
        return true;
      }
      let stream: TunnelStream;
      try {
        stream = route.upstream.openStream();
      } catch (err) {
        tried.add(route.upstream.id);
        if (err instanceof UpstreamGoneError) deps.unregister.execute(route.upstream, 'gone');
        continue;
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
      return true;
    }
    writeJsonErrorToSocket(socket, 502, 'Bad Gateway', ProxyErrors.noUpstreams);
    return true;
  };
}
