import { Duplex } from 'node:stream';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import { writeHeader } from './codec.js';
import { MuxProtocolError, MuxSessionClosedError, MuxStreamResetError, MuxTimeoutError } from './errors.js';
import { Flag, FrameType, HEADER_LENGTH, INITIAL_STREAM_WINDOW } from './frame.js';
import type { MuxSession } from './session.js';
import {
  afterAckReceived,
  afterAckSent,
  afterLocalFin,
  afterRemoteFin,
  isFinished,
  isLocalOpen,
  isRemoteOpen,
  owesAck,
  type MuxStreamState,
} from './stream-state.js';

/** Payloads at least this large are sent as views of the caller's buffer rather than copied into the frame. */
const ZERO_COPY_MIN = 16 * 1024;

/**
 * The session-side operations a stream needs. The session implements it once (not per stream or frame) and
 * hands it to each stream it creates; nothing outside the mux uses it.
 *
 * @internal
 */
export interface MuxStreamHost {
  /** The session's clock, for the stream's timers. */
  readonly clock: Clock;
  /** Our receive window per stream (the "max window" of yamux). */
  readonly maxWindow: number;
  /** How long a stream we half-closed waits for the peer's FIN before it is reset; 0 waits forever. */
  readonly streamCloseTimeoutMs: number;
  /** True once the session is closed. */
  readonly closed: boolean;
  /**
   * Sends a window update frame for `stream` with `flags` (SYN, ACK, FIN, RST) and window `delta`: at once, or
   * merged with the stream's other waiting control while the transport is under backpressure.
   */
  sendControl(stream: MuxStream, flags: number, delta: number): void;
  /** Asks the session to pull data frames from this stream when the transport can take them. */
  requestSend(stream: MuxStream): void;
  /** Forgets the stream: both sides finished, or it was reset. */
  release(stream: MuxStream): void;
  /** A stream we opened was not acknowledged in time. */
  openTimedOut(stream: MuxStream, timeoutMs: number): void;
}

function destroyedError(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
}

/**
 * One logical yamux stream: a Node `Duplex` carrying a byte stream in each direction.
 *
 * - **Reading**: data frames are pushed into the readable side as they arrive (no copy). The peer may send at
 *   most the receive window; window updates are sent only as the application consumes data (at least half a
 *   window at a time), so a slow reader slows its writer end to end and buffers at most one window.
 * - **Writing**: a write completes once its bytes are handed to the transport as data frames, which needs send
 *   window from the peer and a transport without backpressure. `end()` sends FIN after the written data.
 * - **Half-close**: a received FIN ends the readable side while the writable side keeps working; when both
 *   sides are done the session forgets the stream. `destroy()` before that sends RST; a received RST destroys
 *   the stream with {@link MuxStreamResetError}; a closing session destroys it with
 *   {@link MuxSessionClosedError}.
 * - **Socket shape**: `setTimeout` (a real inactivity timeout on the session clock, emitting `'timeout'`),
 *   `setNoDelay`, `setKeepAlive`, `ref`, `unref` and settable `remoteAddress`/`remotePort`/`localAddress`/
 *   `localPort`, so a stream can serve as the socket of `http.ClientRequest` (via `Agent.createConnection`) or be
 *   emitted as a `'connection'` of an `http.Server`.
 *
 * Streams are created by {@link MuxSession} only (`openStream()` and the `'stream'` event). All state is mutated
 * on the event loop by the stream's own methods and by its session.
 */
export class MuxStream extends Duplex {
  /** The yamux stream ID: odd for streams opened by the client role, even for the server role. */
  readonly id: number;
  /** The session that carries this stream. */
  readonly session: MuxSession;

  /** Address of the far end, if the owner knows one (for example the downstream client); unset by default. */
  remoteAddress: string | undefined = undefined;
  /** Port of the far end, if the owner knows one; unset by default. */
  remotePort: number | undefined = undefined;
  /** Local address, if the owner wants to report one; unset by default. */
  localAddress: string | undefined = undefined;
  /** Local port, if the owner wants to report one; unset by default. */
  localPort: number | undefined = undefined;

