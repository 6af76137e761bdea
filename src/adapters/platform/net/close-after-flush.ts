import type { Duplex } from 'node:stream';

/** How long a socket that was answered and ended waits for the client's FIN before it is destroyed. */
export const DEFAULT_LINGER_MS = 1_000;

/**
 * Writes `data` as the last bytes of `socket`, ends it, and destroys it (freeing its descriptor) once the client
 * has closed its side or, at the latest, `lingerMs` after the bytes were flushed. Servers that allow half-open
 * connections otherwise keep a socket ended this way until the client closes, which a hostile client never
 * does (FIN-WAIT-2, one descriptor each). The short linger, rather than an immediate destroy, lets the client
 * read the answer before a reset caused by bytes it is still sending; a client that stops reading cannot hold
 * the socket either, since the same bound applies from the moment of the call.
 */
export function endThenDestroy(socket: Duplex, data?: string | Buffer, lingerMs = DEFAULT_LINGER_MS): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) return; // already being closed by an earlier call
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  socket.once('close', () => clearTimeout(timer));
  // Whatever the client still sends is discarded; its FIN (or a reset) ends the linger at once.
  socket.once('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.resume();
  if (data === undefined) socket.end();
  else socket.end(data);
}
