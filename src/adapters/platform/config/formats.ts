import convict from 'convict';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { endpointIdProblem } from '../../../domain/endpoint/endpoint-id.js';
import { tenantIdProblem } from '../../../domain/endpoint/tenant.js';
import { parseForwardAddr, parseHostPort, parseListenerAddr } from './addresses.js';
import { parsePublicKeyPem, type PublicKeyKind } from '../auth/public-key.js';
import { MAX_DURATION_MS, parseDuration } from './duration.js';

/** How a field is written on the command line. */
export type FlagKind = 'bool' | 'value' | 'list';

/**
 * A value format, registered with convict under its name (`convict.addFormat`): convict calls `coerce` on text
 * (from a flag, a `PIKO_*` variable or a quoted YAML scalar) and `validate` on every value it holds.
 */
export interface ConfigFormat {
  /** Placeholder shown in help, such as `duration` or `host:port`. */
  readonly hint: string;
  readonly flag: FlagKind;
  /** Throws a plain Error whose message is the reason, without the value (the loader adds it and its origin). */
  validate(value: unknown): void;
  /** Converts text; never throws, and returns the text unchanged when it is not convertible. */
  coerce?(text: string): unknown;
  /**
   * The value is text, so a YAML number is read as its digits (`node_id: 42`, `addr: 3000`), as Go's yaml.v3
   * decodes a number into a string field. Never set for durations: `timeout: 30` must fail (T4).
   */
  readonly textual?: boolean;
}

/**
 * Smallest `cluster.gossip.max_packet_size`: the gossip codec needs 1,092 bytes for its largest entry with the
 * longest node ID and address, and refuses less than this at start-up. 65,507 is the UDP payload limit.
 */
export const MIN_PACKET_SIZE = 1200;

/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Strings accepted as booleans, as Go's strconv.ParseBool accepts them (pflag and Piko use it). */
const TRUE_TEXT = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_TEXT = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

type Check = (value: unknown) => string | undefined;

/** A format that refuses a value when `check` returns a reason. */
function format(hint: string, check: Check, extra: Partial<Omit<ConfigFormat, 'hint' | 'validate'>> = {}): ConfigFormat {
  return {
    hint,
    flag: 'value',
    ...extra,
    validate(value) {
      const reason = check(value);
      if (reason !== undefined) throw new Error(reason);
    },
  };
}

const refuse = (ok: (value: unknown) => boolean, reason: string): Check => (value) => (ok(value) ? undefined : reason);
const text = (ok: (text: string) => boolean) => (value: unknown) => typeof value === 'string' && ok(value);
const isPlainObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
/** The reason of a parser that returns a reason string when it refuses, or undefined. */
const problem = (parsed: unknown) => (typeof parsed === 'string' ? parsed : undefined);

function duration(allowZero: boolean): ConfigFormat {
  return format('duration', (value) => {
    const ms = parseDuration(value);
    if (ms === undefined || (ms === 0 && !allowZero)) return `must be a ${allowZero ? '' : 'non-zero '}duration like 30s`;
    return ms > MAX_DURATION_MS ? 'must be at most 596h (Node timers overflow beyond that)' : undefined;
  });
}

const oneOf = (values: readonly string[], hint: string) =>
  format(hint, refuse((v) => values.includes(v as string), `must be one of ${values.join(', ')}`));
const pattern = (hint: string, re: RegExp, reason: string) => format(hint, refuse(text((t) => re.test(t)), reason), { textual: true });
/** A required text value, judged by `check` when not empty. */
const required = (hint: string, check: Check) => format(hint, (v) => (v === '' ? 'is required' : check(v)), { textual: true });

function integer(min: number, reason: string, max = Number.MAX_SAFE_INTEGER, hint = 'int'): ConfigFormat {
  const ok = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
  return format(hint, refuse(ok, reason), { coerce: (t) => (/^-?\d+$/.test(t) ? Number(t) : t) });
}

function number(max: number, reason: string): ConfigFormat {
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max;
  return format('number', refuse(ok, reason), { coerce: (t) => (/^\d+(?:\.\d+)?$/.test(t) ? Number(t) : t) });
}

function list(hint: string, ok: (item: string) => boolean, reason: string): ConfigFormat {
  const coerce = (t: string) => t.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  return format(hint, refuse((v) => Array.isArray(v) && v.every(text(ok)), reason), { flag: 'list', coerce });
}

/** A list of mappings; text (a variable such as PIKO_LISTENERS) is read as YAML or JSON. */
function mappings(reason: string): ConfigFormat {
  const coerce = (t: string) => {
    try {
      // Warnings (an unknown `%` directive...) would reach stderr; validate() judges the value instead.
      const parsed: unknown = parseYaml(t, { logLevel: 'error' });
      return Array.isArray(parsed) ? parsed : t;
    } catch {
      return t;
    }
  };
  return format('yaml', refuse((v) => Array.isArray(v) && v.every(isPlainObject), reason), { coerce });
}

