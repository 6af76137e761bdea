import { randomInt } from 'node:crypto';
import { bindAddrsOverlap, formatForwardAddr, normaliseListenerAddr, parseForwardAddr, parseHostPort, parseListenerAddr } from './addresses.js';
import type { HostPort, ListenerAddr } from './addresses.js';
import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from './agent-config.schema.js';
import { parseArgv, wantsHelp, type ParsedArgv } from './argv.js';
import { configFileSchema } from './config-file.schema.js';
import { flagKinds, indexFlags, loadFileLayer, overridesFor, unknownEnvWarnings, type FlagIndex, type ReadTextFile } from './config-sources.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { forwardConfigSchema, forwardPortConfigSchema } from './forward-config.schema.js';
import { agentHelp, forwardHelp, serverHelp, type AgentSubcommand, type ForwardSubcommand } from './help.js';
import { describeValue, resolveLayers, valueAt, type Env, type Override, type RawConfig } from './resolve-layers.js';
import { deepFreeze, isField, type ConfigField, type ConfigSchema } from './schema-tools.js';
import { serverConfigSchema, tenantConfigSchema } from './server-config.schema.js';
import { checkAgentTls, checkForwardTls, checkServerTls } from '../tls/tls-config-checks.js';
import { checkClientToken, checkServerAuth } from '../auth/auth-config-checks.js';
import { tenantIdProblem } from '../../../domain/endpoint/tenant.js';
import type { AgentConfig, ForwardConfig, ForwardPortConfig, ListenerConfig, ServerConfig, TenantConfig } from './types.js';

// Precedence is flags > PIKO_* environment > config file > defaults. Piko decodes the YAML on top of the
// parsed flags, so there the file wins over flags (§15 #1 of the Piko notes); we deliberately do not.

export type { Env } from './resolve-layers.js';

/** `--help` or `-h` was given: print `text` and exit 0. */
export interface HelpRequested {
  readonly kind: 'help';
  readonly text: string;
}

/** A valid, deep-frozen configuration, plus warnings (Piko options not used yet, unknown `PIKO_*` variables). */
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

/** `T` with its object properties writable (arrays are replaced, never edited), for the loaders' last touches. */
type Writable<T> = { -readonly [K in keyof T]: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Writable<T[K]> : T[K] };

const camel = (key: string): string => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The typed view of resolved values (the shapes of `types.ts`): keys in camelCase, durations in milliseconds
 * under `<key>Ms`, header names lower-cased and de-duplicated, inactive fields (Piko options not implemented)
 * left out, and a header filter with both lists set refused.
 */
function typed(schema: ConfigSchema, raw: RawConfig, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema)) {
    const value = raw[key];
    if (!isField(node)) {
      const group = typed(node as ConfigSchema, value as RawConfig, `${prefix}${key}.`);
      if (Object.keys(group).length > 0) out[camel(key)] = group;
    } else if (node.inactive === undefined) {
      const { format } = node as ConfigField;
      if (format === 'duration' || format === 'nonzero-duration') out[`${camel(key)}Ms`] = parseDuration(value);
      else out[camel(key)] = format === 'header-list' ? [...new Set((value as string[]).map((name) => name.toLowerCase()))] : value;
    }
  }
  if ((out['allowList'] as unknown[] | undefined)?.length && (out['blockList'] as unknown[]).length) {
    throw new ConfigError('CONFIG_INVALID_VALUE', prefix.slice(0, -1), 'allow_list and block_list cannot both be set');
  }
  return out;
}

const done = <T>(config: T, warnings: string[]): ConfigLoaded<T> => ({ kind: 'config', config: deepFreeze(config), warnings: deepFreeze(warnings) });

/** The layers every command resolves alike: file (if `--config.path`), `PIKO_*` variables and flags over defaults. */
function resolveCommand(parsed: ParsedArgv, flags: FlagIndex, schema: ConfigSchema, env: Env, options: LoadOptions) {
  const file = loadFileLayer(parsed, flags, env, options.readFile);
  const { raw, warnings } = resolveLayers({ schema, prefix: '', file, env, overrides: overridesFor(parsed, flags, schema) });
  return { raw, warnings: [...unknownEnvWarnings(env), ...warnings] };
}

