import { isIPv4, isIPv6 } from 'node:net';

/** A `host:port` split into its parts. `host` is `''` for "every interface" and has no IPv6 brackets. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const PORT = /^\d{1,5}$/;
/** A last label of digits (or `0x` hex): URL parsers (WHATWG "ends in a number") read such a name as IPv4. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i;

/** True for a DNS name (labels of letters, digits, `-`, `_`, the last one not a number) or an IPv4 address. */
function isHost(host: string): boolean {
  if (isIPv4(host)) return true;
  if (NUMERIC_LAST_LABEL.test(host)) return false; // looks like an IPv4 address but is not one
  return host.length <= 253 && HOSTNAME.test(host);
}

/** Parses a decimal port 0-65535; undefined otherwise. */
export function parsePort(raw: string): number | undefined {
  if (!PORT.test(raw)) return undefined;
  const port = Number(raw);
  return port <= 65_535 ? port : undefined;
}

/**
 * Parses `host:port` as Go's `net.Listen` accepts it: `:8000`, `127.0.0.1:8000`, `[::1]:8000`,
 * `localhost:0`. IPv6 hosts need brackets. Returns undefined when `raw` is not of that shape.
 */
export function parseHostPort(raw: string): HostPort | undefined {
  let host: string;
  let portText: string;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0 || raw[close + 1] !== ':') return undefined;
    host = raw.slice(1, close);
    if (!isIPv6(host)) return undefined;
    portText = raw.slice(close + 2);
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = raw.slice(0, colon);
    portText = raw.slice(colon + 1);
    if (host.includes(':') || (host.length > 0 && !isHost(host))) return undefined;
  }
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/** Joins a host and port, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Hosts that mean "every interface" in a bind address. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

/**
 * True when two bind addresses would collide: the same non-zero port on the same host, or on any host
 * when either binds every interface.
 */
export function bindAddrsOverlap(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host);
}

/** What a listener address was written as (§1.3 of the Piko notes). */
export type ListenerAddr =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'host-port'; readonly host: string; readonly port: number }
  | { readonly kind: 'url'; readonly url: string };

/**
 * Parses an agent listener address: a port (`3000`, also a YAML number), `host:port` or, for http
 * listeners, an `http://` or `https://` URL with an optional path. Port 0 is rejected: it cannot be dialled.
 * Returns a reason string when the value is not an address.
 */
export function parseListenerAddr(value: unknown): ListenerAddr | string {
  const reason = 'must be a port, host:port or http(s) URL';
  const raw = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  if (typeof raw !== 'string') return reason;
  if (PORT.test(raw)) {
    const port = parsePort(raw);
    return port === undefined || port === 0 ? 'must be a port between 1 and 65535' : { kind: 'port', port };
  }
  if (raw.includes('://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return reason;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'URL scheme must be http or https';
    if (url.hostname === '') return 'URL must have a host';
    if (url.username !== '' || url.password !== '') return 'URL must not contain credentials';
    if (url.search !== '' || url.hash !== '') return 'URL must not have a query or fragment';
    return { kind: 'url', url: raw };
  }
  const hp = parseHostPort(raw);
  if (hp === undefined || hp.host === '') return reason;
  if (hp.port === 0) return 'must be a port between 1 and 65535';
  return { kind: 'host-port', host: hp.host, port: hp.port };
}

/**
 * Normalises a parsed listener address for a protocol: http → a URL (`http://localhost:3000`), tcp →
 * `host:port` (`localhost:3000`). Returns a reason string when a URL is given for tcp.
 */
export function normaliseListenerAddr(addr: ListenerAddr, protocol: 'http' | 'tcp'): string | { reason: string } {
  switch (addr.kind) {
    case 'port':
      return protocol === 'http' ? `http://localhost:${addr.port}` : `localhost:${addr.port}`;
    case 'host-port': {
      const hostPort = joinHostPort(addr.host, addr.port);
      return protocol === 'http' ? `http://${hostPort}` : hostPort;
    }
    case 'url':
      return protocol === 'http' ? addr.url : { reason: 'must be a port or host:port for a tcp listener' };
  }
}

/** Host a forward port given as a bare port listens on: loopback only, as Piko binds `localhost`. */
export const FORWARD_LOOPBACK_HOST = '127.0.0.1';

/**
 * Parses the local listen address of a `forward` port (§1.4 of the Piko notes): a bare port (`3000`, also
 * a YAML number), which listens on {@link FORWARD_LOOPBACK_HOST} only, or `host:port` as `net.Listen`
 * takes it (`0.0.0.0:3000`, `:3000` for every interface, `[::1]:3000`). Port 0 picks a free port, as in
 * Piko. Returns a reason string when the value is not such an address.
 */
export function parseForwardAddr(value: unknown): HostPort | string {
  const reason = 'must be a port or host:port';
  const raw = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  if (typeof raw !== 'string') return reason;
  if (PORT.test(raw)) {
    const port = parsePort(raw);
    return port === undefined ? 'must be a port between 0 and 65535' : { host: FORWARD_LOOPBACK_HOST, port };
  }
  return parseHostPort(raw) ?? reason;
}

/** The normalised form of a parsed forward address: `host:port`, IPv6 hosts bracketed. */
export function formatForwardAddr(addr: HostPort): string {
  return joinHostPort(addr.host, addr.port);
}
