import { writeHeader } from './codec.js';
import { ControlQueue } from './control-queue.js';
import { MuxProtocolError } from './errors.js';
import { FrameType, GoAwayCode, HEADER_LENGTH, SESSION_STREAM_ID } from './frame.js';
import type { MuxStream } from './stream.js';
import type { MuxTransport } from './transport.js';

/** What the writer needs of its session (the session itself: no closures kept per session). */
export interface FrameWriterHooks {
  /** True once the session is closed: nothing more is written. */
  readonly closed: boolean;
  /** The last frame of a finished stream is written: the session may stop counting the stream. */
  _muxForget(stream: MuxStream): void;
  /** Too many control frames wait (the peer does not read): the session must close with `error`. */
  _muxOverflow(error: MuxProtocolError): void;
}

/**
 * The sending half of a session: every frame goes through here to the transport.
 *
 * While the transport reports backpressure nothing more is written. Data frames wait in their streams (see
 * {@link MuxStream._muxSend}); control frames wait in a {@link ControlQueue}, those of a stream merged into one,
 * and go out first, in one write, when the transport drains. Streams with data are then served round-robin, one
 * frame each, so that one stream cannot starve another.
 */
export class FrameWriter {
  readonly #transport: MuxTransport;
  readonly #maxFramePayload: number;
  readonly #hooks: FrameWriterHooks;
  /** Control frames waiting for the transport (bounded, see `maxQueuedControlFrames`). */
  readonly #control: ControlQueue<MuxStream>;
  /** Streams with data to send, in round-robin order (a Set visits entries re-added during iteration). */
  readonly #sendable = new Set<MuxStream>();
  #blocked = false;
  #flushing = false;

  constructor(transport: MuxTransport, maxFramePayload: number, maxQueuedControlFrames: number, hooks: FrameWriterHooks) {
    this.#transport = transport;
    this.#maxFramePayload = maxFramePayload;
    this.#control = new ControlQueue(maxQueuedControlFrames);
    this.#hooks = hooks;
  }

  /** Writes one frame without payload at once, whatever the backpressure or queue (go-away before closing). */
  writeNow(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#hooks.closed) return;
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    writeHeader(header, 0, type, flags, streamId, length);
    if (!this.#transport.write(header)) this.#blocked = true;
  }

  /**
   * Sends a control frame that belongs to no open stream (ping, ping reply, go-away, RST refusing a SYN): at once
   * when possible, else queued. When the queue is full the peer is not reading what it makes us send: the
   * session is told to close with a protocol error.
   */
  sendSession(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#hooks.closed) return;
    if (this.#canWriteControl()) {
      this.writeNow(type, flags, streamId, length);
    } else if (!this.#control.pushSession(type, flags, streamId, length)) {
      // The go-away is for the record: the peer is not reading, so the transport is destroyed rather than
      // flushed, which frees what it holds at once.
      this.writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, GoAwayCode.ProtocolError);
      this.#hooks._muxOverflow(
        new MuxProtocolError(
          'control-queue-full',
          `the peer does not read: more than ${this.#control.sessionFrames} control frames wait to be sent`,
        ),
      );
    }
  }

  /**
   * Sends a stream's control frame (a window update carrying `flags` and `delta`): at once when possible, else
   * merged into the stream's waiting frame (see {@link ControlQueue}).
   */
  sendStream(stream: MuxStream, flags: number, delta: number): void {
    if (this.#hooks.closed) return;
    if (this.#canWriteControl()) this.writeNow(FrameType.WindowUpdate, flags, stream.id, delta);
    else this.#control.mergeStream(stream, flags, delta);
  }

  /** `stream` has data to send: serve it when the transport can take it. */
  requestSend(stream: MuxStream): void {
    if (this.#hooks.closed) return;
    this.#sendable.add(stream);
    this.#flush();
  }

  /** The transport drained: write what waits. */
  drained(): void {
    this.#blocked = false;
    this.#flush();
  }

  /**
   * `stream` finished (both sides, or reset). Returns true if its last frame (FIN or RST) still waits: the session
   * must keep counting it (in `maxStreams`) until the writer hands it to `forget`.
   */
  release(stream: MuxStream): boolean {
    this.#sendable.delete(stream);
    return this.#control.holdRelease(stream);
  }

  /** Drops everything waiting (the session closed). */
  clear(): void {
    this.#sendable.clear();
    this.#control.clear();
  }

  /** True when a control frame may be written at once: no backpressure and nothing queued before it. */
  #canWriteControl(): boolean {
    return !this.#blocked && this.#control.empty;
  }

  /** Writes every waiting control frame in one transport write; returns false if backpressure remains. */
  #flushControl(): boolean {
    if (this.#blocked) return false;
    const taken = this.#control.take();
    if (taken === undefined) return true;
    for (const stream of taken.released) this.#hooks._muxForget(stream);
    if (!this.#transport.write(taken.bytes)) this.#blocked = true;
    return !this.#blocked;
  }

  /** Writes waiting control frames, then data frames round-robin until nothing is sendable or the transport needs to drain. */
  #flush(): void {
    if (this.#flushing || this.#blocked || this.#hooks.closed) return;
    this.#flushing = true;
    try {
      if (!this.#flushControl()) return;
      const sendable = this.#sendable;
      const maxPayload = this.#maxFramePayload;
      for (const stream of sendable) {
        sendable.delete(stream);
        const out = stream._muxSend;
        const frame = out.pull(maxPayload);
        if (frame === undefined) continue;
        const payload = out.takePayload();
        if (payload === undefined) {
          if (!this.#transport.write(frame)) this.#blocked = true;
        } else {
          this.#transport.write(frame);
          if (!this.#transport.write(payload, out.payloadFlushed)) this.#blocked = true;
        }
        out.afterWrite();
        if (this.#hooks.closed) return;
        if (out.canSend) sendable.add(stream);
        if (this.#blocked) return;
      }
    } finally {
      this.#flushing = false;
    }
  }
}
