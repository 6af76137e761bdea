import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';

/**
 * Default largest WebSocket message accepted: a yamux frame header plus the largest data frame with room to spare
 * (Piko sends a header and its payload as separate messages, a payload at most one 256 KiB window). A larger
 * message closes the connection with 1009.
 */
export const MAX_WS_PAYLOAD = 4 * 1024 * 1024;

/**
 * Wraps an open WebSocket as the byte transport of a yamux session, as Piko uses it (§4.2): binary messages are
 * bytes whose boundaries mean nothing, and a text message is a protocol error. On a text message the WebSocket is
 * closed with 1003 and `onText` runs, before the message's bytes could reach the session (the session should
 * close). The returned stream's errors are handled (the session sees the transport close).
 */
export function wsMuxTransport(ws: WebSocket, onText: (error: Error) => void): Duplex {
  ws.binaryType = 'nodebuffer';
  // Registered before createWebSocketStream's own listener, so it runs first.
  ws.on('message', (_data: unknown, isBinary: boolean) => {
    if (isBinary) return;
    ws.close(1003, 'binary messages only');
    onText(new Error('text WebSocket message on a yamux connection (binary messages only)'));
  });
  const transport = createWebSocketStream(ws);
  transport.on('error', () => {});
  return transport;
}
