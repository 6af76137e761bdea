import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { MuxTransport } from './mux/transport.js';

/**
 * Default largest WebSocket message accepted: a yamux frame header plus the largest data frame with room to spare
 * (Piko sends a header and its payload as separate messages, a payload at most one 256 KiB window). A larger
 * message closes the connection with 1009.
 */
export const MAX_WS_PAYLOAD = 4 * 1024 * 1024;

/**
 * Bytes the WebSocket's socket may hold unsent before `write` reports backpressure. A yamux writer stops at
 * once and waits for `'drain'`, so this bounds what one connection buffers; 128 KiB keeps two full frames and
 * their headers queued behind the kernel's own buffer without holding more than half a window.
 */
export const WS_TRANSPORT_HIGH_WATER = 128 * 1024;

/**
 * Chunks smaller than this (yamux headers, control frames, small data frames) written in one tick go out
 * together as one WebSocket message (one frame and one socket write, rather than one per chunk); larger ones go
 * alone, uncopied. Message boundaries mean nothing on this connection (Piko §4.2).
 */
export const BATCH_MAX_CHUNK = 16 * 1024;

/** Where a WebSocket points to its transport, so that one listener function serves every connection. */
const kTransport = Symbol('piko.wsMuxTransport');

/** What `ws` keeps of the connection's socket (`_socket`): set once open, for its `'drain'`. */
type WithSocket = WebSocket & { _socket?: Socket | null; [kTransport]?: WsMuxTransport };

/**
 * An open WebSocket as the byte transport of a yamux session, as Piko uses it (§4.2): binary messages are bytes
 * whose boundaries mean nothing, and a text message is a protocol error (the WebSocket is closed with 1003 and
 * `onText` runs before the message's bytes could reach the session, which should close).
 *
 * A thin shell over `ws` rather than its `createWebSocketStream` Duplex: each message goes to the session as it
 * comes, and writes go to `ws.send` without a stream's buffering, state objects and callbacks in between (about
 * 1 KiB less per connection; a node holds one per idle upstream), small ones batched per tick (see
 * {@link BATCH_MAX_CHUNK}). Backpressure counts the batch and what the socket holds unsent: `write` returns false
 * above {@link WS_TRANSPORT_HIGH_WATER} bytes, and `'drain'` follows once the socket has taken them. `end()` starts the closing handshake (`'finish'` when the
 * WebSocket has closed); `destroy()` terminates the connection. The transport's own `'error'` listener keeps a
 * late error from being thrown; the session listens too.
 */
export class WsMuxTransport extends EventEmitter implements MuxTransport {
  readonly #ws: WithSocket;
  readonly #onText: (error: Error) => void;
  /** Small chunks written since the last flush, sent together as one message on the next tick. */
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  /** Callbacks of the batched chunks, run when their message has been flushed. */
  #batchCallbacks: Array<(error?: Error | null) => void> | undefined;
  #tickScheduled = false;
  #ended = false;
  #closed = false;
  /** `ws` hit an error and is closing the connection itself (with the status the error calls for). */
  #errored = false;
  #blocked = false;