  readonly #host: MuxStreamHost;
  /** Bytes we may still send before the peer's next window update. */
  #sendWindow = INITIAL_STREAM_WINDOW;
  /** Bytes the peer may still send us (credit granted and not yet used). */
  #recvWindow = INITIAL_STREAM_WINDOW;
  /** Handshake and close in one value (see {@link MuxStreamState}); changed only by the transitions there. */
  #state: MuxStreamState;

  /** Pending write: chunks, the position inside them, bytes left, and the callback to run when all are sent. */
  #chunks: Buffer[] | undefined;
  readonly #single: Buffer[] = [];
  #chunkIndex = 0;
  #chunkOffset = 0;
  #outBytes = 0;
  #outCallback: ((error?: Error | null) => void) | undefined;
  /** Payload views handed to the transport and not yet flushed by it (zero-copy frames). */
  #unflushed = 0;
  /** The write callback, held until the transport has flushed the views of the caller's buffer. */
  #doneWhenFlushed: ((error?: Error | null) => void) | undefined;
  /** The zero-copy payload of the frame last pulled, for the session to write after the header. */
  #pendingPayload: Buffer | undefined;

  #bytesRead = 0;
  #bytesWritten = 0;

  #idleTimeoutMs = 0;
  #idleCancel: Cancel | undefined;
  #lastActive = 0;
  #openCancel: Cancel | undefined;
  #closeCancel: Cancel | undefined;

  /**
   * Created by {@link MuxSession} only.
   *
   * @internal
   */
  constructor(session: MuxSession, host: MuxStreamHost, id: number, inbound: boolean) {
    super({ allowHalfOpen: true, emitClose: true, autoDestroy: true });
    this.session = session;
    this.#host = host;
    this.id = id;
    this.#state = inbound ? 'syn-received' : 'syn-sent';
    // A stream we open grants the peer our whole window in its SYN (see MuxSession.openStream): count it, or
    // the peer's first bytes beyond 256 KiB would look like a window violation. An inbound stream grants it
    // with its ACK, through #sendWindowUpdate, which counts it there.
    if (!inbound) this.#recvWindow = host.maxWindow;
  }

  /**
   * Where the stream is in its life: who still owes an ACK, which side has sent FIN, and whether it was reset.
   * See {@link MuxStreamState} for the states and what each allows.
   */
  get state(): MuxStreamState {
    return this.#state;
  }

  /** Payload bytes received on this stream. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Payload bytes handed to the transport for this stream. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Sets an inactivity timeout like `net.Socket#setTimeout`: after `ms` without data in either direction the
   * stream emits `'timeout'` (and does nothing else; the owner decides). `0` disables it. `callback`, if given,
   * is added as a one-time `'timeout'` listener (or removed, when `ms` is 0). Timers run on the session clock.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (this.#idleCancel !== undefined) {
      this.#idleCancel();
      this.#idleCancel = undefined;
    }
    this.#idleTimeoutMs = ms > 0 && Number.isFinite(ms) ? ms : 0;
    if (callback !== undefined) {
      if (this.#idleTimeoutMs === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (this.#idleTimeoutMs > 0 && !this.destroyed) {
      this.#lastActive = this.#host.clock.now();
      this.#idleCancel = this.#host.clock.schedule(this.#idleTimeoutMs, this.#onIdleTimer);
    }
    return this;
  }

  /** No-op (there is no Nagle algorithm on a mux stream); present for `net.Socket` compatibility. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** No-op (liveness comes from the session's keepalive pings); present for `net.Socket` compatibility. */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** No-op (a stream holds no handle that keeps the event loop alive); present for `net.Socket` compatibility. */
  ref(): this {
    return this;
  }

  /** No-op (a stream holds no handle that keeps the event loop alive); present for `net.Socket` compatibility. */
  unref(): this {
    return this;
  }

  // ---- Duplex implementation -------------------------------------------------------------------------------

