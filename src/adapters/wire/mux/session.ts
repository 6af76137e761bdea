import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import { FrameDecoder, writeHeader } from './codec.js';
import { ControlQueue } from './control-queue.js';
import {
  MuxGoAwayError,
  MuxProtocolError,
  MuxSessionClosedError,
  MuxStreamLimitError,
  MuxTimeoutError,
} from './errors.js';
import {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  MAX_UINT32,
  SESSION_STREAM_ID,
  type Frame,
} from './frame.js';
import { MuxStream, type MuxStreamHost } from './stream.js';

/** Options of a {@link MuxSession}. */
export interface MuxSessionOptions {
  /**
   * Our yamux role. The `'server'` opens even stream IDs from 2, the `'client'` odd IDs from 1. In Piko the
   * server (the proxy) opens streams and the client (the agent) accepts them, but both directions work.
   */
  role: 'client' | 'server';
  /** Time source for keepalive and stream timers. */
  clock: Clock;
  /**
   * Per-stream receive window in bytes (the maximum window; yamux starts every stream at 256 KiB and a larger
   * value is granted with the SYN or ACK). Default 262144 (256 KiB), which is Piko's setting: the window never
   * grows. Values below 256 KiB are rejected, since the peer may always send 256 KiB.
   */
  initialWindow?: number;
  /** Maximum number of concurrent streams (both directions). A SYN beyond it is answered with RST. Default 8192. */
  maxStreams?: number;
  /**
   * Inbound streams held while no `'stream'` listener is attached; a SYN beyond it is answered with RST.
   * Default 256 (yamux's accept backlog).
   */
  acceptBacklog?: number;
  /** Interval between keepalive pings in ms. Default 30000; 0 disables keepalive pings. */
  keepAliveIntervalMs?: number;
  /** How long a keepalive ping may wait for its ACK before the session closes with an error. Default 10000. */
  keepAliveTimeoutMs?: number;
  /**
   * Largest data frame payload we send. Default 65536 (64 KiB): each frame becomes one transport write (one
   * WebSocket message), so larger frames cost fewer messages, while smaller ones interleave streams more
   * fairly and let the receiver return window sooner. The limit on what we *accept* is the receive window
   * (`initialWindow`), because yamux peers send up to a whole window in one frame.
   */
  maxFramePayload?: number;
  /**
   * How long a stream we opened may wait for the peer's ACK before the session is closed with a
   * `MuxTimeoutError` (yamux's StreamOpenTimeout). Default 75000; 0 disables it.
   */
  streamOpenTimeoutMs?: number;
  /**
   * How long a stream we half-closed waits for the peer's FIN before it is reset (yamux's StreamCloseTimeout).
   * Default 300000 (5 min); 0 disables it.
   */
  streamCloseTimeoutMs?: number;
  /**
   * Most control frames that may wait for a transport under backpressure (a peer that does not read what we
   * send): ping replies, our pings, go-away, and RSTs refusing the peer's SYNs. One more closes the session with
   * a `control-queue-full` protocol error (go-away with the protocol-error code, then the transport is destroyed
   * without waiting for it to flush, since the peer is not reading). Default 1024.
   *
   * The control frames of open streams (SYN, ACK, window update, FIN, RST) do not count: while the transport is
   * blocked they are merged into at most one frame per stream, and a stream that closes while its frame waits
   * stays counted in `maxStreams` until the frame is written, so they are bounded by `maxStreams`.
   */
  maxQueuedControlFrames?: number;
}

/** Events of a {@link MuxSession}. */
export interface MuxSessionEvents {
  /** A stream opened by the peer (delivered to listeners in order; ACKed once delivered). */
  stream: [stream: MuxStream];
  /** The peer sent go-away with `code`. With code 0 existing streams carry on; other codes close the session. */
  goaway: [code: number];
  /** The session ended, once: transport end or error, protocol error, keepalive timeout or `close()`. */
  close: [error?: Error];
}

interface PendingPing {
  readonly start: number;
  readonly resolve: (rttMs: number) => void;
  readonly reject: (error: Error) => void;
}

const DEFAULT_MAX_STREAMS = 8192;
const DEFAULT_ACCEPT_BACKLOG = 256;
const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_FRAME_PAYLOAD = 64 * 1024;
const DEFAULT_STREAM_OPEN_TIMEOUT_MS = 75_000;
const DEFAULT_STREAM_CLOSE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_QUEUED_CONTROL_FRAMES = 1024;
/** How long a closed session waits for its transport to flush before destroying it. */
const TRANSPORT_FLUSH_TIMEOUT_MS = 10_000;

