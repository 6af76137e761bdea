import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import type { UpstreamConnection, UpstreamTransport } from '../../../application/ports/upstream-transport.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { RegisterUpstream } from '../../../application/use-cases/register-upstream.use-case.js';
import type { UnregisterUpstream } from '../../../application/use-cases/unregister-upstream.use-case.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import { endpointKey } from '../../../domain/endpoint/tenant.js';
import type { ReloadableTls } from '../../platform/tls/reloadable-tls.js';
import type { ServerTlsOptions } from '../../platform/tls/tls-material.js';
import { createPortServer } from '../../platform/tls/tls-server.js';
import { endpointFromPath } from '../../wire/endpoint-from-path.js';
import { writeJsonError, writeJsonErrorToSocket } from '../../wire/json-error.js';
import { MuxSession } from '../../wire/mux/index.js';
import { UPSTREAM_PATH } from '../../wire/routes.js';
import { MAX_WS_PAYLOAD, wsMuxTransport } from '../../wire/ws-mux-transport.js';
import { WsUpstreamConnection } from './ws-upstream-connection.js';
import type { UpstreamAuth } from './auth-upstream.js';
import type { Grant } from '../auth/auth-gate.js';
import { answerRefusalOnSocket } from '../auth/auth-answer.js';

/** Settings of the upstream port. */
export interface UpstreamServerSettings {
  readonly maxStreamsPerSession: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Most mux control frames queued for an agent that does not read (default 1024, see `MuxSessionOptions`). */
  readonly maxQueuedControlFrames?: number;
  /** Largest WebSocket message accepted from an agent (default {@link MAX_WS_PAYLOAD}). */
  readonly maxMessageBytes?: number;
  /** The port's certificate (WSS when set), reloaded without a restart; with client CAs, agents need a certificate. */
  readonly tls?: ReloadableTls<ServerTlsOptions>;
  /** Longest a shed connection's streams may run before it is closed (default {@link SHED_DRAIN_TIMEOUT_MS}). */
  readonly shedDrainTimeoutMs?: number;
}

/** Default bound on a shed connection's drain: Piko's default grace period. */
export const SHED_DRAIN_TIMEOUT_MS = 60_000;
/** How often a shed connection is checked for streams still open. */
const SHED_DRAIN_POLL_MS = 250;

/** Collaborators of the upstream port. */
export interface UpstreamServerDeps {
  readonly register: RegisterUpstream;
  readonly unregister: UnregisterUpstream;
  readonly clock: Clock;
  readonly log: Logger;
  /** Authentication (`upstream.auth`): checked before the upgrade; the connection ends when the token expires. */
  readonly auth?: UpstreamAuth;
}

/**
 * The upstream port: agents connect with a WebSocket to `/piko/v1/upstream/:endpointId` (a base path before
 * it is allowed) and the connection carries a yamux session on which this node opens a stream per request.
 * Invalid endpoint IDs are refused with a 400 before the upgrade.
 */
export class WsUpstreamServer implements UpstreamTransport {
  readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsUpstreamConnection>();
  private nextId = 1;
  private closing = false;
  /** Shed connections waiting for their streams to finish, with the timer of their next check. */
  private readonly draining = new Map<WsUpstreamConnection, Cancel>();

