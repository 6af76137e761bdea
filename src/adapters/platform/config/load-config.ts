import { randomInt } from 'node:crypto';
import {
  bindAddrsOverlap,
  formatForwardAddr,
  normaliseListenerAddr,
  parseForwardAddr,
  parseHostPort,
  parseListenerAddr,
  type HostPort,
  type ListenerAddr,
} from './addresses.js';
import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from './agent-config.schema.js';
import { parseArgv, wantsHelp, type ParsedArgv } from './argv.js';
import type { ReadTextFile } from './config-file.js';
import { configFileSchema } from './config-file.schema.js';
import { unknownEnvWarnings, flagKinds, indexFlags, loadFileLayer, overridesFor, type Env } from './config-sources.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { forwardConfigSchema, forwardPortConfigSchema } from './forward-config.schema.js';
import { agentHelp, forwardHelp, serverHelp, type AgentSubcommand, type ForwardSubcommand } from './help.js';
import {
  checkFileTree,
  checkInactive,
  describeValue,
  resolveLayers,
  valueAt,
  type Override,
  type RawConfig,
} from './resolve-layers.js';
import { deepFreeze, type ConfigField } from './schema-tools.js';
import { serverConfigSchema } from './server-config.schema.js';
import type {
  AccessLogConfig,
  AgentConfig,
  ForwardConfig,
  ForwardPortConfig,
  HeaderFilterConfig,
  ListenerConfig,
  LogConfig,
  ServerConfig,
} from './types.js';

// Precedence is flags > PIKO_* environment > config file > defaults. Piko decodes the YAML on top of the
// parsed flags, so there the file wins over flags (§15 #1 of the Piko notes); we deliberately do not.

export type { Env } from './config-sources.js';

/** `--help` or `-h` was given: print `text` and exit 0. */
export interface HelpRequested {
  readonly kind: 'help';
  readonly text: string;
}

/** A valid, deep-frozen configuration, plus warnings about Piko options accepted but not used yet. */
export interface ConfigLoaded<T> {
  readonly kind: 'config';
  readonly config: T;
  readonly warnings: readonly string[];
}

/** What a loader returns; anything invalid throws a {@link ConfigError} instead. */
export type LoadResult<T> = HelpRequested | ConfigLoaded<T>;

/** Seams for tests; production code passes nothing. */
export interface LoadOptions {
  /** Reads the `--config.path` file (default: `fs.readFileSync` as UTF-8). */
  readonly readFile?: ReadTextFile;
  /** Random part of a generated node ID (default: {@link generateNodeIdSuffix}). */
  readonly nodeIdSuffix?: () => string;
}

const NODE_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Seven characters of `[a-z0-9]` from a cryptographic source, as Piko generates node IDs. */
export function generateNodeIdSuffix(): string {
  return Array.from({ length: 7 }, () => NODE_ID_ALPHABET[randomInt(NODE_ID_ALPHABET.length)]).join('');
}

const SERVER_FLAGS = indexFlags(configFileSchema, serverConfigSchema);
const AGENT_FLAGS = indexFlags(configFileSchema, agentConfigSchema, listenerConfigSchema);
const FORWARD_FLAGS = indexFlags(configFileSchema, forwardConfigSchema);

/** Typed reads of validated raw values. */
class Values {
  constructor(
    private readonly raw: RawConfig,
    readonly prefix: string,
  ) {}

  text(path: string): string {
    return valueAt(this.raw, path) as string;
  }
  ms(path: string): number {
    return parseDuration(valueAt(this.raw, path)) ?? 0;
  }
  flag(path: string): boolean {
    return valueAt(this.raw, path) === true;
  }
  count(path: string): number {
    return valueAt(this.raw, path) as number;
  }
  list(path: string): string[] {
    return [...(valueAt(this.raw, path) as readonly string[])];
  }
}