/** An IPv4/IPv6 address, or one with a prefix length (`10.0.0.0/8`, `fd00::/8`). */
function isIpOrCidr(t: string): boolean {
  const [address = '', prefix, extra] = t.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

function isUrl(t: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(t);
    return schemes.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

function isAdvertiseAddr(t: string): boolean {
  const hp = t === '' ? { host: 'inferred', port: 1 } : parseHostPort(t);
  return hp !== undefined && hp.host !== '' && hp.port !== 0;
}

/** Empty, or the PEM text of a public key of `kind`, parsed now so that a bad key stops start-up naming its key. */
function publicKey(kind: PublicKeyKind): ConfigFormat {
  return format('pem', (value) => {
    if (typeof value !== 'string') return 'must be PEM text';
    if (value === '') return undefined;
    const key = parsePublicKeyPem(value, kind);
    return typeof key === 'string' ? key : undefined;
  });
}

function isJwksUrl(t: string): boolean {
  if (t === '') return true;
  try {
    const url = new URL(t);
    return url.protocol === 'file:' ? url.pathname.length > 1 : isUrl(t, ['http:', 'https:']);
  } catch {
    return false;
  }
}

const FORMATS = {
  duration: duration(true),
  'nonzero-duration': duration(false),
  'bind-addr': format('host:port', refuse(text((t) => parseHostPort(t) !== undefined), 'must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000')),
  'advertise-addr': format(
    'host:port',
    refuse(text(isAdvertiseAddr), 'must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000'),
  ),
  'log-level': oneOf(['debug', 'info', 'warn', 'error'], 'level'),
  protocol: oneOf(['http', 'tcp'], 'protocol'),
  bool: format('bool', refuse((v) => typeof v === 'boolean', 'must be true or false'), {
    flag: 'bool',
    coerce: (t) => (TRUE_TEXT.has(t) ? true : FALSE_TEXT.has(t) ? false : t),
  }),
  'positive-int': integer(1, 'must be a positive integer'),
  uint: integer(0, 'must be an integer >= 0'),
  'idle-conns': integer(-1, 'must be an integer >= -1 (-1 = unlimited)'),
  'packet-size': integer(MIN_PACKET_SIZE, `must be an integer between ${MIN_PACKET_SIZE} and 65507`, 65_507, 'bytes'),
  'non-negative-number': number(Number.MAX_VALUE, 'must be a number >= 0'),
  ratio: number(1, 'must be a number between 0 and 1'),
  text: pattern('string', /(?:)/, 'must be a string'),
  'header-list': list('strings', (t) => HEADER_NAME.test(t), 'must be a list of HTTP header names'),
  'name-list': list('strings', (t) => /^[A-Za-z0-9._-]+$/.test(t), 'must be a list of names of [A-Za-z0-9._-]'),
  'address-list': list('strings', (t) => !/[\s,]/.test(t), 'must be a list of host or host:port'),
  'ip-cidr-list': list('ips', isIpOrCidr, 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'),
  'node-id': pattern('string', /^[A-Za-z0-9._-]{0,128}$/, 'must be empty (generated) or 1 to 128 characters of [A-Za-z0-9._-]'),
  'node-id-prefix': pattern('string', /^[A-Za-z0-9._-]{0,121}$/, 'must be at most 121 characters of [A-Za-z0-9._-]'),
  'connect-url': format('url', refuse(text((t) => isUrl(t, ['http:', 'https:', 'ws:', 'wss:'])), 'must be an http, https, ws or wss URL with a host')),
  'optional-url': format('url', refuse(text((t) => t === '' || isUrl(t, ['http:', 'https:'])), 'must be empty or an http or https URL with a host')),
  'endpoint-id': required('endpoint', (v) => (typeof v === 'string' ? endpointIdProblem(v) : 'must be a string')),
  'tenant-id': required('tenant', (v) => (typeof v === 'string' ? tenantIdProblem(v) : 'must be a string')),
  'listener-addr': required('addr', (v) => problem(parseListenerAddr(v))),
  'forward-addr': required('addr', (v) => problem(parseForwardAddr(v))),
  listeners: mappings('must be a list of listener mappings'),
  ports: mappings('must be a list of port mappings'),
  tenants: mappings('must be a list of tenant mappings'),
  'rsa-public-key': publicKey('rsa'),
  'ec-public-key': publicKey('ec'),
  'jwks-url': format('url', refuse(text(isJwksUrl), 'must be empty, an http or https URL with a host, or a file:// URL with an absolute path')),
} satisfies Record<string, ConfigFormat>;

/** The name of a format in {@link CONFIG_FORMATS}. */
export type FormatName = keyof typeof FORMATS;

/**
 * Every format a schema field may name. convict's format registry is process-wide: registering on import
 * means any schema built from these names can be handed to convict.
 */
export const CONFIG_FORMATS: Readonly<Record<FormatName, ConfigFormat>> = FORMATS;

for (const [name, { validate, coerce }] of Object.entries(CONFIG_FORMATS)) convict.addFormat({ name, validate, ...(coerce && { coerce }) });
