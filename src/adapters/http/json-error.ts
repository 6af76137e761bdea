import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Error messages the proxy answers with, exactly as Piko's (§4.8), so clients can match on them. */
export const ProxyErrors = {
  missingEndpoint: 'missing endpoint id',
  noUpstreams: 'no available upstreams',
  unreachable: 'upstream unreachable',
  timeout: 'upstream timeout',
  shuttingDown: 'server shutting down',
} as const;

/** Answers `res` with `{"error": message}` and `status`, unless headers were already sent. */
export function writeJsonError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    // The response already started: the only honest signal left is to cut it.
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: message }) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers an upgrade request on its raw socket with a JSON error and closes the socket. */
export function writeJsonErrorToSocket(socket: Duplex, status: number, reason: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: message }) + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: application/json\r\n' +
      'x-content-type-options: nosniff\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}