function headerFilter(values: Values, path: string): HeaderFilterConfig {
  const names = (key: string) => [...new Set(values.list(`${path}.${key}`).map((name) => name.toLowerCase()))];
  const allowList = names('allow_list');
  const blockList = names('block_list');
  if (allowList.length > 0 && blockList.length > 0) {
    throw new ConfigError('CONFIG_INVALID_VALUE', values.prefix + path, 'allow_list and block_list cannot both be set');
  }
  return { allowList, blockList };
}

function accessLog(values: Values, path: string): AccessLogConfig {
  return {
    level: values.text(`${path}.level`) as AccessLogConfig['level'],
    disable: values.flag(`${path}.disable`),
    requestHeaders: headerFilter(values, `${path}.request_headers`),
    responseHeaders: headerFilter(values, `${path}.response_headers`),
  };
}

function logConfig(values: Values): LogConfig {
  return { level: values.text('log.level') as LogConfig['level'], subsystems: values.list('log.subsystems') };
}

function checkBindAddrs(values: Values, paths: readonly string[]): void {
  for (const [i, path] of paths.entries()) {
    for (const earlier of paths.slice(0, i)) {
      const a = parseHostPort(values.text(path));
      const b = parseHostPort(values.text(earlier));
      if (a !== undefined && b !== undefined && bindAddrsOverlap(a, b)) {
        throw new ConfigError('CONFIG_INVALID_VALUE', path, `overlaps ${earlier} (${JSON.stringify(values.text(earlier))})`);
      }
    }
  }
}

/**
 * The layers every command resolves the same way: the YAML file (if `--config.path`), `PIKO_*` variables and
 * flags over the schema's defaults, plus warnings for Piko options that are accepted but not active.
 */
function resolveCommand(
  parsed: ParsedArgv,
  flags: Parameters<typeof overridesFor>[1],
  schema: Parameters<typeof overridesFor>[2],
  env: Env,
  options: LoadOptions,
): { raw: ReturnType<typeof resolveLayers>; warnings: string[]; values: Values } {
  const file = loadFileLayer(parsed, flags, env, options.readFile, schema);
  const raw = resolveLayers({ schema, subjectPrefix: '', file, env, overrides: overridesFor(parsed, flags, schema) });
  return { raw, warnings: checkInactive(schema, raw, ''), values: new Values(raw, '') };
}

/**
 * Loads the configuration of `piko-ts server`. `argv` is what follows `server`; `env` is the process
 * environment. Returns help when `-h`/`--help` is anywhere; throws a ConfigError for any unknown flag, key
 * or variable and for any invalid value. A missing node ID is generated.
 */