const AGENT_SUBCOMMANDS: readonly AgentSubcommand[] = ['start', 'http', 'tcp'];
const FORWARD_SUBCOMMANDS: readonly ForwardSubcommand[] = ['start', 'tcp'];
const isOneOf = <T extends string>(word: string | undefined, known: readonly T[]): word is T => known.includes(word as T);

/** The subcommand of `agent` or `forward`: the first positional, one of `known`. */
function subcommandOf<T extends string>(command: string, word: string | undefined, known: readonly T[]): T {
  const expected = `${known.slice(0, -1).join(', ')} or ${known.at(-1) ?? ''}`;
  if (word === undefined) throw new ConfigError('CONFIG_USAGE', command, `missing subcommand: ${expected}`);
  if (!isOneOf(word, known)) throw new ConfigError('CONFIG_USAGE', command, `unknown subcommand ${JSON.stringify(word)} (expected ${expected})`);
  return word;
}

/** Checks the positionals after a subcommand: none, or the two `operands`. */
function checkArity(what: string, args: readonly string[], operands?: string): void {
  if (args.length !== (operands === undefined ? 0 : 2)) {
    throw new ConfigError('CONFIG_USAGE', what, `${operands === undefined ? 'takes no arguments' : `expects ${operands}`} (got ${args.length})`);
  }
}

const SERVER_FLAGS = indexFlags(configFileSchema, serverConfigSchema);
const AGENT_FLAGS = indexFlags(configFileSchema, agentConfigSchema, listenerConfigSchema);
const FORWARD_FLAGS = indexFlags(configFileSchema, forwardConfigSchema);

/**
 * Loads the configuration of `piko-ts server`. `argv` is what follows `server`; `env` is the process
 * environment. Returns help when `-h`/`--help` is anywhere; throws a ConfigError for any unknown flag or key
 * and for any invalid value. A missing node ID is generated.
 */
export function loadServerConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<ServerConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: serverHelp() };
  const parsed = parseArgv(argv, flagKinds(SERVER_FLAGS));
  const extra = parsed.positionals[0];
  if (extra !== undefined) throw new ConfigError('CONFIG_USAGE', 'server', `unexpected argument ${JSON.stringify(extra)}`);
  const { raw, warnings } = resolveCommand(parsed, SERVER_FLAGS, serverConfigSchema, env, options);
  const binds = ['proxy.bind_addr', 'upstream.bind_addr', 'admin.bind_addr'];
  for (const [i, path] of binds.entries()) {
    for (const earlier of binds.slice(0, i)) {
      const [a, b] = [path, earlier].map((p) => parseHostPort(valueAt(raw, p) as string) as HostPort) as [HostPort, HostPort];
      if (bindAddrsOverlap(a, b)) {
        throw new ConfigError('CONFIG_INVALID_VALUE', path, `overlaps ${earlier} (${JSON.stringify(valueAt(raw, earlier))})`);
      }
    }
  }
  const config = typed(serverConfigSchema, raw, '') as Writable<ServerConfig>;
  config.cluster.nodeId ||= config.cluster.nodeIdPrefix + (options.nodeIdSuffix ?? generateNodeIdSuffix)();
  // As Go's http.Server: a zero ReadHeaderTimeout falls back to ReadTimeout.
  config.proxy.http.readHeaderTimeoutMs ||= config.proxy.http.readTimeoutMs;
  config.upstream.tenants = (valueAt(raw, 'upstream.tenants') as readonly unknown[]).map((item, i) => resolveTenant(item, `upstream.tenants[${i}].`, warnings));
  checkServerTls(config, warnings);
  checkServerAuth(config, warnings);
  return done<ServerConfig>(config, warnings);
}

