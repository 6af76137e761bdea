import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ReloadableTls } from './reloadable-tls.js';
import type { ServerTlsOptions } from './tls-material.js';

/**
 * Longest TLS handshake allowed on a server port. Node's default (120 s) lets a client that never finishes its
 * handshake hold a socket for two minutes.
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * An HTTP server, or an HTTPS one when `tls` is given: the same `options` (header limits and timeouts) apply to
 * both, and a reload of `tls` replaces the certificate for new connections (`setSecureContext`) while open
 * connections keep theirs. With a client CA bundle, a client without a certificate it verifies fails the
 * handshake. The result is typed as `http.Server` because an `https.Server` is one, for every listener and
 * method the ports use (`'request'`, `'upgrade'`, `'clientError'`, `close*Connections`). Its raw connections
 * arrive as `'connection'` and, once decrypted, as `'secureConnection'` (see {@link acceptedEvent}).
 */
export function createPortServer(options: ServerOptions, tls: ReloadableTls<ServerTlsOptions> | undefined, listener?: RequestListener): Server {
  if (tls === undefined) return listener === undefined ? createHttpServer(options) : createHttpServer(options, listener);
  const server = createHttpsServer({ ...options, ...tls.current, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, listener);
  tls.onReload((next) => server.setSecureContext(next));
  return server as unknown as Server;
}

/**
 * The event a port server emits for each connection HTTP will be spoken on: `'connection'` for plain HTTP,
 * `'secureConnection'` (the decrypted socket) for HTTPS, so that what a port writes to a connection before
 * HTTP parsing (a 429) is encrypted like the rest.
 */
export const acceptedEvent = (tls: unknown): 'connection' | 'secureConnection' => (tls === undefined ? 'connection' : 'secureConnection');
