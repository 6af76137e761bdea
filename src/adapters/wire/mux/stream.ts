import { Duplex } from 'node:stream';
import type { Cancel } from '../../../application/ports/clock.port.js';
import { ReceiveWindowTuner } from './window-tuner.js';
import { MuxProtocolError, MuxSessionClosedError, MuxStreamResetError, MuxTimeoutError } from './errors.js';
import { Flag, INITIAL_STREAM_WINDOW } from './frame.js';
import { IdleTimer } from './idle-timer.js';
import { SendQueue, type WriteCallback } from './send-queue.js';
import type { MuxSession } from './session.js';
import type { MuxStreamHost } from './stream-host.js';
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

  /**
   * The write waiting to go out and the send window; the session pulls data frames from it.
   *
   * @internal
   */
  readonly _muxSend: SendQueue;
  readonly #host: MuxStreamHost;
  /** Bytes the peer may still send us (credit granted and not yet used). */
  #recvWindow = INITIAL_STREAM_WINDOW;
  /** Handshake and close in one value (see {@link MuxStreamState}); changed only by the transitions there. */
  #state: MuxStreamState;

  #bytesRead = 0;
  readonly #window: ReceiveWindowTuner;
  readonly #idle: IdleTimer;
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
    this.#idle = new IdleTimer(host.clock, () => this.emit('timeout'), () => !this.destroyed);
    this.#window = new ReceiveWindowTuner(host.maxWindow, host.windowCap, host.windowBudget, host.clock);
    this.once('close', () => this.#window.release());
    this._muxSend = new SendQueue(id, this.#takeAck, () => this.#idle.touch());
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
    return this._muxSend.bytesWritten;
  }

  /**
   * Sets an inactivity timeout like `net.Socket#setTimeout`: after `ms` without data in either direction the
   * stream emits `'timeout'` (and does nothing else; the owner decides). `0` disables it. `callback`, if given,
   * is added as a one-time `'timeout'` listener (or removed, when `ms` is 0). Timers run on the session clock.
   */
  setTimeout(ms: number, callback?: () => void): this {
    const set = this.#idle.set(ms);
    if (callback !== undefined) {
      if (set === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
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

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    if (isFinished(this.#state) || this.#host.closed) {
      callback(this.#host.closed ? new MuxSessionClosedError() : destroyedError());
      return;
    }
    if (chunk.length === 0) {
      callback();
      return;
    }
    this._muxSend.holdOne(chunk, callback);
    this.#host.requestSend(this);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: WriteCallback): void {
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
    this._muxSend.holdAll(list, total, callback);
    this.#host.requestSend(this);
  }

  override _final(callback: WriteCallback): void {
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

  override _destroy(error: Error | null, callback: WriteCallback): void {
    this.#cancelTimers();
    // Still live: we are the side resetting it (a reset by the peer or the session is finished already).
    if (!isFinished(this.#state)) {
      this.#state = 'reset';
      if (!this.#host.closed) this.#host.sendControl(this, Flag.RST, 0);
      this.#host.release(this);
    }
    const pending = this._muxSend.abandon();
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
    this.#idle.touch();
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
    if (this._muxSend.grant(delta)) this.#host.requestSend(this);
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

  // ---- Private ------------------------------------------------------------------------------------------------

  /** Returns the ACK flag if we still owe it (and from now on do not), else 0. */
  readonly #takeAck = (): number => {
    const state = this.#state;
    if (!owesAck(state)) return 0;
    this.#state = afterAckSent(state);
    return Flag.ACK;
  };

  /**
   * Returns consumed receive window to the peer: `delta` is the window minus what is still buffered minus the
   * credit the peer still holds. Sent when at least half a window is due, or always when `flags` must go out.
   */
  #sendWindowUpdate(flags: number): void {
    const max = this.#window.max;
    const delta = max - this.readableLength - this.#recvWindow;
    if (flags === 0 && delta < max / 2) return;
    const grown = flags === 0 ? this.#window.due(this.readableLength) : max;
    const grant = Math.max(0, grown - this.readableLength - this.#recvWindow);
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

  #cancelTimers(): void {
    this.#idle.cancel();
    this.#openCancel?.();
    this.#closeCancel?.();
    this.#openCancel = this.#closeCancel = undefined;
  }

  readonly #onCloseTimer = (): void => {
    this.#closeCancel = undefined;
    if (!isFinished(this.#state) && !this.destroyed) {
      this.destroy(new MuxTimeoutError('stream-close', this.#host.streamCloseTimeoutMs));
    }
  };
}