function noop(): void {}

/**
 * The `'error'` listener of a stream waiting in the accept backlog: until an owner takes it, nobody else could
 * handle its errors (a peer's RST, the session closing), and an unhandled `'error'` would end the process.
 */
function backlogErrorSink(): void {}

function checkNonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
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
  readonly #transport: Duplex;
  readonly #clock: Clock;
  readonly #isServer: boolean;
  readonly #maxWindow: number;
  readonly #maxStreams: number;
  readonly #acceptBacklog: number;
  readonly #keepAliveIntervalMs: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #maxFramePayload: number;
  readonly #streamOpenTimeoutMs: number;
  readonly #streamCloseTimeoutMs: number;
  readonly #decoder: FrameDecoder;
  readonly #host: MuxStreamHost;

  /** Open streams by ID (mutated by open, SYN handling and stream release). */
  readonly #streams = new Map<number, MuxStream>();
  /** Inbound streams waiting for a `'stream'` listener. */
  #backlog: MuxStream[] = [];
  /** Streams with data to send, in round-robin order (a Set visits entries re-added during iteration). */
  readonly #sendable = new Set<MuxStream>();
  #nextStreamId: number;
  #blocked = false;
  /** Control frames waiting for the transport (bounded, see `maxQueuedControlFrames`). */
  readonly #control: ControlQueue<MuxStream>;
  #flushing = false;
  /** True while transport input is being decoded and handled. */
  #receiving = false;
  /** Input that arrived re-entrantly while `#receiving`. */
  readonly #pendingInput: Buffer[] = [];
  #closed = false;
  #localGoAway = false;
  #remoteGoAway = false;

  readonly #pings = new Map<number, PendingPing>();
  #nextPingId = 0;
  #keepAliveCancel: Cancel | undefined;
  #keepAliveTimeoutCancel: Cancel | undefined;
  #flushTimeoutCancel: Cancel | undefined;

  /**
   * Starts a session on `transport`, which must be an open byte stream; the session reads it from now on and
   * owns it (closing the session ends the transport).
   */
  constructor(transport: Duplex, options: MuxSessionOptions) {
    super();
    if (options.role !== 'client' && options.role !== 'server') {
      throw new TypeError(`role must be 'client' or 'server', got ${String(options.role)}`);
    }
    this.#transport = transport;
    this.#clock = options.clock;
    this.#isServer = options.role === 'server';
    this.#nextStreamId = this.#isServer ? 2 : 1;
    this.#maxWindow = options.initialWindow ?? INITIAL_STREAM_WINDOW;
    if (!Number.isInteger(this.#maxWindow) || this.#maxWindow < INITIAL_STREAM_WINDOW || this.#maxWindow > MAX_UINT32) {
      throw new RangeError(`initialWindow must be an integer from ${INITIAL_STREAM_WINDOW} to ${MAX_UINT32}`);
    }
    this.#maxStreams = checkNonNegative('maxStreams', options.maxStreams ?? DEFAULT_MAX_STREAMS);
    this.#acceptBacklog = checkNonNegative('acceptBacklog', options.acceptBacklog ?? DEFAULT_ACCEPT_BACKLOG);
    this.#keepAliveIntervalMs = checkNonNegative(
      'keepAliveIntervalMs',
      options.keepAliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
    );
    this.#keepAliveTimeoutMs = checkNonNegative(
      'keepAliveTimeoutMs',
      options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
    );
    this.#maxFramePayload = options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
    if (!Number.isInteger(this.#maxFramePayload) || this.#maxFramePayload < 1) {
      throw new RangeError(`maxFramePayload must be a positive integer, got ${this.#maxFramePayload}`);
    }
    this.#streamOpenTimeoutMs = checkNonNegative(
      'streamOpenTimeoutMs',
      options.streamOpenTimeoutMs ?? DEFAULT_STREAM_OPEN_TIMEOUT_MS,
    );
    this.#streamCloseTimeoutMs = checkNonNegative(
      'streamCloseTimeoutMs',
      options.streamCloseTimeoutMs ?? DEFAULT_STREAM_CLOSE_TIMEOUT_MS,
    );
    this.#control = new ControlQueue(
      checkNonNegative('maxQueuedControlFrames', options.maxQueuedControlFrames ?? DEFAULT_MAX_QUEUED_CONTROL_FRAMES),
    );
    this.#decoder = new FrameDecoder({ maxDataPayload: this.#maxWindow });

    const session = this;
    this.#host = {
      clock: this.#clock,
      maxWindow: this.#maxWindow,
      streamCloseTimeoutMs: this.#streamCloseTimeoutMs,
      get closed() {
        return session.#closed;
      },
      sendControl: (stream, flags, delta) => this.#sendStreamControl(stream, flags, delta),
      requestSend: (stream) => this.#requestSend(stream),
      release: (stream) => this.#release(stream),
      openTimedOut: (_stream, timeoutMs) => this.close(new MuxTimeoutError('stream-open', timeoutMs)),
    };

    transport.on('data', this.#transportOnData);
    transport.on('drain', this.#transportOnDrain);
    transport.on('end', this.#transportOnEnd);
    transport.on('close', this.#transportOnClose);
    transport.on('error', this.#transportOnError);
    // Deliver backlogged streams as soon as someone listens (after the listener is registered).
    super.on('newListener' as keyof MuxSessionEvents, ((event: string | symbol) => {
      if (event === 'stream' && this.#backlog.length > 0) queueMicrotask(this.#deliverBacklog);
    }) as never);

    if (transport.destroyed || transport.readableEnded) {
      queueMicrotask(() => this.close(new MuxSessionClosedError('transport already closed')));
    }
    this.#scheduleKeepAlive();
  }

  /** True once the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once we sent go-away: inbound SYNs are refused with RST. */
  get localGoAway(): boolean {
    return this.#localGoAway;
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
    if (this.#streams.size >= this.#maxStreams) throw new MuxStreamLimitError(this.#maxStreams);
    const id = this.#nextStreamId;
    if (id > MAX_UINT32 - 1) throw new MuxStreamLimitError(this.#maxStreams, 'yamux stream IDs exhausted');
    this.#nextStreamId = id + 2;
    const stream = new MuxStream(this, this.#host, id, false);
    this.#streams.set(id, stream);
    // Arm the timer first: a transport may deliver the peer's ACK synchronously, inside our write.
    stream._muxOpened(this.#streamOpenTimeoutMs);
    // SYN as a window update; its delta grants any window above the 256 KiB both sides assume.
    this.#sendStreamControl(stream, Flag.SYN, this.#maxWindow - INITIAL_STREAM_WINDOW);
    return stream;
  }

  /**
   * Sends go-away (`code`, normal by default): the peer must not open new streams, and we refuse (RST) any SYN
   * from now on. Existing streams keep working. Idempotent; does nothing once closed.
   */
  goAway(code: number = GoAwayCode.Normal): void {
    if (this.#closed || this.#localGoAway) return;
    this.#localGoAway = true;
    this.#sendSessionControl(FrameType.GoAway, 0, SESSION_STREAM_ID, code >>> 0);
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
    return new Promise<number>((resolve, reject) => {
      this.#sendPing({ start: this.#clock.now(), resolve, reject });
    });
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
      this.#writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, GoAwayCode.InternalError);
      this.close(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  readonly #transportOnDrain = (): void => {
    this.#blocked = false;
    this.#flush();
  };

  /** Tells the peer why (go-away, protocol error: ahead of anything queued) and closes with `error`. */
  #failProtocol(error: MuxProtocolError): void {
    this.#writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, error.goAwayCode);
    this.close(error);
  }

  readonly #transportOnEnd = (): void => {
    this.#shutdown(undefined, false);
  };

  readonly #transportOnClose = (): void => {
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
        this.#handlePing(frame.flags, frame.length);
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
    const remoteParity = this.#isServer ? 1 : 0;
    if (id === SESSION_STREAM_ID) {
      throw new MuxProtocolError('invalid-stream-id', 'SYN for stream 0, which is the session');
    }
    if ((id & 1) !== remoteParity) {
      throw new MuxProtocolError('invalid-stream-id', `SYN for stream ${id} uses our own ID parity`);
    }
    if (this.#streams.has(id)) {
      throw new MuxProtocolError('duplicate-stream', `SYN for stream ${id}, which is already open`);
    }
    if (
      this.#localGoAway ||
      this.#streams.size >= this.#maxStreams ||
      (this.listenerCount('stream') === 0 && this.#backlog.length >= this.#acceptBacklog)
    ) {
      this.#sendSessionControl(FrameType.WindowUpdate, Flag.RST, id, 0);
      return undefined;
    }
    const stream = new MuxStream(this, this.#host, id, true);
    this.#streams.set(id, stream);
    if (this.listenerCount('stream') > 0 && this.#backlog.length === 0) {
      this.#deliver(stream);
    } else {
      stream.on('error', backlogErrorSink);
      this.#backlog.push(stream);
    }
    return stream;
  }

  #deliver(stream: MuxStream): void {
    stream.off('error', backlogErrorSink);
    this.emit('stream', stream);
    stream._muxAccept();
  }

  readonly #deliverBacklog = (): void => {
    while (this.#backlog.length > 0 && !this.#closed && this.listenerCount('stream') > 0) {
      const stream = this.#backlog.shift()!;
      if (stream.destroyed) continue;
      this.#deliver(stream);
    }
  };

  #handlePing(flags: number, opaque: number): void {
    if (flags & Flag.SYN) {
      this.#sendSessionControl(FrameType.Ping, Flag.ACK, SESSION_STREAM_ID, opaque);
      return;
    }
    if (flags & Flag.ACK) {
      const pending = this.#pings.get(opaque);
      if (pending === undefined) return;
      this.#pings.delete(opaque);
      pending.resolve(this.#clock.now() - pending.start);
    }
  }

  #handleGoAway(code: number): void {
    if (code === GoAwayCode.Normal) {
      this.#remoteGoAway = true;
      this.emit('goaway', code);
      return;
    }
    this.#remoteGoAway = true;
    this.emit('goaway', code);
    this.close(new MuxGoAwayError(code));
  }

  // ---- Sending ------------------------------------------------------------------------------------------------

  /** True when a control frame may be written at once: no backpressure and nothing queued before it. */
  #canWriteControl(): boolean {
    return !this.#blocked && this.#control.empty;
  }

  /** Writes one frame without payload at once, whatever the backpressure or queue (go-away before closing). */
  #writeNow(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#closed) return;
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    writeHeader(header, 0, type, flags, streamId, length);
    if (!this.#transport.write(header)) this.#blocked = true;
  }

  /**
   * Sends a control frame that belongs to no open stream (ping, ping reply, go-away, RST refusing a SYN): at once
   * when possible, else queued. When the queue is full the peer is not reading what it makes us send: the
   * session closes with a protocol error.
   */
  #sendSessionControl(type: FrameType, flags: number, streamId: number, length: number): void {
    if (this.#closed) return;
    if (this.#canWriteControl()) {
      this.#writeNow(type, flags, streamId, length);
    } else if (!this.#control.pushSession(type, flags, streamId, length)) {
      // The go-away is for the record: the peer is not reading, so the transport is destroyed rather than
      // flushed, which frees what it holds at once.
      this.#writeNow(FrameType.GoAway, 0, SESSION_STREAM_ID, GoAwayCode.ProtocolError);
      const error = new MuxProtocolError(
        'control-queue-full',
        `the peer does not read: more than ${this.#control.sessionFrames} control frames wait to be sent`,
      );
      this.#shutdown(error, false);
    }
  }

  /**
   * Sends a stream's control frame (a window update carrying `flags` and `delta`): at once when possible, else
   * merged into the stream's waiting frame (see {@link ControlQueue}).
   */
  #sendStreamControl(stream: MuxStream, flags: number, delta: number): void {
    if (this.#closed) return;
    if (this.#canWriteControl()) this.#writeNow(FrameType.WindowUpdate, flags, stream.id, delta);
    else this.#control.mergeStream(stream, flags, delta);
  }

  /** Writes every waiting control frame in one transport write; returns false if backpressure remains. */
  #flushControl(): boolean {
    if (this.#blocked) return false;
    const taken = this.#control.take();
    if (taken === undefined) return true;
    for (const stream of taken.released) {
      if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    }
    if (!this.#transport.write(taken.bytes)) this.#blocked = true;
    return !this.#blocked;
  }

  #requestSend(stream: MuxStream): void {
    if (this.#closed) return;
    this.#sendable.add(stream);
    this.#flush();
  }

  /** Writes waiting control frames, then data frames round-robin until nothing is sendable or the transport needs to drain. */
  #flush(): void {
    if (this.#flushing || this.#blocked || this.#closed) return;
    this.#flushing = true;
    try {
      if (!this.#flushControl()) return;
      const sendable = this.#sendable;
      const maxPayload = this.#maxFramePayload;
      for (const stream of sendable) {
        sendable.delete(stream);
        const frame = stream._muxPullFrame(maxPayload);
        if (frame === undefined) continue;
        const payload = stream._muxTakePayload();
        if (payload === undefined) {
          if (!this.#transport.write(frame)) this.#blocked = true;
        } else {
          this.#transport.write(frame);
          if (!this.#transport.write(payload, stream._muxPayloadFlushed)) this.#blocked = true;
        }
        stream._muxAfterWrite();
        if (this.#closed) return;
        if (stream._muxCanSend()) sendable.add(stream);
        if (this.#blocked) return;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #release(stream: MuxStream): void {
    this.#sendable.delete(stream);
    // Its last frame (FIN or RST) still waits: keep counting the stream (in maxStreams) until it is written.
    if (this.#control.holdRelease(stream)) return;
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  #sendPing(pending: PendingPing): void {
    const id = this.#nextPingId;
    this.#nextPingId = (id + 1) >>> 0;
    this.#pings.set(id, pending);
    this.#sendSessionControl(FrameType.Ping, Flag.SYN, SESSION_STREAM_ID, id);
  }

  // ---- Keepalive ------------------------------------------------------------------------------------------------

  #scheduleKeepAlive(): void {
    if (this.#keepAliveIntervalMs > 0 && !this.#closed) {
      this.#keepAliveCancel = this.#clock.schedule(this.#keepAliveIntervalMs, this.#onKeepAlive);
    }
  }

  readonly #onKeepAlive = (): void => {
    this.#keepAliveCancel = undefined;
    if (this.#closed) return;
    const id = this.#nextPingId;
    // Arm the timeout first: a transport may deliver the ACK synchronously, inside our write.
    if (this.#keepAliveTimeoutMs > 0) {
      this.#keepAliveTimeoutCancel = this.#clock.schedule(this.#keepAliveTimeoutMs, () => {
        this.#keepAliveTimeoutCancel = undefined;
        this.#pings.delete(id);
        this.close(new MuxTimeoutError('keepalive', this.#keepAliveTimeoutMs));
      });
    }
    this.#sendPing({ start: this.#clock.now(), resolve: this.#onKeepAliveAck, reject: noop });
  };

  readonly #onKeepAliveAck = (): void => {
    if (this.#keepAliveTimeoutCancel !== undefined) {
      this.#keepAliveTimeoutCancel();
      this.#keepAliveTimeoutCancel = undefined;
    }
    this.#scheduleKeepAlive();
  };

  // ---- Shutdown -------------------------------------------------------------------------------------------------

  #shutdown(error: Error | undefined, flushTransport: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepAliveCancel?.();
    this.#keepAliveTimeoutCancel?.();
    this.#keepAliveCancel = this.#keepAliveTimeoutCancel = undefined;

    const streamError = new MuxSessionClosedError(
      error === undefined ? 'yamux session closed' : `yamux session closed: ${error.message}`,
      { cause: error },
    );
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#sendable.clear();
    this.#control.clear();
    this.#backlog = [];
    for (const stream of streams) stream._muxSessionClosed(streamError);

    const pings = [...this.#pings.values()];
    this.#pings.clear();
    for (const ping of pings) ping.reject(streamError);

    this.#closeTransport(flushTransport);
    this.emit('close', error);
  }

  #closeTransport(flush: boolean): void {
    const transport = this.#transport;
    transport.off('data', this.#transportOnData);
    transport.off('drain', this.#transportOnDrain);
    // The 'error' listener stays so a late transport error cannot become an uncaught exception.
    if (transport.destroyed) return;
    if (flush && transport.writable) {
      transport.once('finish', () => {
        this.#flushTimeoutCancel?.();
        transport.destroy();
      });
      this.#flushTimeoutCancel = this.#clock.schedule(TRANSPORT_FLUSH_TIMEOUT_MS, () => transport.destroy());
      transport.end();
    } else {
      transport.destroy();
    }
  }
}
