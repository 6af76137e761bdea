import { Agent, type ClientRequestArgs } from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import { UpstreamGoneError, type UpstreamConnection } from '../../../application/ports/upstream-transport.port.js';
import { withSocketShape } from '../../http/socket-shape.js';

/** Idle pooled tunnel streams are closed after this long. */
export const IDLE_STREAM_TIMEOUT_MS = 60_000;

/**
 * An http.Agent whose connections are tunnel streams of one upstream connection, kept alive and reused for
 * later requests. Piko opens a stream per request (its §15 #13); reusing them saves the stream handshake and
 * the agent's per-connection HTTP set-up on every request. When no stream can be opened (the upstream has gone
 * away), the connection handed to node:http is one that fails at once with UpstreamGoneError: the request's
 * error says, from the stream's state, that nothing was sent, so the caller can try another upstream.
 */
export class UpstreamStreamAgent extends Agent {
  constructor(private readonly upstream: UpstreamConnection) {
    super({ keepAlive: true, maxFreeSockets: 256, timeout: IDLE_STREAM_TIMEOUT_MS, scheduling: 'lifo' });
    // Once the upstream drains or goes, idle streams are closed at once and busy ones when their request ends,
    // so the agent's drain is not held up by streams kept for reuse.
    upstream.onStopAccepting(() => {
      for (const list of Object.values(this.freeSockets)) for (const s of list ?? []) s.end();
    });
    this.on('free', (socket: Duplex) => {
      if (!upstream.accepting) socket.end();
    });
  }

  override createConnection(_options: ClientRequestArgs, _callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    // node:http and http-proxy-3 call net.Socket methods on the connection (see socket-shape.ts).
    let stream: Duplex;
    try {
      stream = this.upstream.openStream();
    } catch (err) {
      const gone = err instanceof UpstreamGoneError ? err : new UpstreamGoneError(String(err));
      const failed = new PassThrough();
      process.nextTick(() => failed.destroy(gone));
      return withSocketShape(failed);
    }
    return withSocketShape(stream);
  }
}