/** Resolves one `upstream.tenants` item (its keys checked by their formats, PEM keys parsed); messages name `prefix`. */
function resolveTenant(file: unknown, prefix: string, warnings: string[]): TenantConfig {
  const resolved = resolveLayers({ schema: tenantConfigSchema, prefix, file, env: {}, overrides: new Map() });
  warnings.push(...resolved.warnings);
  return typed(tenantConfigSchema, resolved.raw, prefix) as unknown as TenantConfig;
}

/** Resolves one listener (a YAML item or the positional one) and normalises its address for its protocol. */
function resolveListener(file: unknown, prefix: string, env: Env, overrides: ReadonlyMap<string, Override>, warnings: string[]): ListenerConfig {
  const envFilter = (leaf: { field: ConfigField }) => leaf.field.arg !== undefined;
  const resolved = resolveLayers({ schema: listenerConfigSchema, prefix, file, env, envFilter, overrides });
  warnings.push(...resolved.warnings);
  const { raw } = resolved;
  const addr = normaliseListenerAddr(parseListenerAddr(raw['addr']) as ListenerAddr, raw['protocol'] as ListenerConfig['protocol']);
  if (typeof addr !== 'string') {
    const field = listenerConfigSchema['addr'] as ConfigField;
    throw new ConfigError('CONFIG_INVALID_VALUE', `${prefix}addr`, addr.reason + describeValue(raw['addr'], field, overrides.get('addr')?.origin));
  }
  return { ...(typed(listenerConfigSchema, raw, prefix) as unknown as ListenerConfig), addr };
}

/**
 * Loads the configuration of `piko-ts agent`. `argv` is what follows `agent`, starting with a subcommand:
 * `start` (listeners from the config file's `listeners:`), or `http|tcp <endpoint> <addr>` (one listener
 * from the positionals and the listener flags, replacing the file's listeners). Returns help when
 * `-h`/`--help` is anywhere; throws a ConfigError for anything unknown or invalid.
 */
export function loadAgentConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<AgentConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: agentHelp(argv.find((arg) => isOneOf(arg, AGENT_SUBCOMMANDS))) };
  const parsed = parseArgv(argv, flagKinds(AGENT_FLAGS));
  const [word, endpoint, addr] = parsed.positionals;
  const subcommand = subcommandOf('agent', word, AGENT_SUBCOMMANDS);
  for (const flag of parsed.flags.keys()) {
    const target = AGENT_FLAGS.get(flag);
    if (target?.schema !== listenerConfigSchema) continue;
    if (subcommand === 'start') throw new ConfigError('CONFIG_USAGE', `--${flag}`, 'only valid with agent http or agent tcp');
    if (subcommand === 'tcp' && !TCP_LISTENER_KEYS.has(target.leaf.path)) {
      throw new ConfigError('CONFIG_USAGE', `--${flag}`, 'only valid with agent http');
    }
  }
  checkArity(`agent ${subcommand}`, parsed.positionals.slice(1), subcommand === 'start' ? undefined : '<endpoint> <addr>');
  const listenerEnv = Object.keys(env).sort().find((name) => name.startsWith('PIKO_LISTENER_') && (env[name] ?? '') !== '');
  if (subcommand === 'start' && listenerEnv !== undefined) {
    throw new ConfigError('CONFIG_USAGE', listenerEnv, 'only applies to agent http and agent tcp; set listeners[] keys in the config file');
  }
  const { raw, warnings } = resolveCommand(parsed, AGENT_FLAGS, agentConfigSchema, env, options);
  const config = typed(agentConfigSchema, raw, '') as Writable<AgentConfig>;
  if (subcommand === 'start') {
    const items = raw['listeners'] as readonly unknown[];
    if (items.length === 0) {
      throw new ConfigError('CONFIG_INVALID_VALUE', 'listeners', 'no listeners configured (add listeners: to the config file, or use agent http|tcp)');
    }
    config.listeners = items.map((item, i) => resolveListener(item, `listeners[${i}].`, {}, new Map(), warnings));
  } else {
    // The positional listener replaces the file's (and PIKO_LISTENERS') listeners, as in Piko.
    const overrides = overridesFor(parsed, AGENT_FLAGS, listenerConfigSchema);
    overrides.set('endpoint_id', { value: endpoint, origin: '<endpoint>' });
    overrides.set('addr', { value: addr, origin: '<addr>' });
    overrides.set('protocol', { value: subcommand, origin: `agent ${subcommand}` });
    config.listeners = [resolveListener({}, 'listener.', env, overrides, warnings)];
  }
  checkAgentTls(config, warnings);
  checkClientToken(config.connect);
  const tenantProblem = config.connect.tenantId === '' ? undefined : tenantIdProblem(config.connect.tenantId);
  if (tenantProblem !== undefined) throw new ConfigError('CONFIG_INVALID_VALUE', 'connect.tenant_id', tenantProblem);
  return done<AgentConfig>(config, warnings);
}