export function loadServerConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<ServerConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: serverHelp() };
  const parsed = parseArgv(argv, flagKinds(SERVER_FLAGS));
  const extra = parsed.positionals[0];
  if (extra !== undefined) throw new ConfigError('CONFIG_USAGE', 'server', `unexpected argument ${JSON.stringify(extra)}`);
  const { raw, warnings, values } = resolveCommand(parsed, SERVER_FLAGS, serverConfigSchema, env, options);
  warnings.unshift(...unknownEnvWarnings(env));
  checkBindAddrs(values, ['proxy.bind_addr', 'upstream.bind_addr', 'admin.bind_addr']);
  const nodeIdPrefix = values.text('cluster.node_id_prefix');
  const nodeId = values.text('cluster.node_id') || nodeIdPrefix + (options.nodeIdSuffix ?? generateNodeIdSuffix)();
  const readTimeoutMs = values.ms('proxy.http.read_timeout');
  const config: ServerConfig = {
    proxy: {
      bindAddr: values.text('proxy.bind_addr'),
      advertiseAddr: values.text('proxy.advertise_addr'),
      timeoutMs: values.ms('proxy.timeout'),
      accessLog: accessLog(values, 'proxy.access_log'),
      http: {
        readTimeoutMs,
        // As Go's http.Server: a zero ReadHeaderTimeout falls back to ReadTimeout.
        readHeaderTimeoutMs: values.ms('proxy.http.read_header_timeout') || readTimeoutMs,
        writeTimeoutMs: values.ms('proxy.http.write_timeout'),
        idleTimeoutMs: values.ms('proxy.http.idle_timeout'),
        maxHeaderBytes: values.count('proxy.http.max_header_bytes'),
        trustedProxies: values.list('proxy.http.trusted_proxies'),
        maxConnectionsPerIp: values.count('proxy.http.max_connections_per_ip'),
      },
      tcp: { maxMessageBytes: values.count('proxy.tcp.max_message_bytes') },
      upstreamWaitMs: values.ms('proxy.upstream_wait'),
    },
    upstream: {
      bindAddr: values.text('upstream.bind_addr'),
      advertiseAddr: values.text('upstream.advertise_addr'),
      maxStreamsPerSession: values.count('upstream.max_streams_per_session'),
      keepaliveIntervalMs: values.ms('upstream.keepalive_interval'),
      keepaliveTimeoutMs: values.ms('upstream.keepalive_timeout'),
      maxQueuedControlFrames: values.count('upstream.max_queued_control_frames'),
      maxMessageBytes: values.count('upstream.max_message_bytes'),
      rebalance: {
        threshold: values.count('upstream.rebalance.threshold'),
        shedRate: values.count('upstream.rebalance.shed_rate'),
        minConns: values.count('upstream.rebalance.min_conns'),
      },
    },
    admin: { bindAddr: values.text('admin.bind_addr'), advertiseAddr: values.text('admin.advertise_addr') },
    cluster: {
      nodeId,
      nodeIdPrefix,
      join: values.list('cluster.join'),
      joinTimeoutMs: values.ms('cluster.join_timeout'),
      abortIfJoinFails: values.flag('cluster.abort_if_join_fails'),
      gossip: {
        bindAddr: values.text('cluster.gossip.bind_addr'),
        advertiseAddr: values.text('cluster.gossip.advertise_addr'),
        intervalMs: values.ms('cluster.gossip.interval'),
        maxPacketSize: values.count('cluster.gossip.max_packet_size'),
        secretKey: values.text('cluster.gossip.secret_key'),
      },
    },
    log: logConfig(values),
    gracePeriodMs: values.ms('grace_period'),
  };
  return { kind: 'config', config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

const SUBCOMMANDS: readonly AgentSubcommand[] = ['start', 'http', 'tcp'];

function isSubcommand(arg: string | undefined): arg is AgentSubcommand {
  return SUBCOMMANDS.includes(arg as AgentSubcommand);
}

/** Resolves one listener (a YAML item or the positional one) and checks its cross-field rules. */
function resolveListener(
  item: unknown,
  subjectPrefix: string,
  env: Env,
  overrides: ReadonlyMap<string, Override>,
  warnings: string[],
): ListenerConfig {
  const raw = resolveLayers({
    schema: listenerConfigSchema,
    subjectPrefix,
    file: checkFileTree(item, listenerConfigSchema, subjectPrefix),
    env,
    envFilter: (leaf) => leaf.field.arg !== undefined,
    overrides,
  });
  warnings.push(...checkInactive(listenerConfigSchema, raw, subjectPrefix));
  const values = new Values(raw, subjectPrefix);
  const protocol = values.text('protocol') as ListenerConfig['protocol'];
  const rawAddr = valueAt(raw, 'addr');
  const addr = normaliseListenerAddr(parseListenerAddr(rawAddr) as ListenerAddr, protocol);
  if (typeof addr !== 'string') {
    const suffix = describeValue(rawAddr, listenerConfigSchema['addr'] as ConfigField, overrides.get('addr')?.origin);
    throw new ConfigError('CONFIG_INVALID_VALUE', `${subjectPrefix}addr`, addr.reason + suffix);
  }
  return {
    endpointId: String(valueAt(raw, 'endpoint_id')),
    protocol,
    addr,
    timeoutMs: values.ms('timeout'),
    maxHeaderBytes: values.count('max_header_bytes'),
    accessLog: accessLog(values, 'access_log'),
  };
}

/**
 * Loads the configuration of `piko-ts agent`. `argv` is what follows `agent`, starting with a subcommand:
 * `start` (listeners from the config file's `listeners:`), or `http|tcp <endpoint> <addr>` (one listener
 * from the positionals and the listener flags, replacing the file's listeners). Returns help when
 * `-h`/`--help` is anywhere; throws a ConfigError for anything unknown or invalid.
 */
export function loadAgentConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<AgentConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: agentHelp(argv.find(isSubcommand)) };
  const parsed = parseArgv(argv, flagKinds(AGENT_FLAGS));
  const [subcommand, ...args] = parsed.positionals;
  if (subcommand === undefined) throw new ConfigError('CONFIG_USAGE', 'agent', 'missing subcommand: start, http or tcp');
  if (!isSubcommand(subcommand)) {
    throw new ConfigError('CONFIG_USAGE', 'agent', `unknown subcommand ${JSON.stringify(subcommand)} (expected start, http or tcp)`);
  }
  for (const flag of parsed.flags.keys()) {
    const target = AGENT_FLAGS.get(flag);
    if (target?.schema !== listenerConfigSchema) continue;
    if (subcommand === 'start') throw new ConfigError('CONFIG_USAGE', `--${flag}`, 'only valid with agent http or agent tcp');
    if (subcommand === 'tcp' && !TCP_LISTENER_KEYS.has(target.leaf.path)) {
      throw new ConfigError('CONFIG_USAGE', `--${flag}`, 'only valid with agent http');
    }
  }
  const expected = subcommand === 'start' ? 0 : 2;
  if (args.length !== expected) {
    const usage = subcommand === 'start' ? 'takes no arguments' : 'expects <endpoint> <addr>';
    throw new ConfigError('CONFIG_USAGE', `agent ${subcommand}`, `${usage} (got ${args.length})`);
  }
  const listenerEnv = Object.keys(env).sort().find((name) => name.startsWith('PIKO_LISTENER_') && env[name] !== undefined && env[name] !== '');
  if (subcommand === 'start' && listenerEnv !== undefined) {
    throw new ConfigError('CONFIG_USAGE', listenerEnv, 'only applies to agent http and agent tcp; set listeners[] keys in the config file');
  }
  const { raw, warnings, values } = resolveCommand(parsed, AGENT_FLAGS, agentConfigSchema, env, options);
  warnings.unshift(...unknownEnvWarnings(env));
  let listeners: ListenerConfig[];
  if (subcommand === 'start') {
    const items = valueAt(raw, 'listeners') as readonly unknown[];
    if (items.length === 0) {
      throw new ConfigError('CONFIG_INVALID_VALUE', 'listeners', 'no listeners configured (add listeners: to the config file, or use agent http|tcp)');
    }
    listeners = items.map((item, i) => resolveListener(item, `listeners[${i}].`, {}, new Map(), warnings));
  } else {
    // The positional listener replaces the file's (and PIKO_LISTENERS') listeners, as in Piko.
    const overrides = overridesFor(parsed, AGENT_FLAGS, listenerConfigSchema);
    overrides.set('endpoint_id', { value: args[0], origin: '<endpoint>' });
    overrides.set('addr', { value: args[1], origin: '<addr>' });
    overrides.set('protocol', { value: subcommand, origin: `agent ${subcommand}` });
    listeners = [resolveListener({}, 'listener.', env, overrides, warnings)];
  }
  const config: AgentConfig = {
    listeners,
    connect: {
      url: values.text('connect.url'),
      token: values.text('connect.token'),
      timeoutMs: values.ms('connect.timeout'),
      startupDeadlineMs: values.ms('connect.startup_deadline'),
    },
    server: { enabled: values.flag('server.enabled'), bindAddr: values.text('server.bind_addr') },
    log: logConfig(values),
    gracePeriodMs: values.ms('grace_period'),
  };
  return { kind: 'config', config: deepFreeze(config), warnings: Object.freeze(warnings) };
}

