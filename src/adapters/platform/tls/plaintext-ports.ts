import { isIP } from 'node:net';
import { parseHostPort } from '../config/addresses.js';
import type { PortTlsConfig } from '../config/types.js';

/**
 * True when a bind address listens on loopback only (`127.0.0.1:8000`, `[::1]:8000`, `localhost:8000`); an
 * empty host (`:8000`), a wildcard or any other address is reachable from elsewhere.
 */
export function isLoopbackBind(bindAddr: string): boolean {
  const host = parseHostPort(bindAddr)?.host ?? '';
  if (host === 'localhost') return true;
  const bare = host.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** One server port as the plaintext check sees it. */
export interface PortExposure {
  /** `proxy`, `upstream` or `admin`. */
  readonly port: string;
  readonly bindAddr: string;
  readonly tls: PortTlsConfig;
}

/**
 * The start-up warning of each port bound to a non-loopback address without TLS:
 * `"<port> port on <addr> has no TLS"` (one per port, in the order given). Loopback ports are left alone (a
 * local proxy in front terminates TLS, or nothing leaves the host).
 */
export function plaintextPortWarnings(ports: readonly PortExposure[]): string[] {
  return ports.filter((p) => p.tls.cert === '' && !isLoopbackBind(p.bindAddr)).map((p) => `${p.port} port on ${p.bindAddr} has no TLS`);
}
