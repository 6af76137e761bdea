import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Pause reading the stream when this much is queued on the WebSocket, resume below a quarter of it. */
const WS_HIGH_WATER = 1024 * 1024;

/** Byte counts of a pipe, reported as they pass (for metrics). */
export interface PipeByteCounters {
  /** Bytes received from the WebSocket peer and written to the stream. */
  inbound(n: number): void;
  /** Bytes read from the stream and sent to the WebSocket peer. */
  outbound(n: number): void;
}

/** How a byte pipe ended. */
export type PipeEnd = { readonly clean: true } | { readonly clean: false; readonly reason: string };

/**
 * Pipes a byte stream over a WebSocket used as a byte pipe (Piko's TCP-over-WebSocket: binary messages,
 * boundaries meaningless), both ways, with backpressure, and with half-close: an empty binary message means
 * "no more bytes from this side" and ends only that direction. Piko closes both directions when either ends
 * (its §4.4); its clients never send empty messages, so they interoperate. When both directions have ended
 * the WebSocket is closed normally; an error on either side tears both down (a reset stays a reset).
 * `counters`, when given, is told the bytes of each direction as they pass.
 *
 * With `halfClose: false` (the peer is a Piko server, which drops the empty message) it behaves as Piko does:
 * the end of our stream closes the WebSocket normally, and a normal close from the peer ends our stream (a FIN,
 * not a reset), so a client's end of stream is never lost.
 */
export function pipeStreamOverWebSocket(
  ws: WebSocket,
  stream: Duplex,
  counters?: PipeByteCounters,
  options: { readonly halfClose?: boolean } = {},
): Promise<PipeEnd> {
  const halfClose = options.halfClose ?? true;
  return new Promise((resolve) => {
    let localEnded = false; // our stream ended: we sent the empty message
    let remoteEnded = false; // the peer sent the empty message: we ended the stream's writable side
    let done = false;
    const finish = (end: PipeEnd): void => {
      if (done) return;
      done = true;
      if (end.clean) ws.close(1000);
      else {
        ws.terminate();
        stream.destroy();
      }
      resolve(end);
    };
    const maybeDone = (): void => {
      if (localEnded && remoteEnded && stream.writableFinished) finish({ clean: true });
    };

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(1003, 'binary messages only');
        finish({ clean: false, reason: 'text message on a byte pipe' });
        return;
      }
      if (data.length === 0) {
        if (remoteEnded) return; // a second end marker says nothing new
        remoteEnded = true;
        stream.end();
        return;
      }
      if (remoteEnded) {
        ws.close(1002, 'data after end of stream');
        finish({ clean: false, reason: 'data after the end-of-stream marker' });
        return;
      }
      counters?.inbound(data.length);
      if (!stream.write(data)) ws.pause();
    });
    stream.on('drain', () => ws.resume());
    stream.on('finish', maybeDone);

    // Bytes handed to the WebSocket and not yet flushed to its socket, counted by us: the send callbacks say
    // exactly when each message left, which `bufferedAmount` does not always reflect at callback time.
    let unsent = 0;
    stream.on('data', (chunk: Buffer) => {
      const n = chunk.length;
      counters?.outbound(n);
      unsent += n;
      ws.send(chunk, { binary: true }, () => {
        unsent -= n;
        if (unsent <= WS_HIGH_WATER / 4 && stream.isPaused() && !done) stream.resume();
      });
      if (unsent > WS_HIGH_WATER) stream.pause();
    });
    stream.on('end', () => {
      localEnded = true;
      if (!halfClose) {
        // Piko's way: one side ending ends both; the close frame follows the bytes already queued.
        remoteEnded = true;
        if (!stream.writableEnded) stream.end();
        ws.close(1000);
        return;
      }
      ws.send(Buffer.alloc(0), { binary: true }, () => maybeDone());
    });
    stream.on('error', (err: Error) => finish({ clean: false, reason: err.message }));
    stream.on('close', () => {
      if (!(localEnded && remoteEnded)) finish({ clean: false, reason: 'stream closed before both directions ended' });
    });
    ws.on('error', (err: Error) => finish({ clean: false, reason: err.message }));
    ws.on('close', (code: number) => {
      if (!halfClose && code === 1000 && !done) {
        // The peer closed normally (its side ended): pass the end on as a FIN once our writes are flushed.
        done = true;
        stream.end();
        const settle = (): void => {
          stream.destroy();
          resolve({ clean: true });
        };
        if (stream.writableFinished) settle();
        else stream.once('finish', settle).once('error', settle);
        return;
      }
      if (!(localEnded && remoteEnded)) finish({ clean: false, reason: `websocket closed (${code})` });
      else if (!done) finish({ clean: true });
    });
  });
}
