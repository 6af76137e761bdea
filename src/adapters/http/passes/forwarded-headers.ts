import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The peers whose `X-Forwarded-*` headers are believed: load balancers or proxies in front of the proxy port
 * (`proxy.http.trusted_proxies`). Built once from a list of IP addresses and CIDR blocks, IPv4 or IPv6.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  /**
   * `alsoTrust` adds peers known at run time (the cluster's other nodes, which forward requests with the values
   * they set for the real client).
   * @throws Error naming the first entry that is not an IP address or a CIDR block.
   */
  constructor(
    entries: readonly string[],
    private readonly alsoTrust?: (ip: string) => boolean,
  ) {
    for (const entry of entries) {
      const parsed = parseTrustedProxy(entry);
      if (typeof parsed === 'string') throw new Error(`trusted proxy ${JSON.stringify(entry)}: ${parsed}`);
      if (parsed.prefix === undefined) this.#list.addAddress(parsed.address, parsed.family);
      else this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.#empty = entries.length === 0;
  }

  /** Whether `address` (as a socket reports it; IPv4-mapped IPv6 counts as IPv4) is a trusted proxy. */
  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const ip = plainAddress(address);
    if (this.alsoTrust?.(ip) === true) return true;
    if (this.#empty) return false;
    const family = isIP(ip);
    if (family === 0) return false;
    return this.#list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** One entry of a trusted-proxy list: an address, or a CIDR block when `prefix` is set. */
export interface TrustedProxyEntry {
  readonly address: string;
  readonly prefix?: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`; returns the reason when `text` is none of these. */
export function parseTrustedProxy(text: string): TrustedProxyEntry | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return 'must be an IP address or a CIDR block like 10.0.0.0/8';
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { address, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) return `the prefix length must be 0 to ${max}`;
  return { address, prefix, family };
}

/** What the proxy knows of the connection a request came in on. */
export interface ConnectionFacts {
  /** The direct peer's address (`socket.remoteAddress`); undefined when not known. */
  readonly peer: string | undefined;
  /** The port the request was received on (`socket.localPort`). */
  readonly localPort: number | undefined;
  /** Whether the connection is TLS. */
  readonly encrypted: boolean;
}

/**
 * Sets the `X-Forwarded-*` headers of a request about to leave the proxy, in place. The policy:
 *
 * - `X-Forwarded-For`: the direct peer is appended to the incoming list (`a, b, peer`), as nginx's
 *   `$proxy_add_x_forwarded_for` and Go's ReverseProxy do; the service takes the right-most entries it trusts.
 * - `X-Forwarded-Host` (the request's `Host`), `X-Forwarded-Proto` (`http` or `https`, the scheme the client
 *   used on this hop) and `X-Forwarded-Port` (the port the request was received on): overwritten, because a
 *   client could otherwise claim any of them. When the direct peer is a trusted proxy, the incoming values are
 *   kept (each one that is present), so a load balancer in front can pass on what its own client used.
 */
export function setForwardedHeaders(headers: IncomingHttpHeaders, facts: ConnectionFacts, trusted: TrustedProxies): void {
  const keep = trusted.has(facts.peer);
  if (facts.peer !== undefined && facts.peer !== '') {
    const incoming = headers['x-forwarded-for'];
    const peer = plainAddress(facts.peer);
    headers['x-forwarded-for'] = incoming === undefined || incoming === '' ? peer : `${incoming}, ${peer}`;
  }
  const ours: Record<'x-forwarded-host' | 'x-forwarded-proto' | 'x-forwarded-port', string | undefined> = {
    'x-forwarded-host': headers.host,
    'x-forwarded-proto': facts.encrypted ? 'https' : 'http',
    'x-forwarded-port': facts.localPort === undefined ? undefined : String(facts.localPort),
  };
  for (const [name, value] of Object.entries(ours) as Array<[keyof typeof ours, string | undefined]>) {
    if (keep && headers[name] !== undefined) continue;
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, from a dual-stack socket) as the IPv4 address it maps. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
