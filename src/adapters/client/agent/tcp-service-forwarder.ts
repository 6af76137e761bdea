import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../application/ports/logger.port.js';
import { parseHostPort } from '../../platform/config/addresses.js';
import { pipeDuplex } from '../../platform/net/pipe-duplex.js';

/** Settings of one TCP listener of the agent. */
export interface TcpServiceSettings {
  /** `host:port` of the local service. */
  readonly addr: string;
  /** Dial timeout; 0 = none. */
  readonly timeoutMs: number;
  readonly endpointId: string;
}

/**
 * Serves the streams the server opens for one TCP endpoint: each stream becomes one TCP connection to the
 * local service. Half-close is kept both ways (a FIN on one side ends only that direction) and a reset on one
 * side resets the other; Piko closes both directions when either ends.
 */
export class TcpServiceForwarder {
  private readonly sockets = new Set<Socket>();
  private readonly host: string;
  private readonly port: number;

  constructor(
    private readonly settings: TcpServiceSettings,
    private readonly log: Logger,
  ) {
    const hp = parseHostPort(settings.addr);
    if (hp === undefined) throw new Error(`invalid tcp address ${JSON.stringify(settings.addr)}`);
    this.host = hp.host || 'localhost';
    this.port = hp.port;
  }

  /** Connections open to the local service. */
  get size(): number {
    return this.sockets.size;
  }

  /** Connects `stream` to the local service. */
  handle(stream: Duplex): void {
    const socket = connect({ host: this.host, port: this.port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(socket);
    if (this.settings.timeoutMs > 0) {
      socket.setTimeout(this.settings.timeoutMs, () => socket.destroy(new Error(`dial timeout after ${this.settings.timeoutMs} ms`)));
      socket.once('connect', () => socket.setTimeout(0));
    }
    socket.once('connect', () => this.log.info('connection opened', { 'endpoint-id': this.settings.endpointId }));
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.log.debug('connection closed', { 'endpoint-id': this.settings.endpointId });
    });
    pipeDuplex(stream, socket, (err) =>
      this.log.warn('connection to local service failed', { 'endpoint-id': this.settings.endpointId, error: err.message }),
    );
  }

  /** Closes every connection. */
  close(): void {
    for (const s of this.sockets) s.destroy();
  }
}
