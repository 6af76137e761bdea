import { isIP } from 'node:net';

/** One bound server port, as start-up reports it. */
export interface BoundPort {
  /** `proxy`, `upstream` or `admin`. */
  readonly name: string;
  /** The address bound (`0.0.0.0`, `::`, `127.0.0.1`...). */
  readonly host: string;
  readonly port: number;
  readonly authOn: boolean;
}

/** Whether `host` is reachable only from this machine: 127.0.0.0/8, ::1 (also IPv4-mapped), or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * One warning per port that other machines can reach without authentication, naming the port and the setting
 * that protects it. Ports bound to loopback are left alone (a local test or a sidecar).
 */
export function unauthenticatedPortWarnings(ports: readonly BoundPort[]): string[] {
  return ports
    .filter((p) => !p.authOn && !isLoopbackHost(p.host))
    .map((p) => {
      const who = p.name === 'upstream' ? 'anyone who reaches it can register any endpoint and receive its traffic'
        : p.name === 'proxy' ? 'anyone who reaches it can call every endpoint'
          : 'anyone who reaches it can read metrics and cluster status';
      const addr = p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`;
      return `${p.name} port ${addr} accepts connections from other machines without authentication: ${who}; ` +
        `set ${p.name}.auth (a key or jwks.endpoint) or bind it to a private address`;
    });
}