  constructor(
    private readonly settings: UpstreamServerSettings,
    private readonly deps: UpstreamServerDeps,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: settings.maxMessageBytes ?? MAX_WS_PAYLOAD,
    });
    this.server = createPortServer({}, settings.tls, (_req, res) =>
      writeJsonError(res, 404, 'not found: upstreams connect with a WebSocket to /piko/v1/upstream/:endpointId'),
    );
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** Number of connected upstreams. */
  get size(): number {
    return this.connections.size;
  }

  /** Refuses new connections (503, which agents retry elsewhere) and sends go-away on every session. */
  goAwayAll(): void {
    this.closing = true;
    this.server.close();
    for (const c of this.connections) c.goAway();
  }

  /**
   * Sends go-away on one connection, unregisters it at once and closes it once its streams have finished (polled
   * on the clock, at most `shedDrainTimeoutMs`): in-flight requests complete while the agent reconnects.
   */
  shed(connection: UpstreamConnection): boolean {
    if (!(connection instanceof WsUpstreamConnection) || !this.connections.has(connection) || !connection.accepting) return false;
    connection.goAway();
    this.deps.unregister.execute(connection, 'rebalance');
    const { clock } = this.deps;
    const deadline = clock.now() + (this.settings.shedDrainTimeoutMs ?? SHED_DRAIN_TIMEOUT_MS);
    const check = (): void => {
      this.draining.delete(connection);
      if (connection.session.closed) return;
      const left = deadline - clock.now();
      if (connection.session.streamCount === 0 || left <= 0) connection.close();
      else this.draining.set(connection, clock.schedule(Math.min(SHED_DRAIN_POLL_MS, left), check));
    };
    this.draining.set(connection, clock.schedule(Math.min(SHED_DRAIN_POLL_MS, Math.max(0, deadline - clock.now())), check));
    return true;
  }

  /** Closes every upstream connection and the listening socket. */
  closeAll(): void {
    this.closing = true;
    this.server.close();
    for (const cancel of this.draining.values()) cancel();
    this.draining.clear();
    for (const c of [...this.connections]) c.close();
    this.server.closeAllConnections();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Not a closure here: it lives as long as the socket, and would keep this call's request and head with it.
    socket.on('error', destroySelf);
    const target = endpointFromPath(req.url, UPSTREAM_PATH);
    if (target.kind === 'other') {
      writeJsonErrorToSocket(socket, 404, 'Not Found', 'not found');
      return;
    }
    if (target.kind === 'invalid') {
      writeJsonErrorToSocket(socket, 400, 'Bad Request', `invalid endpoint id: ${target.problem}`);
      return;
    }
    if (this.closing) {
      writeJsonErrorToSocket(socket, 503, 'Service Unavailable', 'server shutting down');
      return;
    }
    const { auth } = this.deps;
    if (auth === undefined) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, target.endpointId, remoteOf(req), undefined));
      return;
    }
    void auth.admit(req, target.endpointId).then((decision) => {
      if (socket.destroyed) return;
      if (!decision.ok) answerRefusalOnSocket(socket, decision);
      else if (this.closing) writeJsonErrorToSocket(socket, 503, 'Service Unavailable', 'server shutting down');
      else this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, target.endpointId, remoteOf(req), decision.grant));
    });
  }

  /**
   * Takes the upgraded connection. Gets the peer's address rather than the upgrade request: the closures made here
   * live as long as the connection, and would otherwise keep the request, its headers and their strings (about
   * 1 KiB per idle agent).
   */
  private accept(ws: WebSocket, endpointId: EndpointId, remote: string, grant: Grant | undefined): void {
    const transport = wsMuxTransport(ws, (error) => session.close(error));
    const session = new MuxSession(transport, {
      role: 'server',
      clock: this.deps.clock,
      maxStreams: this.settings.maxStreamsPerSession,
      keepAliveIntervalMs: this.settings.keepaliveIntervalMs,
      keepAliveTimeoutMs: this.settings.keepaliveTimeoutMs,
      ...(this.settings.maxQueuedControlFrames !== undefined
        ? { maxQueuedControlFrames: this.settings.maxQueuedControlFrames }
        : {}),
    });
    // A tenant's upstream registers under its tenant's key, so that no other tenant's requests can reach it.
    const connection = new WsUpstreamConnection(`u${this.nextId++}`, endpointKey(grant?.tenant, endpointId), remote, session);
    this.connections.add(connection);
    session.on('stream', (stream: Duplex) => {
      // Agents never open streams in this protocol: refuse politely.
      stream.destroy();
    });
    session.on('goaway', () => this.deps.unregister.execute(connection, 'go-away'));
    let stopExpiry: (() => void) | undefined;
    session.once('close', (err?: Error) => {
      stopExpiry?.();
      this.connections.delete(connection);
      this.deps.unregister.execute(connection, err === undefined ? 'closed' : err.message);
    });
    this.deps.register.execute(connection);
    // After registering: a token already past its expiry closes the connection at once, and the close unregisters it.
    if (grant !== undefined && !session.closed) stopExpiry = this.deps.auth?.watchExpiry(connection, grant);
  }
}

/** The address an upgrade request came from. */
function remoteOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/** An `'error'` listener that destroys the stream it is on. */
function destroySelf(this: Duplex): void {
  this.destroy();
}