/** Resolves one forward port (a YAML item or the positional one), with its address parsed and normalised. */
function resolvePort(file: unknown, prefix: string, overrides: ReadonlyMap<string, Override>) {
  const { raw } = resolveLayers({ schema: forwardPortConfigSchema, prefix, file, env: {}, overrides });
  const hostPort = parseForwardAddr(raw['addr']) as HostPort; // the `forward-addr` format accepted it
  const port: ForwardPortConfig = { addr: formatForwardAddr(hostPort), endpointId: raw['endpoint_id'] as string };
  return { prefix, hostPort, port };
}

/**
 * Loads the configuration of `piko-ts forward`. `argv` is what follows `forward`, starting with a
 * subcommand: `start` (ports from the config file's `ports:`, or `PIKO_PORTS`), or `tcp <addr> <endpoint>`
 * (one port from the positionals, local address first as in Piko, replacing the file's ports). Returns
 * help when `-h`/`--help` is anywhere; throws a ConfigError for anything unknown or invalid, including two
 * ports listening on the same address.
 */
export function loadForwardConfig(argv: readonly string[], env: Env, options: LoadOptions = {}): LoadResult<ForwardConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: forwardHelp(argv.find((arg) => isOneOf(arg, FORWARD_SUBCOMMANDS))) };
  const parsed = parseArgv(argv, flagKinds(FORWARD_FLAGS));
  const [word, addr, endpoint] = parsed.positionals;
  const subcommand = subcommandOf('forward', word, FORWARD_SUBCOMMANDS);
  checkArity(`forward ${subcommand}`, parsed.positionals.slice(1), subcommand === 'start' ? undefined : '<addr> <endpoint>');
  const { raw, warnings } = resolveCommand(parsed, FORWARD_FLAGS, forwardConfigSchema, env, options);
  const config = typed(forwardConfigSchema, raw, '') as Writable<ForwardConfig>;
  const items = raw['ports'] as readonly unknown[];
  if (subcommand === 'start' && items.length === 0) {
    throw new ConfigError('CONFIG_INVALID_VALUE', 'ports', 'no ports configured (add ports: to the config file, or use forward tcp)');
  }
  // The positional port replaces the file's (and PIKO_PORTS') ports, as in Piko.
  const positional = new Map([['addr', { value: addr, origin: '<addr>' }], ['endpoint_id', { value: endpoint, origin: '<endpoint>' }]]);
  const ports =
    subcommand === 'start' ? items.map((item, i) => resolvePort(item, `ports[${i}].`, new Map())) : [resolvePort({}, 'port.', positional)];
  for (const [i, { prefix, hostPort }] of ports.entries()) {
    const earlier = ports.find((other, j) => j < i && bindAddrsOverlap(hostPort, other.hostPort));
    if (earlier !== undefined) {
      throw new ConfigError('CONFIG_INVALID_VALUE', `${prefix}addr`, `overlaps ${earlier.prefix}addr (${JSON.stringify(earlier.port.addr)})`);
    }
  }
  config.ports = ports.map(({ port }) => port);
  checkForwardTls(config, warnings);
  checkClientToken(config.connect);
  return done<ForwardConfig>(config, warnings);
}
