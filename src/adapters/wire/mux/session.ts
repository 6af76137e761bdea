import { EventEmitter } from 'node:events';
import { AcceptBacklog } from './accept-backlog.js';
import { FrameDecoder } from './codec.js';
import { MuxGoAwayError, MuxProtocolError, MuxSessionClosedError, MuxStreamLimitError } from './errors.js';
import { FrameWriter } from './frame-writer.js';
import { Flag, FrameType, GoAwayCode, INITIAL_STREAM_WINDOW, MAX_UINT32, SESSION_STREAM_ID, type Frame } from './frame.js';
import { Pings } from './pings.js';
import { resolveSessionOptions, type MuxSessionOptions, type SessionSettings } from './session-options.js';
import { SessionStreamHost } from './stream-host.js';
import { MuxStream } from './stream.js';
import { endTransport } from './transport-end.js';
import type { MuxTransport } from './transport.js';

export type { MuxSessionOptions } from './session-options.js';

/** Events of a {@link MuxSession}. */
export interface MuxSessionEvents {
  /** A stream opened by the peer (delivered to listeners in order; ACKed once delivered). */
  stream: [stream: MuxStream];
  /** The peer sent go-away with `code`. With code 0 existing streams carry on; other codes close the session. */
  goaway: [code: number];
  /** The session ended, once: transport end or error, protocol error, keepalive timeout or `close()`. */
  close: [error?: Error];
}

/**
 * A yamux session over one byte transport (a `Duplex`, typically a WebSocket stream), wire-compatible with
 * HashiCorp yamux as Piko uses it (`spec.md`; Piko runs a fork, v0.1.6, with library defaults).
 *
 * - **Streams**: `openStream()` sends SYN at once and data may follow before the ACK; inbound SYNs are delivered
 *   as `'stream'` events (held in a backlog while nobody listens) and ACKed when delivered.
 * - **Flow control**: per-stream windows (see {@link MuxStream}). Every frame is one transport write of header
 *   and payload. Streams with data are served round-robin, one frame each, so one stream cannot starve another,
 *   and the transport is always read: a slow consumer only stops its own stream's window.
 * - **Backpressure**: while the transport reports backpressure nothing more is written. Data frames wait in
 *   their streams; control frames wait in the session, those of a stream merged into one, and go out first (in
 *   one write) on `'drain'`. Control frames a peer can make us send at will (ping replies, RSTs refusing SYNs)
 *   are bounded by `maxQueuedControlFrames`: a peer that sends them without reading ours is closed with a
 *   protocol error, so it cannot grow our memory.
 * - **Keepalive**: a ping every `keepAliveIntervalMs`; no ACK within `keepAliveTimeoutMs` closes the session.
 *   Peer pings are answered.
 * - **Go-away**: `goAway()` refuses new inbound streams (RST) and tells the peer; a peer's go-away makes
 *   `openStream()` throw {@link MuxGoAwayError}. Existing streams continue.
 * - **Errors**: malformed peer bytes send go-away (protocol error) and close the session with the
 *   {@link MuxProtocolError}; nothing is thrown out of transport event handlers. When the session ends, every
 *   unfinished stream is destroyed with {@link MuxSessionClosedError}.
 *
 * Like the yamux fork Piko uses, `close()` does not send go-away: it closes the transport.
 *
 * All state is mutated on the event loop, by transport events, clock callbacks and the public methods.
 */
export class MuxSession extends EventEmitter<MuxSessionEvents> {
  readonly #transport: MuxTransport;
  readonly #settings: SessionSettings;
  readonly #decoder: FrameDecoder;
  readonly #host: SessionStreamHost;
  readonly #writer: FrameWriter;
  readonly #pings: Pings;

  /** Open streams by ID (mutated by open, SYN handling and stream release). */
  readonly #streams = new Map<number, MuxStream>();
  /** Inbound streams on their way to a `'stream'` listener. */
  readonly #backlog: AcceptBacklog;
  #nextStreamId: number;
  /** True while transport input is being decoded and handled. */
  #receiving = false;
  /** Input that arrived re-entrantly while `#receiving`. */
  readonly #pendingInput: Buffer[] = [];
  #closed = false;
  #localGoAway = false;
  /**
   * The peer has answered a ping sent after our go-away, so it has read the go-away (one ordered transport): any
   * SYN it sent before was sent without knowing and is still accepted; one after this is refused.
   */
  #goAwaySeen = false;
  #remoteGoAway = false;