const FORWARD_SUBCOMMANDS: readonly ForwardSubcommand[] = ['start', 'tcp'];

function isForwardSubcommand(arg: string | undefined): arg is ForwardSubcommand {
  return FORWARD_SUBCOMMANDS.includes(arg as ForwardSubcommand);
}

/** Resolves one forward port (a YAML item or the positional one); `addr` comes back normalised. */
function resolvePort(item: unknown, subjectPrefix: string, overrides: ReadonlyMap<string, Override>): ForwardPortConfig & { hostPort: HostPort } {
  const raw = resolveLayers({
    schema: forwardPortConfigSchema,
    subjectPrefix,
    file: checkFileTree(item, forwardPortConfigSchema, subjectPrefix),
    env: {},
    overrides,
  });
  // The `forward-addr` format has accepted the value, so it parses.
  const hostPort = parseForwardAddr(valueAt(raw, 'addr')) as HostPort;
  return { addr: formatForwardAddr(hostPort), endpointId: String(valueAt(raw, 'endpoint_id')), hostPort };
}

/**
 * Loads the configuration of `piko-ts forward`. `argv` is what follows `forward`, starting with a
 * subcommand: `start` (ports from the config file's `ports:`, or `PIKO_PORTS`), or `tcp <addr> <endpoint>`
 * (one port from the positionals, local address first as in Piko, replacing the file's ports). Returns
 * help when `-h`/`--help` is anywhere; throws a ConfigError for anything unknown or invalid, including two
 * ports listening on the same address.
 */
