import { UpstreamGoneError, type UpstreamConnection } from '../../../application/ports/upstream-transport.port.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import { MuxGoAwayError, MuxSessionClosedError, type MuxSession, type MuxStream } from '../../wire/mux/index.js';

/**
 * An upstream connection on the server: one WebSocket carrying one yamux session, on which the server opens a
 * stream per request. Owned by the upstream server; its state changes on the event loop only.
 */
export class WsUpstreamConnection implements UpstreamConnection {
  constructor(
    readonly id: string,
    readonly endpointId: EndpointId,
    readonly remoteAddress: string,
    readonly session: MuxSession,
  ) {}

  onStopAccepting(listener: () => void): void {
    if (!this.accepting) {
      listener();
      return;
    }
    let called = false;
    const once = (): void => {
      if (called) return;
      called = true;
      listener();
    };
    this.session.once('goaway', once);
    this.session.once('close', once);
    this.stopListeners.push(once);
  }

  private readonly stopListeners: Array<() => void> = [];

  get accepting(): boolean {
    return !this.session.closed && !this.session.remoteGoAway && !this.session.localGoAway;
  }

  openStream(): MuxStream {
    if (!this.accepting) throw new UpstreamGoneError(`upstream ${this.id} is not accepting streams`);
    try {
      return this.session.openStream();
    } catch (err) {
      if (err instanceof MuxGoAwayError || err instanceof MuxSessionClosedError) {
        throw new UpstreamGoneError(`upstream ${this.id}: ${err.message}`);
      }
      throw err;
    }
  }

  goAway(): void {
    if (!this.session.closed) this.session.goAway(0);
    for (const l of this.stopListeners.splice(0)) l();
  }

  close(): void {
    this.session.close();
  }
}
