import convict from 'convict';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { endpointIdProblem } from '../../../domain/endpoint/endpoint-id.js';
import { parseForwardAddr, parseHostPort, parseListenerAddr } from './addresses.js';
import { MAX_DURATION_MS, parseDuration } from './duration.js';

/** How a field is written on the command line. */
export type FlagKind = 'bool' | 'value' | 'list';

/**
 * A value format: validation plus the conversion of text (from a flag, a `PIKO_*` variable or a quoted YAML
 * scalar) into the value the format expects. Registered with convict under its name, and also called
 * directly by the loader so that a failure can name the field and where its value came from.
 */
export interface ConfigFormat {
  /** Placeholder shown in help, such as `duration` or `host:port`. */
  readonly hint: string;
  readonly flag: FlagKind;
  /** Throws an Error whose message is the reason, without the value (the loader adds it). */
  validate(value: unknown): void;
  /** Converts text; never throws, and returns the text unchanged when it is not convertible. */
  coerce?(text: string): unknown;
  /**
   * The value is text, so a YAML number is read as its digits (`node_id: 42`, `addr: 3000`), as Go's
   * yaml.v3 decodes a number into a string field. Never set for durations: `timeout: 30` must fail (T4).
   */
  readonly textual?: boolean;
}

/**
 * Smallest `cluster.gossip.max_packet_size`: the gossip codec needs 1,092 bytes for its largest entry with
 * the longest node ID and address, and refuses less than this at start-up. 65,507 is the UDP payload limit.
 */
export const MIN_PACKET_SIZE = 1200;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const PROTOCOLS = ['http', 'tcp'] as const;
/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SUBSYSTEM = /^[A-Za-z0-9._-]+$/;
const NODE_ID = /^[A-Za-z0-9._-]{1,128}$/;
const NODE_ID_PREFIX = /^[A-Za-z0-9._-]{0,121}$/;
/** Strings accepted as booleans, as Go's strconv.ParseBool accepts them (pflag and Piko use it). */
const TRUE_TEXT = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_TEXT = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function fail(reason: string): never {
  throw new Error(reason);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function parseYamlList(text: string): unknown {
  try {
    // Warnings (an unknown `%` directive...) would go to stderr as Node warnings: the value is judged by
    // validate() instead, with a reason that names the key.
    const parsed: unknown = parseYaml(text, { logLevel: 'error' });
    return Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

function duration(allowZero: boolean): ConfigFormat {
  return {
    hint: 'duration',
    flag: 'value',
    validate(value) {
      const ms = parseDuration(value);
      const like = allowZero ? 'must be a duration like 30s' : 'must be a non-zero duration like 30s';
      if (ms === undefined || (ms === 0 && !allowZero)) fail(like);
      if (ms > MAX_DURATION_MS) fail('must be at most 596h (Node timers overflow beyond that)');
    },
  };
}

function enumeration(values: readonly string[], hint: string): ConfigFormat {
  return {
    hint,
    flag: 'value',
    validate(value) {
      if (typeof value !== 'string' || !values.includes(value)) fail(`must be one of ${values.join(', ')}`);
    },
  };
}

function integer(min: number, hint: string, reason: string, max = Number.MAX_SAFE_INTEGER): ConfigFormat {
  return {
    hint,
    flag: 'value',
    validate(value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) fail(reason);
    },
    coerce: (text) => (/^-?\d+$/.test(text) ? Number(text) : text),
  };
}

function number(max: number, reason: string): ConfigFormat {
  return {
    hint: 'number',
    flag: 'value',
    validate(value) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) fail(reason);
    },
    coerce: (text) => (/^\d+(?:\.\d+)?$/.test(text) ? Number(text) : text),
  };
}

/** An IPv4/IPv6 address, or one with a prefix length (`10.0.0.0/8`, `fd00::/8`). */
function isIpOrCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

function stringList(hint: string, check: (item: string) => boolean, reason: string): ConfigFormat {
  return {
    hint,
    flag: 'list',
    validate(value) {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && check(item))) fail(reason);
    },
    coerce: splitList,
  };
}

function stringMatching(check: (text: string) => boolean, hint: string, reason: string, textual = false): ConfigFormat {
  return {
    hint,
    flag: 'value',
    textual,
    validate(value) {
      if (typeof value !== 'string' || !check(value)) fail(reason);
    },
  };
}

function mappingList(reason: string): ConfigFormat {
  return {
    hint: 'yaml',
    flag: 'value',
    validate(value) {
      if (!Array.isArray(value) || !value.every(isPlainObject)) fail(reason);
    },
    coerce: parseYamlList,
  };
}

