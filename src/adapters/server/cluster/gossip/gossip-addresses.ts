import { lookup } from 'node:dns/promises';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { joinHostPort, parseHostPort, type HostPort } from '../../../platform/config/addresses.js';

/** Resolves a DNS name to every address it has (A and AAAA records, `/etc/hosts` included). */
export type HostResolver = (host: string) => Promise<readonly string[]>;

/** The system resolver (`getaddrinfo`): every A and AAAA address of `host`, in the order the system gives them. */
export const systemResolver: HostResolver = async (host) =>
  (await lookup(host, { all: true, order: 'verbatim' })).map((a) => a.address);

/** Hosts that mean "every interface" in a bind address. */
export const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::']);

/**
 * Parses one `cluster.join` entry: `host:port`, `[v6]:port`, or a host alone (`10.0.0.1`, `node-0.piko`, `::1`,
 * `[::1]`), which takes `defaultPort` (the local gossip port, as in Piko). Returns undefined when the entry is not
 * an address, so the caller can name it in its error.
 */
export function parseSeed(raw: string, defaultPort: number): HostPort | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  if (isIPv6(text)) return { host: text, port: defaultPort };
  if (text.startsWith('[') && text.endsWith(']') && isIPv6(text.slice(1, -1))) return { host: text.slice(1, -1), port: defaultPort };
  const hp = parseHostPort(text);
  if (hp !== undefined) return hp.host === '' || hp.port === 0 ? undefined : hp;
  if (text.includes(':')) return undefined;
  return parseHostPort(`${text}:${defaultPort}`) ?? undefined;
}

/** Parses a gossip address as peers advertise it (`host:port`, `[v6]:port`); undefined if it is not one. */
export function parseGossipAddr(addr: string): HostPort | undefined {
  const hp = parseHostPort(addr);
  return hp === undefined || hp.host === '' || hp.port === 0 ? undefined : hp;
}

/** Strips the `::ffff:` prefix of an IPv4-mapped IPv6 address (what a dual-stack socket reports for IPv4 peers). */
export function unmapIPv4(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(address.slice(7))) return address.slice(7);
  return address;
}

/** `host:port` of a datagram's source as the machine expects it: IPv4 unmapped, IPv6 in brackets. */
export function sourceAddr(address: string, port: number): string {
  return joinHostPort(unmapIPv4(address), port);
}

/** Every address of this machine's interfaces (loopback included), for recognising a seed that is this node. */
export function localAddresses(): ReadonlySet<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(unmapIPv4(a.address));
  return out;
}

/** The private IPv4 ranges of RFC 6890 that Piko's advertise-address inference picks from (go-sockaddr). */
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [ipv4ToInt('10.0.0.0'), 8],
  [ipv4ToInt('100.64.0.0'), 10],
  [ipv4ToInt('172.16.0.0'), 12],
  [ipv4ToInt('192.0.0.0'), 24],
  [ipv4ToInt('192.168.0.0'), 16],
  [ipv4ToInt('198.18.0.0'), 15],
];

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** True for an address in one of the private IPv4 ranges of RFC 6890. */
export function isPrivateIPv4(ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const n = ipv4ToInt(ip);
  return PRIVATE_V4.some(([base, bits]) => (n >>> (32 - bits)) === (base >>> (32 - bits)));
}

/** One interface address, as `os.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly address: string;
  readonly family: string;
  readonly internal: boolean;
}

/**
 * The host to advertise when the gossip socket is bound to every interface (Piko §5.1): a private IPv4 address
 * of this machine, else any other external IPv4, else an external IPv6 that is not link-local, else loopback
 * (a single-machine cluster). `why` says which rule picked it, for the start-up log.
 */
export function inferAdvertiseHost(
  interfaces: readonly InterfaceAddress[] = Object.values(networkInterfaces()).flatMap((l) => l ?? []),
): { host: string; why: string } {
  const external = interfaces.filter((a) => !a.internal);
  const v4 = external.filter((a) => isIPv4(a.address));
  const priv = v4.find((a) => isPrivateIPv4(a.address));
  if (priv !== undefined) return { host: priv.address, why: 'private interface address' };
  if (v4[0] !== undefined) return { host: v4[0].address, why: 'external interface address (no private one)' };
  const v6 = external.find((a) => isIPv6(a.address) && !a.address.toLowerCase().startsWith('fe80:'));
  if (v6 !== undefined) return { host: v6.address, why: 'external IPv6 interface address (no IPv4 one)' };
  return { host: '127.0.0.1', why: 'loopback (no external interface address)' };
}

/**
 * The gossip address to give peers: `advertise` when set (`host:port`, or a host alone, which takes the bound
 * port), else the bound address with a wildcard host replaced by {@link inferAdvertiseHost}.
 */
export function advertiseAddrOf(
  advertise: string,
  bound: { readonly address: string; readonly port: number },
  infer: () => { host: string; why: string } = () => inferAdvertiseHost(),
): { addr: string; why: string } {
  const text = advertise.trim();
  if (text !== '') {
    const hp = parseSeed(text, bound.port);
    if (hp === undefined) throw new RangeError(`gossip advertise address ${JSON.stringify(advertise)} is not host:port`);
    return { addr: joinHostPort(hp.host, hp.port), why: 'configured' };
  }
  if (!WILDCARD_HOSTS.has(bound.address)) return { addr: joinHostPort(unmapIPv4(bound.address), bound.port), why: 'bound address' };
  const { host, why } = infer();
  return { addr: joinHostPort(host, bound.port), why };
}

/** True for a textual IP address (v4 or v6). */
export const isIpLiteral = (host: string): boolean => isIP(host) !== 0;
