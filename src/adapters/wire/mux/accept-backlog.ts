import type { MuxStream } from './stream.js';

/**
 * The `'error'` listener of a stream waiting in the backlog: until an owner takes it, nobody else could handle
 * its errors (a peer's RST, the session closing), and an unhandled `'error'` would end the process.
 */
function backlogErrorSink(): void {}

/** What the backlog needs of its session (the session itself: no closures kept per session). */
export interface AcceptBacklogHooks {
  /** True once the session is closed. */
  readonly closed: boolean;
  /** True while the session has a `'stream'` listener. */
  _muxListening(): boolean;
  /** Emits `'stream'` for `stream`. */
  _muxDeliver(stream: MuxStream): void;
}

/**
 * Inbound streams on their way to the application: delivered at once (and then ACKed) while someone listens for
 * `'stream'`, else held, in order, up to `limit` (yamux's accept backlog), until a listener arrives.
 */
export class AcceptBacklog {
  readonly #limit: number;
  readonly #hooks: AcceptBacklogHooks;
  #waiting: MuxStream[] = [];

  constructor(limit: number, hooks: AcceptBacklogHooks) {
    this.#limit = limit;
    this.#hooks = hooks;
  }

  /** Streams held. */
  get length(): number {
    return this.#waiting.length;
  }

  /** True when a new inbound stream would find no listener and no room: it must be refused. */
  get full(): boolean {
    return !this.#hooks._muxListening() && this.#waiting.length >= this.#limit;
  }

  /** Delivers `stream` now, or holds it (with an `'error'` sink) behind those already waiting. */
  admit(stream: MuxStream): void {
    if (this.#hooks._muxListening() && this.#waiting.length === 0) {
      this.#deliver(stream);
    } else {
      stream.on('error', backlogErrorSink);
      this.#waiting.push(stream);
    }
  }

  /** Delivers the held streams, in order, while someone listens; those destroyed meanwhile are skipped. */
  readonly drain = (): void => {
    while (this.#waiting.length > 0 && !this.#hooks.closed && this.#hooks._muxListening()) {
      const stream = this.#waiting.shift()!;
      if (stream.destroyed) continue;
      this.#deliver(stream);
    }
  };

  /** Forgets every held stream (the session closed and destroys them). */
  clear(): void {
    this.#waiting = [];
  }

  #deliver(stream: MuxStream): void {
    stream.off('error', backlogErrorSink);
    this.#hooks._muxDeliver(stream);
    stream._muxAccept();
  }
}