function isUrl(text: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(text);
    return schemes.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

const FORMATS = {
  duration: duration(true),
  'nonzero-duration': duration(false),
  'bind-addr': stringMatching(
    (text) => parseHostPort(text) !== undefined,
    'host:port',
    'must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000',
  ),
  'advertise-addr': stringMatching(
    (text) => {
      const hp = text === '' ? { host: 'inferred', port: 1 } : parseHostPort(text);
      return hp !== undefined && hp.host !== '' && hp.port !== 0;
    },
    'host:port',
    'must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000',
  ),
  'log-level': enumeration(LOG_LEVELS, 'level'),
  protocol: enumeration(PROTOCOLS, 'protocol'),
  bool: {
    hint: 'bool',
    flag: 'bool',
    validate(value) {
      if (typeof value !== 'boolean') fail('must be true or false');
    },
    coerce: (text) => (TRUE_TEXT.has(text) ? true : FALSE_TEXT.has(text) ? false : text),
  },
  'positive-int': integer(1, 'int', 'must be a positive integer'),
  uint: integer(0, 'int', 'must be an integer >= 0'),
  'idle-conns': integer(-1, 'int', 'must be an integer >= -1 (-1 = unlimited)'),
  'packet-size': integer(MIN_PACKET_SIZE, 'bytes', `must be an integer between ${MIN_PACKET_SIZE} and 65507`, 65_507),
  'non-negative-number': number(Number.MAX_VALUE, 'must be a number >= 0'),
  ratio: number(1, 'must be a number between 0 and 1'),
  text: stringMatching(() => true, 'string', 'must be a string', true),
  'header-list': stringList(
    'strings',
    (item) => HEADER_NAME.test(item),
    'must be a list of HTTP header names',
  ),
  'name-list': stringList('strings', (item) => SUBSYSTEM.test(item), 'must be a list of names of [A-Za-z0-9._-]'),
  'address-list': stringList('strings', (item) => !/[\s,]/.test(item), 'must be a list of host or host:port'),
  'ip-cidr-list': stringList('ips', isIpOrCidr, 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'),
  'node-id': stringMatching(
    (text) => text === '' || NODE_ID.test(text),
    'string',
    'must be empty (generated) or 1 to 128 characters of [A-Za-z0-9._-]',
    true,
  ),
  'node-id-prefix': stringMatching(
    (text) => NODE_ID_PREFIX.test(text),
    'string',
    'must be at most 121 characters of [A-Za-z0-9._-]',
    true,
  ),
  'connect-url': stringMatching(
    (text) => isUrl(text, ['http:', 'https:', 'ws:', 'wss:']),
    'url',
    'must be an http, https, ws or wss URL with a host',
  ),
  'optional-url': stringMatching(
    (text) => text === '' || isUrl(text, ['http:', 'https:']),
    'url',
    'must be empty or an http or https URL with a host',
  ),
  'endpoint-id': {
    hint: 'endpoint',
    flag: 'value',
    textual: true,
    validate(value) {
      if (value === '') fail('is required');
      const problem = typeof value === 'string' ? endpointIdProblem(value) : 'must be a string';
      if (problem !== undefined) fail(problem);
    },
  },
  'listener-addr': {
    hint: 'addr',
    flag: 'value',
    textual: true,
    validate(value) {
      if (value === '') fail('is required');
      const parsed = parseListenerAddr(value);
      if (typeof parsed === 'string') fail(parsed);
    },
  },
  'forward-addr': {
    hint: 'addr',
    flag: 'value',
    textual: true,
    validate(value) {
      if (value === '') fail('is required');
      const parsed = parseForwardAddr(value);
      if (typeof parsed === 'string') fail(parsed);
    },
  },
  listeners: mappingList('must be a list of listener mappings'),
  ports: mappingList('must be a list of port mappings'),
  tenants: mappingList('must be a list of tenant mappings'),
} satisfies Record<string, ConfigFormat>;

/** The name of a format in {@link CONFIG_FORMATS}. */
export type FormatName = keyof typeof FORMATS;

/** Every format a schema field may name. */
export const CONFIG_FORMATS: Readonly<Record<FormatName, ConfigFormat>> = FORMATS;

// convict's format registry is process-wide; registering on import means any schema module that imports
// this file can be handed to convict.
for (const [name, format] of Object.entries(CONFIG_FORMATS) as [FormatName, ConfigFormat][]) {
  convict.addFormat({
    name,
    validate: (value: unknown) => format.validate(value),
    ...(format.coerce === undefined ? {} : { coerce: format.coerce }),
  });
}