  /**
   * Reads like `Readable#read`, then returns consumed window to the peer. Window is returned here rather than in
   * `_read`, because Node calls `_read` before it takes the bytes out of the buffer, and every consumer path
   * (flowing mode, `'readable'`, async iteration, pipes) goes through `read()` after consuming.
   */
  override read(size?: number): any {
    const chunk: unknown = super.read(size);
    if (isRemoteOpen(this.#state)) this.#sendWindowUpdate(0);
    return chunk;
  }

  override _read(_size: number): void {
    // Data arrives from the session as the peer sends it; window updates are sent from `read()`.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (isFinished(this.#state) || this.#host.closed) {
      callback(this.#host.closed ? new MuxSessionClosedError() : destroyedError());
      return;
    }
    if (chunk.length === 0) {
      callback();
      return;
    }
    this.#single[0] = chunk;
    this.#chunks = this.#single;
    this.#chunkIndex = 0;
    this.#chunkOffset = 0;
    this.#outBytes = chunk.length;
    this.#outCallback = callback;
    this.#host.requestSend(this);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    if (isFinished(this.#state) || this.#host.closed) {
      callback(this.#host.closed ? new MuxSessionClosedError() : destroyedError());
      return;
    }
    const list: Buffer[] = new Array<Buffer>(chunks.length);
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!.chunk;
      list[i] = c;
      total += c.length;
    }
    if (total === 0) {
      callback();
      return;
    }
    this.#chunks = list;
    this.#chunkIndex = 0;
    this.#chunkOffset = 0;
    this.#outBytes = total;
    this.#outCallback = callback;
    this.#host.requestSend(this);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#host.closed) {
      callback(new MuxSessionClosedError());
      return;
    }
    const ack = this.#takeAck();
    const state = this.#state;
    // Not live (reset) or FIN already sent (Node calls _final once): nothing to send.
    if (!isLocalOpen(state)) {
      callback();
      return;
    }
    const next = afterLocalFin(state);
    // Set before sending: the peer's reply (its FIN, an RST) may come back inside the write.
    this.#state = next;
    this.#host.sendControl(this, Flag.FIN | ack, 0);
    if (next === 'closed') {
      this.#release();
    } else if (this.#state === 'local-closed' && this.#host.streamCloseTimeoutMs > 0) {
      this.#closeCancel = this.#host.clock.schedule(this.#host.streamCloseTimeoutMs, this.#onCloseTimer);
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelTimers();
    // Still live: we are the side resetting it (a reset by the peer or the session is finished already).
    if (!isFinished(this.#state)) {
      this.#state = 'reset';
      if (!this.#host.closed) this.#host.sendControl(this, Flag.RST, 0);
      this.#host.release(this);
    }
    const pending = this.#outCallback ?? this.#doneWhenFlushed;
    this.#clearPending();
    this.#doneWhenFlushed = undefined;
    if (pending !== undefined) pending(error ?? destroyedError());
    callback(error);
  }

  // ---- Called by the session ---------------------------------------------------------------------------------

  /**
   * The peer sent `payload` on this stream.
   *
   * @internal
   * @throws MuxProtocolError when the payload exceeds the receive window.
   */
  _muxOnData(payload: Buffer): void {
    const n = payload.length;
    if (n > this.#recvWindow) {
      throw new MuxProtocolError(
        'window-exceeded',
        `stream ${this.id} received ${n} bytes with a window of ${this.#recvWindow}`,
      );
    }
    this.#recvWindow -= n;
    if (!isRemoteOpen(this.#state) || this.destroyed || n === 0) return;
    this.#bytesRead += n;
    if (this.#idleTimeoutMs > 0) this.#touch();
    this.push(payload);
    // In flowing mode with an empty buffer, push() hands the chunk straight to 'data' listeners without going
    // through read(): return the window here too, or a flowing consumer would stall once the window is spent.
    if (!isFinished(this.#state)) this.#sendWindowUpdate(0);
  }

  /**
   * The peer granted `delta` more bytes of send window.
   *
   * @internal
   */
  _muxOnWindowUpdate(delta: number): void {
    this.#sendWindow += delta;
    if (delta > 0 && this.#outBytes > 0) this.#host.requestSend(this);
  }

  /**
   * The peer acknowledged the stream we opened.
   *
   * @internal
   */
  _muxOnAck(): void {
    if (this.#openCancel !== undefined) {
      this.#openCancel();
      this.#openCancel = undefined;
    }
    if (!isFinished(this.#state)) this.#state = afterAckReceived(this.#state);
  }

  /**
   * The peer half-closed: no more data will arrive.
   *
   * @internal
   */
  _muxOnFin(): void {
    const state = this.#state;
    if (!isRemoteOpen(state)) return;
    const next = afterRemoteFin(state);
    this.#state = next;
    this.push(null);
    if (next === 'closed') this.#release();
  }

  /**
   * The peer reset the stream.
   *
   * @internal
   */
  _muxOnReset(): void {
    // Finished before destroy() runs, so that _destroy does not answer the peer's RST with ours.
    if (!isFinished(this.#state)) {
      this.#state = 'reset';
      this.#host.release(this);
    }
    if (!this.destroyed) this.destroy(new MuxStreamResetError(this.id));
  }

  /**
   * We opened this stream (SYN sent); start waiting for the ACK.
   *
   * @internal
   */
  _muxOpened(openTimeoutMs: number): void {
    if (openTimeoutMs > 0) {
      this.#openCancel = this.#host.clock.schedule(openTimeoutMs, () => {
        this.#openCancel = undefined;
        this.#host.openTimedOut(this, openTimeoutMs);
      });
    }
  }

  /**
   * The application took this inbound stream: acknowledge the SYN unless a frame already carried the ACK.
   *
   * @internal
   */
  _muxAccept(): void {
    if (owesAck(this.#state)) this.#sendWindowUpdate(this.#takeAck());
  }

  /**
   * The session ended: destroy the stream with `error` without sending anything.
   *
   * @internal
   */
  _muxSessionClosed(error: Error): void {
    if (!isFinished(this.#state)) this.#state = 'reset';
    this.#cancelTimers();
    if (!this.destroyed) this.destroy(error);
  }

  /**
   * Builds the next data frame (header and up to `maxPayload` bytes, limited by the send window) as one buffer,
   * or returns `undefined` when there is nothing to send or no window. Call {@link MuxStream._muxAfterWrite}
   * once the frame is handed to the transport.
   *
   * @internal
   */
  _muxPullFrame(maxPayload: number): Buffer | undefined {
    const chunks = this.#chunks;
    let n = this.#outBytes;
    if (chunks === undefined || n === 0 || this.#sendWindow <= 0) return undefined;
    if (n > this.#sendWindow) n = this.#sendWindow;
    if (n > maxPayload) n = maxPayload;
    const current = chunks[this.#chunkIndex]!;
    if (n >= ZERO_COPY_MIN && current.length - this.#chunkOffset >= n) {
      // Large payload inside one buffer: send a view of it after a separate header instead of copying it into a
      // new frame (one 64 KiB allocation and copy less per frame on bulk transfers). The caller's write
      // completes only once the transport has flushed the view, so the caller may then reuse its buffer.
      const header = Buffer.allocUnsafe(HEADER_LENGTH);
      writeHeader(header, 0, FrameType.Data, this.#takeAck(), this.id, n);
      const start = this.#chunkOffset;
      this.#pendingPayload = current.subarray(start, start + n);
      this.#unflushed++;
      if (start + n === current.length) {
        this.#chunkIndex++;
        this.#chunkOffset = 0;
      } else this.#chunkOffset = start + n;
      this.#outBytes -= n;
      this.#sendWindow -= n;
      this.#bytesWritten += n;
      if (this.#idleTimeoutMs > 0) this.#touch();
      return header;
    }
    const frame = Buffer.allocUnsafe(HEADER_LENGTH + n);
    writeHeader(frame, 0, FrameType.Data, this.#takeAck(), this.id, n);
    let at = HEADER_LENGTH;
    let left = n;
    let index = this.#chunkIndex;
    let offset = this.#chunkOffset;
    while (left > 0) {
      const chunk = chunks[index]!;
      const take = Math.min(chunk.length - offset, left);
      chunk.copy(frame, at, offset, offset + take);
      at += take;
      left -= take;
      offset += take;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    this.#chunkIndex = index;
    this.#chunkOffset = offset;
    this.#outBytes -= n;
    this.#sendWindow -= n;
    this.#bytesWritten += n;
    if (this.#idleTimeoutMs > 0) this.#touch();
    return frame;
  }

  /**
   * The frame from {@link MuxStream._muxPullFrame} is with the transport: complete the write if it was the last.
   *
   * @internal
   */
  _muxAfterWrite(): void {
    if (this.#outBytes === 0 && this.#outCallback !== undefined) {
      const callback = this.#outCallback;
      this.#clearPending();
      if (this.#unflushed > 0) this.#doneWhenFlushed = callback;
      else callback();
    }
  }

  /**
   * The zero-copy payload of the frame just pulled, if it has one: the session writes it right after the header
   * with {@link MuxStream._muxPayloadFlushed} as the write callback.
   *
   * @internal
   */
  _muxTakePayload(): Buffer | undefined {
    const payload = this.#pendingPayload;
    this.#pendingPayload = undefined;
    return payload;
  }

  /**
   * The transport flushed a zero-copy payload: complete a write that was waiting for it.
   *
   * @internal
   */
  readonly _muxPayloadFlushed = (error?: Error | null): void => {
    this.#unflushed--;
    if (this.#unflushed > 0 || this.#doneWhenFlushed === undefined) return;
    const callback = this.#doneWhenFlushed;
    this.#doneWhenFlushed = undefined;
    callback(error ?? null);
  };

  /**
   * Whether {@link MuxStream._muxPullFrame} would produce a frame now.
   *
   * @internal
   */
  _muxCanSend(): boolean {
    return this.#outBytes > 0 && this.#sendWindow > 0;
  }

  // ---- Private ------------------------------------------------------------------------------------------------

  /** Returns the ACK flag if we still owe it (and from now on do not), else 0. */
  #takeAck(): number {
    const state = this.#state;
    if (!owesAck(state)) return 0;
    this.#state = afterAckSent(state);
    return Flag.ACK;
  }

  /**
   * Returns consumed receive window to the peer: `delta` is the window minus what is still buffered minus the
   * credit the peer still holds. Sent when at least half a window is due, or always when `flags` must go out.
   */
  #sendWindowUpdate(flags: number): void {
    const max = this.#host.maxWindow;
    const delta = max - this.readableLength - this.#recvWindow;
    if (flags === 0 && delta < max / 2) return;
    const grant = delta > 0 ? delta : 0;
    this.#recvWindow += grant;
    this.#host.sendControl(this, flags, grant);
  }

  /** Both FINs are through (the state is `closed`): stop the close timer and let the session forget us. */
  #release(): void {
    if (this.#closeCancel !== undefined) {
      this.#closeCancel();
      this.#closeCancel = undefined;
    }
    this.#host.release(this);
  }

  #clearPending(): void {
    this.#chunks = undefined;
    this.#single.length = 0;
    this.#outBytes = 0;
    this.#chunkIndex = 0;
    this.#chunkOffset = 0;
    this.#outCallback = undefined;
  }

  #cancelTimers(): void {
    if (this.#idleCancel !== undefined) this.#idleCancel();
    if (this.#openCancel !== undefined) this.#openCancel();
    if (this.#closeCancel !== undefined) this.#closeCancel();
    this.#idleCancel = this.#openCancel = this.#closeCancel = undefined;
  }

  #touch(): void {
    this.#lastActive = this.#host.clock.now();
    if (this.#idleCancel === undefined && !this.destroyed) {
      this.#idleCancel = this.#host.clock.schedule(this.#idleTimeoutMs, this.#onIdleTimer);
    }
  }

  readonly #onIdleTimer = (): void => {
    this.#idleCancel = undefined;
    const ms = this.#idleTimeoutMs;
    if (ms === 0 || this.destroyed) return;
    const idle = this.#host.clock.now() - this.#lastActive;
    if (idle >= ms) {
      this.emit('timeout');
    } else {
      this.#idleCancel = this.#host.clock.schedule(ms - idle, this.#onIdleTimer);
    }
  };

  readonly #onCloseTimer = (): void => {
    this.#closeCancel = undefined;
    if (!isFinished(this.#state) && !this.destroyed) {
      this.destroy(new MuxTimeoutError('stream-close', this.#host.streamCloseTimeoutMs));
    }
  };
}
