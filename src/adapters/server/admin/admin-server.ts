import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReloadableTls } from '../../platform/tls/reloadable-tls.js';
import type { ServerTlsOptions } from '../../platform/tls/tls-material.js';
import { createPortServer } from '../../platform/tls/tls-server.js';

/** A running admin listener. */
export interface AdminServer {
  readonly server: Server;
  /** The address actually bound: with port 0 the kernel picks the port. */
  readonly address: { readonly host: string; readonly port: number };
  /**
   * Stops accepting connections, closes idle keep-alive connections, and resolves once every connection has
   * closed. Calling it again resolves once the first call has finished.
   */
  stop(): Promise<void>;
}

/**
 * Listens with `app` (the express app from `createAdminApp`, or any request listener) on `host:port`, and
 * resolves once bound, over HTTPS when `tls` is given. Rejects with the listen error (`EADDRINUSE`, `EACCES`...)
 * instead.
 */
export function startAdminServer(app: RequestListener, host: string, port: number, tls?: ReloadableTls<ServerTlsOptions>): Promise<AdminServer> {
  const server = createPortServer({}, tls, app);
  return new Promise<AdminServer>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const bound = server.address() as AddressInfo;
      let stopping: Promise<void> | undefined;
      resolve({
        server,
        address: { host: bound.address, port: bound.port },
        stop: () => {
          stopping ??= new Promise<void>((done, fail) => {
            server.close((error) => (error === undefined ? done() : fail(error)));
            server.closeIdleConnections();
          });
          return stopping;
        },
      });
    });
  });
}