  constructor(ws: WebSocket, onText: (error: Error) => void) {
    super();
    this.#ws = ws;
    this.#onText = onText;
    ws.binaryType = 'nodebuffer';
    this.on('error', ignoreError);
    // Listeners shared by every connection (`this` is the WebSocket), not closures made per connection: a node
    // holds one transport per idle upstream.
    this.#ws[kTransport] = this;
    ws.on('message', WsMuxTransport.#onMessage);
    ws.once('close', WsMuxTransport.#onClose);
    ws.on('error', WsMuxTransport.#onError);
    // A dialer may have paused the WebSocket until its reader is in place (ws-upstream-dialer.ts): the
    // session's listeners are attached synchronously after this, before any buffered byte can be emitted.
    if (ws.isPaused) ws.resume();
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  get writable(): boolean {
    return !this.#ended && !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  get readableEnded(): boolean {
    return this.#closed;
  }

  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (this.#closed) {
      if (callback !== undefined) process.nextTick(callback, new Error('WebSocket closed'));
      return true;
    }
    if (chunk.length >= BATCH_MAX_CHUNK) {
      // A large payload goes alone, without a copy, after what was batched before it.
      this.#sendBatch();
      if (callback === undefined) this.#ws.send(chunk);
      else this.#ws.send(chunk, callback);
    } else {
      this.#batch.push(chunk);
      this.#batchBytes += chunk.length;
      if (callback !== undefined) (this.#batchCallbacks ??= []).push(callback);
      this.#scheduleTick();
    }
    if (this.#batchBytes + this.#ws.bufferedAmount <= WS_TRANSPORT_HIGH_WATER) return true;
    // The wait for the socket starts on the next tick, never inside this call: a 'drain' emitted here would
    // reach the writer before it knows it must wait for one.
    this.#blocked = true;
    this.#scheduleTick();
    return false;
  }

  end(): void {
    if (this.#ended || this.#closed) return;
    this.#sendBatch();
    this.#ended = true;
    this.#ws.close();
  }

  destroy(): void {
    if (this.#closed) return;
    // What was written before (a go-away) is handed to the socket first, as a stream's writes would be.
    this.#sendBatch();
    this.#ended = true;
    if (!this.#errored) this.#ws.terminate();
  }

  #scheduleTick(): void {
    if (this.#tickScheduled) return;
    this.#tickScheduled = true;
    process.nextTick(WsMuxTransport.#onTick, this);
  }

  /** Sends the batch; then, if `write` reported backpressure, waits for the socket. */
  static #onTick(transport: WsMuxTransport): void {
    transport.#tick();
  }

  #tick(): void {
    this.#tickScheduled = false;
    if (this.#closed) return;
    this.#sendBatch();
    if (this.#blocked) this.#awaitDrain();
  }

  /** Sends the batched chunks as one message. */
  #sendBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, this.#batchBytes);
    const callbacks = this.#batchCallbacks;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#batchCallbacks = undefined;
    if (callbacks === undefined) this.#ws.send(data);
    else this.#ws.send(data, (error) => callbacks.forEach((cb) => cb(error)));
  }

  #awaitDrain(): void {
    const socket = this.#ws._socket;
    if (this.#closed || socket === null || socket === undefined) return;
    if (this.#ws.bufferedAmount <= WS_TRANSPORT_HIGH_WATER || socket.destroyed) {
      this.#onDrain();
      return;
    }
    socket.once('drain', this.#onDrain);
  }

  readonly #onDrain = (): void => {
    if (!this.#blocked || this.#closed) return;
    this.#blocked = false;
    this.emit('drain');
  };

  static #onMessage(this: WithSocket, data: Buffer, isBinary: boolean): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#message(data, isBinary);
  }

  static #onError(this: WithSocket, error: Error): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#error(error);
  }

  static #onClose(this: WithSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#close();
  }

  #message(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    if (!isBinary) {
      this.#ws.close(1003, 'binary messages only');
      this.#onText(new Error('text WebSocket message on a yamux connection (binary messages only)'));
      return;
    }
    this.emit('data', data);
  }

  #error(error: Error): void {
    // ws closes the connection itself after an error (1009 for a message above the limit): destroy() must not
    // cut it before that close frame is out.
    this.#errored = true;
    if (!this.#closed) this.emit('error', error);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#batch = [];
    this.#batchBytes = 0;
    const callbacks = this.#batchCallbacks;
    this.#batchCallbacks = undefined;
    this.#ws.off('message', WsMuxTransport.#onMessage);
    if (callbacks !== undefined) for (const cb of callbacks) cb(new Error('WebSocket closed'));
    if (this.#ended) this.emit('finish');
    this.emit('end');
    this.emit('close');
  }
}

function ignoreError(): void {}

/** Wraps an open WebSocket as a yamux session's transport (see {@link WsMuxTransport}). */
export function wsMuxTransport(ws: WebSocket, onText: (error: Error) => void): WsMuxTransport {
  return new WsMuxTransport(ws, onText);
}
