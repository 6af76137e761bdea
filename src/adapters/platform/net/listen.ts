import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../config/addresses.js';

/** An address a server actually bound (port 0 resolved). */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Binds `server` to a Piko-style address (`:8000`, `127.0.0.1:0`, `[::1]:8000`); an empty host means every
 * interface. Rejects with a message naming the address when the bind fails (port in use...).
 */
export function listen(server: Server, addr: string): Promise<BoundAddress> {
  const parsed = parseHostPort(addr);
  if (parsed === undefined) return Promise.reject(new Error(`invalid bind address ${JSON.stringify(addr)}`));
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`listen ${addr}: ${err.message}`));
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    };
    if (parsed.host === '') server.listen(parsed.port, done);
    else server.listen(parsed.port, parsed.host, done);
  });
}

/** `host:port` with IPv6 hosts bracketed. */
export const formatAddress = (a: BoundAddress): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