export function loadForwardConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<ForwardConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: forwardHelp(argv.find(isForwardSubcommand)) };
  const parsed = parseArgv(argv, flagKinds(FORWARD_FLAGS));
  const [subcommand, ...args] = parsed.positionals;
  if (subcommand === undefined) throw new ConfigError('CONFIG_USAGE', 'forward', 'missing subcommand: start or tcp');
  if (!isForwardSubcommand(subcommand)) {
    throw new ConfigError('CONFIG_USAGE', 'forward', `unknown subcommand ${JSON.stringify(subcommand)} (expected start or tcp)`);
  }
  const expected = subcommand === 'start' ? 0 : 2;
  if (args.length !== expected) {
    const usage = subcommand === 'start' ? 'takes no arguments' : 'expects <addr> <endpoint>';
    throw new ConfigError('CONFIG_USAGE', `forward ${subcommand}`, `${usage} (got ${args.length})`);
  }
  const { raw, warnings, values } = resolveCommand(parsed, FORWARD_FLAGS, forwardConfigSchema, env, options);
  warnings.unshift(...unknownEnvWarnings(env));
  let ports: (ForwardPortConfig & { hostPort: HostPort })[];
  let subjects: string[];
  if (subcommand === 'start') {
    const items = valueAt(raw, 'ports') as readonly unknown[];
    if (items.length === 0) {
      throw new ConfigError('CONFIG_INVALID_VALUE', 'ports', 'no ports configured (add ports: to the config file, or use forward tcp)');
    }
    subjects = items.map((_, i) => `ports[${i}].`);
    ports = items.map((item, i) => resolvePort(item, `ports[${i}].`, new Map()));
  } else {
    // The positional port replaces the file's (and PIKO_PORTS') ports, as in Piko.
    const overrides = new Map<string, Override>([
      ['addr', { value: args[0], origin: '<addr>' }],
      ['endpoint_id', { value: args[1], origin: '<endpoint>' }],
    ]);
    subjects = ['port.'];
    ports = [resolvePort({}, 'port.', overrides)];
  }
  for (const [i, port] of ports.entries()) {
    const earlier = ports.slice(0, i).findIndex((other) => bindAddrsOverlap(port.hostPort, other.hostPort));
    if (earlier >= 0) {
      const other = ports[earlier];
      throw new ConfigError('CONFIG_INVALID_VALUE', `${subjects[i]}addr`, `overlaps ${subjects[earlier]}addr (${JSON.stringify(other?.addr)})`);
    }
  }
  const config: ForwardConfig = {
    ports: ports.map(({ addr, endpointId }) => ({ addr, endpointId })),
    connect: { url: values.text('connect.url'), token: values.text('connect.token'), timeoutMs: values.ms('connect.timeout') },
    log: logConfig(values),
  };
  return { kind: 'config', config: deepFreeze(config), warnings: Object.freeze(warnings) };
}
