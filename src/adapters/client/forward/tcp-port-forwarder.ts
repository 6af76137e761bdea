import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../application/ports/logger.port.js';
import { formatAddress, type BoundAddress } from '../../platform/net/listen.js';
import { parseHostPort } from '../../platform/config/addresses.js';
import { TCP_PATH } from '../../wire/routes.js';
import { pipeStreamOverWebSocket } from '../../wire/ws-byte-pipe.js';
import { dialWebSocket, routeUrl, serverKeepsHalfClose, type DialOptions } from '../ws-upstream-dialer.js';
import type { TokenSource } from '../token-source.js';

/** One forwarded port. */
export interface PortForwardSettings {
  /** Local listen address: a port (loopback only) or host:port. */
  readonly addr: string;
  readonly endpointId: string;
  /** The server's proxy port URL (base path kept). */
  readonly connectUrl: string;
  readonly dial: DialOptions;
  /** The token presented on each tunnel, asked for each connection (a rotated token file is used at once). */
  readonly tokens?: TokenSource;
}

/**
 * Maps a local TCP port to an endpoint: every accepted connection is carried over its own WebSocket to the
 * proxy port's TCP route (`/_piko/v1/tcp/:endpointId`), with half-close kept. A refusal by the server is
 * logged with its reason (`502: no available upstreams`, `401: invalid token`) and the local connection closed.
 */
export class TcpPortForwarder {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly settings: PortForwardSettings,
    private readonly log: Logger,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
  }

  /** Binds the local port. */
  listen(): Promise<BoundAddress> {
    const raw = /^\d+$/.test(this.settings.addr) ? `127.0.0.1:${this.settings.addr}` : this.settings.addr;
    const hp = parseHostPort(raw);
    if (hp === undefined) return Promise.reject(new Error(`invalid forward address ${JSON.stringify(this.settings.addr)}`));
    return new Promise((resolve, reject) => {
      this.server.once('error', (err) => reject(new Error(`listen ${raw}: ${err.message}`)));
      this.server.listen(hp.port, hp.host || '127.0.0.1', () => {
        const a = this.server.address();
        if (a === null || typeof a === 'string') return reject(new Error('no address'));
        this.log.info('forwarding', { addr: formatAddress({ host: a.address, port: a.port }), 'endpoint-id': this.settings.endpointId });
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting; with `drop`, also closes live tunnels. */
  close(drop = false): void {
    this.server.close();
    if (drop) for (const s of this.sockets) s.destroy();
  }

  /** Live tunnels. */
  get size(): number {
    return this.sockets.size;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const url = routeUrl(this.settings.connectUrl, TCP_PATH, this.settings.endpointId);
    const { tokens } = this.settings;
    const dial = tokens === undefined ? dialWebSocket(url, this.settings.dial) : tokens.current().then((token) => dialWebSocket(url, { ...this.settings.dial, ...(token ? { token } : {}) }));
    dial.then(
      (ws) => {
        // Half-close only where the server keeps it (a piko-ts server); behind Piko, one end closes both.
        void pipeStreamOverWebSocket(ws, socket, undefined, { halfClose: serverKeepsHalfClose(ws) });
        ws.resume();
        socket.resume();
      },
      (err: Error) => {
        this.log.warn('tunnel refused', { 'endpoint-id': this.settings.endpointId, error: err.message });
        socket.destroy();
      },
    );
  }
}