  /**
   * Starts a session on `transport`, which must be an open byte stream; the session reads it from now on and
   * owns it (closing the session ends the transport).
   */
  constructor(transport: MuxTransport, options: MuxSessionOptions) {
    super();
    const settings = resolveSessionOptions(options);
    this.#settings = settings;
    this.#transport = transport;
    this.#nextStreamId = settings.isServer ? 2 : 1;
    this.#decoder = new FrameDecoder({ maxDataPayload: settings.windowCap });
    this.#writer = new FrameWriter(transport, settings.maxFramePayload, settings.maxQueuedControlFrames, this);
    this.#backlog = new AcceptBacklog(settings.acceptBacklog, this);
    const { clock, maxWindow, windowCap, windowBudget, streamCloseTimeoutMs } = settings;
    this.#host = new SessionStreamHost(this, this.#writer, clock, maxWindow, windowCap, windowBudget, streamCloseTimeoutMs);

    transport.on('data', this.#transportOnData);
    transport.on('drain', this.#transportOnDrain);
    transport.on('end', this.#transportOnEnd);
    transport.on('close', this.#transportOnEnd);
    transport.on('error', this.#transportOnError);
    // Deliver backlogged streams as soon as someone listens (after the listener is registered).
    super.on('newListener' as keyof MuxSessionEvents, ((event: string | symbol) => {
      if (event === 'stream' && this.#backlog.length > 0) queueMicrotask(this.#backlog.drain);
    }) as never);

    if (transport.destroyed || transport.readableEnded) {
      queueMicrotask(() => this.close(new MuxSessionClosedError('transport already closed')));
    }
    const { keepAliveIntervalMs: intervalMs, keepAliveTimeoutMs: timeoutMs } = settings;
    this.#pings = new Pings({ clock: settings.clock, intervalMs, timeoutMs }, this);
  }

  /** True once the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once we sent go-away: the peer may open no more streams. */
  get localGoAway(): boolean {
    return this.#localGoAway;
  }

  /**
   * True once the peer has acknowledged our go-away (it answered the ping sent right after it): from then on no
   * stream of its can still be on its way, and inbound SYNs are refused with RST.
   */
  get goAwaySeen(): boolean {
    return this.#goAwaySeen;
  }

  /** True once the peer sent go-away: `openStream()` throws {@link MuxGoAwayError}. */
  get remoteGoAway(): boolean {
    return this.#remoteGoAway;
  }

  /** Streams currently tracked (open in at least one direction, including the accept backlog). */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Opens a stream at once: SYN is sent immediately and data may follow before the ACK.
   *
   * @throws MuxSessionClosedError if the session is closed.
   * @throws MuxGoAwayError if the peer sent go-away.
   * @throws MuxStreamLimitError if `maxStreams` streams are open or the stream IDs are exhausted.
   */
  openStream(): MuxStream {
    if (this.#closed) throw new MuxSessionClosedError();
    if (this.#remoteGoAway) throw new MuxGoAwayError(GoAwayCode.Normal, 'yamux peer is not accepting streams (go-away)');
    const { maxStreams, maxWindow } = this.#settings;
    if (this.#streams.size >= maxStreams) throw new MuxStreamLimitError(maxStreams);
    const id = this.#nextStreamId;
    if (id > MAX_UINT32 - 1) throw new MuxStreamLimitError(maxStreams, 'yamux stream IDs exhausted');
    this.#nextStreamId = id + 2;
    const stream = new MuxStream(this, this.#host, id, false);
    this.#streams.set(id, stream);
    // Arm the timer first: a transport may deliver the peer's ACK synchronously, inside our write.
    stream._muxOpened(this.#settings.streamOpenTimeoutMs);
    // SYN as a window update; its delta grants any window above the 256 KiB both sides assume.
    this.#writer.sendStream(stream, Flag.SYN, maxWindow - INITIAL_STREAM_WINDOW);
    return stream;
  }

  /**
   * Sends go-away (`code`, normal by default): the peer must not open new streams. Existing streams keep working.
   * A ping follows it: SYNs that arrive before its answer were sent before the peer read our go-away and are
   * still accepted (yamux refuses them, which loses a request the peer routed here a moment before; Piko's
   * agent loses the same), and SYNs after it are refused with RST. Idempotent; does nothing once closed.
   */
  goAway(code: number = GoAwayCode.Normal): void {
    if (this.#closed || this.#localGoAway) return;
    this.#localGoAway = true;
    this.#writer.sendSession(FrameType.GoAway, 0, SESSION_STREAM_ID, code >>> 0);
    this.#pings.ping().then(
      () => {
        this.#goAwaySeen = true;
      },
      () => {},
    );
  }

  /**
   * Ends the session: destroys every unfinished stream with {@link MuxSessionClosedError} (with `error` as its
   * cause), rejects pending pings, ends the transport (destroying it once flushed) and emits `'close'` with
   * `error`. Idempotent.
   */
  close(error?: Error): void {
    this.#shutdown(error, true);
  }

  /**
   * Sends a ping and resolves with the round-trip time in ms (on the session clock) when the peer's ACK
   * arrives. Rejects with {@link MuxSessionClosedError} if the session is or becomes closed first.
   */
  ping(): Promise<number> {
    if (this.#closed) return Promise.reject(new MuxSessionClosedError());
    return this.#pings.ping();
  }

  // ---- Transport events ----------------------------------------------------------------------------------------

  readonly #transportOnData = (chunk: Buffer): void => {
    if (this.#closed) return;
    // A transport may deliver the peer's reply synchronously inside one of our writes, which can happen while
    // we are handling a frame: queue such input so frames are handled once each, in order.
    if (this.#receiving) {
      this.#pendingInput.push(chunk);
      return;
    }
    this.#receiving = true;
    try {
      this.#receive(chunk);
      while (this.#pendingInput.length > 0 && !this.#closed) this.#receive(this.#pendingInput.shift()!);
    } finally {
      this.#receiving = false;
      this.#pendingInput.length = 0;
    }
  };

  #receive(chunk: Buffer): void {
    try {
      for (const frame of this.#decoder.push(chunk)) {
        this.#handleFrame(frame);
        if (this.#closed) return;
      }
    } catch (error) {
      if (error instanceof MuxProtocolError) {
        this.#failProtocol(error);
        return;
      }
      // Not the peer's fault (a listener threw, or a bug): tell the peer, close, and let it surface.
      this.#writer.writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, GoAwayCode.InternalError);
      this.close(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  readonly #transportOnDrain = (): void => {
    this.#writer.drained();
  };

  /** Tells the peer why (go-away, protocol error: ahead of anything queued) and closes with `error`. */
  #failProtocol(error: MuxProtocolError): void {
    this.#writer.writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, error.goAwayCode);
    this.close(error);
  }

  /** The transport ended or closed (whichever comes first). */
  readonly #transportOnEnd = (): void => {
    this.#shutdown(undefined, false);
  };

  readonly #transportOnError = (error: Error): void => {
    this.#shutdown(error, false);
  };

  // ---- Frame handling ------------------------------------------------------------------------------------------

  #handleFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.#handleStreamFrame(frame);
        return;
      case FrameType.Ping:
        this.#pings.onFrame(frame.flags, frame.length);
        return;
      case FrameType.GoAway:
        this.#handleGoAway(frame.length);
        return;
    }
  }

  #handleStreamFrame(frame: Frame): void {
    const { streamId, flags } = frame;
    let stream: MuxStream | undefined;
    if (flags & Flag.SYN) {
      stream = this.#incomingStream(streamId);
    } else {
      stream = this.#streams.get(streamId);
    }
    // Unknown stream (stream 0 included): most likely one we reset or refused; its in-flight frames are dropped,
    // as yamux does. Their size is bounded by the window we granted (the decoder refuses a larger data frame).
    if (stream === undefined) return;

    if (flags & Flag.ACK) stream._muxOnAck();
    if (frame.type === FrameType.Data) {
      stream._muxOnData(frame.payload);
    } else if (frame.length > 0) {
      stream._muxOnWindowUpdate(frame.length);
    }
    if (flags & Flag.FIN) stream._muxOnFin();
    if (flags & Flag.RST) stream._muxOnReset();
  }

  /**
   * Handles a SYN: validates the ID, then registers the stream, or refuses it with RST (returns undefined).
   *
   * Any ID of the peer's parity that is not open is a new stream, in whatever order it comes: Go yamux takes an
   * ID when a stream is opened but sends its SYN later, so concurrent opens reach the wire out of ID order, and
   * the ID of a stream that has closed may be used again. Only an ID that is open now is a protocol error, as in
   * yamux. Stricter than yamux, and kept: an ID of our own parity or 0 (yamux registers it), because such a
   * stream could collide with one we open (or with the session's ID 0); no yamux peer sends one.
   */
  #incomingStream(id: number): MuxStream | undefined {
    const { isServer, maxStreams } = this.#settings;
    const remoteParity = isServer ? 1 : 0;
    if (id === SESSION_STREAM_ID) {
      throw new MuxProtocolError('invalid-stream-id', 'SYN for stream 0, which is the session');
    }
    if ((id & 1) !== remoteParity) {
      throw new MuxProtocolError('invalid-stream-id', `SYN for stream ${id} uses our own ID parity`);
    }
    if (this.#streams.has(id)) {
      throw new MuxProtocolError('duplicate-stream', `SYN for stream ${id}, which is already open`);
    }
    if (this.#goAwaySeen || this.#streams.size >= maxStreams || this.#backlog.full) {
      this.#writer.sendSession(FrameType.WindowUpdate, Flag.RST, id, 0);
      return undefined;
    }
    const stream = new MuxStream(this, this.#host, id, true);
    this.#streams.set(id, stream);
    this.#backlog.admit(stream);
    return stream;
  }

  /** The peer's go-away: no more streams may be opened; a code other than normal also ends the session. */
  #handleGoAway(code: number): void {
    this.#remoteGoAway = true;
    this.emit('goaway', code);
    if (code !== GoAwayCode.Normal) this.close(new MuxGoAwayError(code));
  }

  /** @internal The stream finished: forgotten now, or once its last frame is written. */
  _muxRelease(stream: MuxStream): void {
    // Its last frame (FIN or RST) still waits: keep counting the stream (in maxStreams) until it is written.
    if (!this.#writer.release(stream)) this._muxForget(stream);
  }

  /** @internal The stream's last frame is written: it no longer counts. */
  _muxForget(stream: MuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  // ---- Hooks of the session's parts (internal: one object per session rather than closures) -------------------

  /** @internal */
  _muxOverflow(error: MuxProtocolError): void {
    this.#shutdown(error, false);
  }

  /** @internal */
  _muxListening(): boolean {
    return this.listenerCount('stream') > 0;
  }

  /** @internal */
  _muxDeliver(stream: MuxStream): void {
    this.emit('stream', stream);
  }

  /** @internal */
  _muxSendPing(flags: number, opaque: number): void {
    this.#writer.sendSession(FrameType.Ping, flags, SESSION_STREAM_ID, opaque);
  }

  /** @internal */
  _muxPingTimedOut(error: Error): void {
    this.close(error);
  }

  // ---- Shutdown -------------------------------------------------------------------------------------------------

  #shutdown(error: Error | undefined, flushTransport: boolean): void {
    if (this.#closed) return;
    this.#closed = true;

    const streamError = new MuxSessionClosedError(
      error === undefined ? 'yamux session closed' : `yamux session closed: ${error.message}`,
      { cause: error },
    );
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#writer.clear();
    this.#backlog.clear();
    for (const stream of streams) stream._muxSessionClosed(streamError);
    this.#pings.stop(streamError);

    this.#closeTransport(flushTransport);
    this.emit('close', error);
  }

  #closeTransport(flush: boolean): void {
    const transport = this.#transport;
    transport.off('data', this.#transportOnData);
    transport.off('drain', this.#transportOnDrain);
    // The 'error' listener stays so a late transport error cannot become an uncaught exception.
    endTransport(transport, this.#settings.clock, flush);
  }
}
