import { bindAddrsOverlap, parseHostPort, type HostPort } from '../adapters/platform/config/addresses.js';
import { parseArgv, wantsHelp } from '../adapters/platform/config/argv.js';
import { configFileSchema } from '../adapters/platform/config/config-file.schema.js';
import { flagKinds, indexFlags, loadFileLayer, overridesFor, type ReadTextFile } from '../adapters/platform/config/config-sources.js';
import { formatDuration, parseDuration } from '../adapters/platform/config/duration.js';
import { ConfigError } from '../adapters/platform/config/errors.js';
import { CONFIG_FORMATS } from '../adapters/platform/config/formats.js';
import { loadServerConfig, type Env, type LoadResult } from '../adapters/platform/config/load-config.js';
import { resolveLayers, valueAt, type RawConfig } from '../adapters/platform/config/resolve-layers.js';
import { defineSchema, field, schemaLeaves, type SchemaLeaf } from '../adapters/platform/config/schema-tools.js';
import { LOG_TREE } from '../adapters/platform/config/shared-schema.js';
import type { LogConfig, ServerConfig } from '../adapters/platform/config/types.js';
import { FRONT_NODE_HEADER } from '../adapters/front/front-proxy.js';
import { BALANCE_STRATEGIES, isBalanceStrategy, type BalanceStrategy } from '../adapters/front/node-picker.js';

/** Most nodes one process may run: each binds four ports and keeps its own registry, gossip and timers. */
export const MAX_TEST_CLUSTER_NODES = 64;

/**
 * Schema of `piko-ts test cluster` (Piko's `nodes` and `log`, §1.6 and §2.5 of the Piko notes, plus piko-ts's
 * front addresses, balance strategy, gossip interval and grace period). The `*.bind_addr` keys are the fronts'
 * addresses (what clients and agents use); the nodes themselves always bind 127.0.0.1 on free ports.
 */
export const testClusterConfigSchema = defineSchema(
  {
    nodes: field('positive-int', 3, `Number of server nodes run in this process (1 to ${MAX_TEST_CLUSTER_NODES}).`),
    balance: field('text', 'round-robin', `How the fronts choose a node for each request or connection: ${BALANCE_STRATEGIES.join(' or ')}.`),
    proxy: { bind_addr: field('bind-addr', '127.0.0.1:8000', "Listen address of the front for clients, spread over the nodes' proxy ports.") },
    upstream: { bind_addr: field('bind-addr', '127.0.0.1:8001', "Listen address of the front for agents, spread over the nodes' upstream ports.") },
    admin: { bind_addr: field('bind-addr', '127.0.0.1:8002', "Listen address of the front for the admin API, spread over the nodes' admin ports.") },
    cluster: { gossip: { interval: field('nonzero-duration', '50ms', "The nodes' gossip round period (a fast cluster; a server defaults to 100ms).") } },
    grace_period: field('nonzero-duration', '10s', 'Shutdown budget of each node; nodes are stopped one after the other.'),
    log: LOG_TREE,
  },
  'PIKO_',
);

/** Configuration of `piko-ts test cluster`, typed and frozen. */
export interface TestClusterConfig {
  readonly nodes: number;
  readonly balance: BalanceStrategy;
  /** The fronts' bind addresses. */
  readonly proxy: { readonly bindAddr: string };
  readonly upstream: { readonly bindAddr: string };
  readonly admin: { readonly bindAddr: string };
  readonly gossipIntervalMs: number;
  readonly gracePeriodMs: number;
  readonly log: LogConfig;
}

const FLAGS = indexFlags(configFileSchema, testClusterConfigSchema);
const FRONT_BINDS = ['proxy.bind_addr', 'upstream.bind_addr', 'admin.bind_addr'] as const;

/**
 * Loads the configuration of `piko-ts test cluster` (what follows `test cluster`), with the precedence of every
 * command: flags > `PIKO_*` variables > `--config.path` YAML > defaults. Returns help for `-h`/`--help`; throws
 * a ConfigError naming the flag or key for anything invalid (an unknown flag, a node count out of range, an
 * unknown strategy, two fronts on the same port). Called again on SIGHUP, so that an edited file's `nodes`
 * resizes the cluster.
 */
export function loadTestClusterConfig(argv: readonly string[], env: Env, readFile?: ReadTextFile): LoadResult<TestClusterConfig> {
  if (wantsHelp(argv)) return { kind: 'help', text: testClusterHelp() };
  const parsed = parseArgv(argv, flagKinds(FLAGS));
  const extra = parsed.positionals[0];
  if (extra !== undefined) throw new ConfigError('CONFIG_USAGE', 'test cluster', `unexpected argument ${JSON.stringify(extra)}`);
  const file = loadFileLayer(parsed, FLAGS, env, readFile);
  const overrides = overridesFor(parsed, FLAGS, testClusterConfigSchema);
  const { raw, warnings } = resolveLayers({ schema: testClusterConfigSchema, prefix: '', file, env, overrides });
  const origin = (path: string): string => {
    const flag = overrides.get(path)?.origin;
    return flag === undefined ? '' : ` from ${flag}`;
  };
  const nodes = raw['nodes'] as number;
  if (nodes > MAX_TEST_CLUSTER_NODES) {
    throw new ConfigError('CONFIG_INVALID_VALUE', 'nodes', `must be at most ${MAX_TEST_CLUSTER_NODES} (got ${nodes}${origin('nodes')})`);
  }
  const balance = raw['balance'];
  if (!isBalanceStrategy(balance)) {
    throw new ConfigError('CONFIG_INVALID_VALUE', 'balance', `must be one of ${BALANCE_STRATEGIES.join(', ')} (got ${JSON.stringify(balance)}${origin('balance')})`);
  }
  checkFrontsApart(raw);
  const log = raw['log'] as { level: LogConfig['level']; subsystems: string[] };
  const config: TestClusterConfig = {
    nodes,
    balance,
    proxy: { bindAddr: valueAt(raw, 'proxy.bind_addr') as string },
    upstream: { bindAddr: valueAt(raw, 'upstream.bind_addr') as string },
    admin: { bindAddr: valueAt(raw, 'admin.bind_addr') as string },
    gossipIntervalMs: parseDuration(valueAt(raw, 'cluster.gossip.interval')) ?? 50,
    gracePeriodMs: parseDuration(raw['grace_period']) ?? 10_000,
    log: { level: log.level, subsystems: [...log.subsystems] },
  };
  return { kind: 'config', config: Object.freeze(config), warnings };
}

/** Two fronts on the same non-zero port of the same host (or of every interface) would fail to bind: say so first. */
function checkFrontsApart(raw: RawConfig): void {
  const at = (path: string): HostPort => parseHostPort(valueAt(raw, path) as string) as HostPort;
  for (const [i, path] of FRONT_BINDS.entries()) {
    for (const earlier of FRONT_BINDS.slice(0, i)) {
      if (bindAddrsOverlap(at(path), at(earlier))) {
        throw new ConfigError('CONFIG_INVALID_VALUE', path, `overlaps ${earlier} (${JSON.stringify(valueAt(raw, earlier))})`);
      }
    }
  }
}

/**
 * The configuration of one node of the test cluster, built by the server's own loader (so it has every server
 * default and passes every server check): `nodeId`, 127.0.0.1 with free ports for its four ports, the cluster's
 * gossip interval, grace period and log settings, `join` (the gossip addresses of the nodes already running),
 * and 127.0.0.1 as a trusted proxy, so the X-Forwarded-Host/-Proto/-Port the front sets reach the services.
 * The process environment is not read: `PIKO_PROXY_BIND_ADDR` and friends are the fronts' here.
 */
export function testClusterNodeConfig(cluster: TestClusterConfig, nodeId: string, join: readonly string[]): ServerConfig {
  const flags = [
    ['--cluster.node-id', nodeId],
    ...['proxy', 'upstream', 'admin', 'cluster.gossip'].map((port) => [`--${port}.bind-addr`, '127.0.0.1:0']),
    ['--cluster.gossip.interval', formatDuration(cluster.gossipIntervalMs)],
    ['--grace-period', formatDuration(cluster.gracePeriodMs)],
    ['--log.level', cluster.log.level],
    ['--proxy.http.trusted-proxies', '127.0.0.1'],
    ...(cluster.log.subsystems.length > 0 ? [['--log.subsystems', cluster.log.subsystems.join(',')]] : []),
    ...(join.length > 0 ? [['--cluster.join', join.join(',')]] : []),
  ].flat();
  const loaded = loadServerConfig(flags, {});
  if (loaded.kind !== 'config') throw new Error('test cluster: unexpected help from the server configuration');
  return loaded.config;
}

const HELP_WIDTH = 100;
const HELP_INDENT = ' '.repeat(10);

/** `text` wrapped at {@link HELP_WIDTH} columns, each line indented. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > HELP_WIDTH && line.trim().length > 0) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  return [...lines, line.trimEnd()].join('\n');
}

/** One flag of the help page: name and value placeholder, then its doc with its default and variable. */
function flagEntry({ field: f }: SchemaLeaf): string {
  const format = CONFIG_FORMATS[f.format];
  const value = f.default;
  const shown = Array.isArray(value) ? `[${value.join(',')}]` : typeof value === 'string' && format.hint !== 'duration' ? JSON.stringify(value) : String(value);
  return `      --${f.arg ?? ''}${format.flag === 'bool' ? '' : ` ${format.hint}`}\n${wrap(`${f.doc} (default ${shown}, env ${f.env})`, HELP_INDENT)}`;
}

/** Help of `piko-ts test cluster`: what it runs, how to use it, and every flag with its default and variable. */
export function testClusterHelp(): string {
  const leaves = [...schemaLeaves(configFileSchema), ...schemaLeaves(testClusterConfigSchema)].filter((leaf) => leaf.field.arg !== undefined);
  const about =
    'Runs a cluster of server nodes in this process, for trying piko-ts on one machine: every node listens on ' +
    '127.0.0.1 (free ports) and joins the nodes started before it, and three fronts act as the load balancer of a real ' +
    'deployment, each sending every request or WebSocket connection to a node of its choice: clients use the proxy ' +
    'front, agents the upstream front, status commands the admin front. Every HTTP answer (not a WebSocket) of a front ' +
    `carry ${FRONT_NODE_HEADER} with the node chosen. The fronts and every node are printed at start-up.`;
  const signals =
    'SIGTERM or SIGINT stops every node (leave the cluster, go-away to agents, drain) and exits 0. SIGHUP reloads the ' +
    'configuration and starts nodes, or stops the oldest ones, until `nodes` run.';
  const precedence =
    'Precedence: flags > PIKO_* environment variables > config file > defaults. YAML keys are the flags with _ for - ' +
    '(--proxy.bind-addr is proxy.bind_addr, --grace-period is grace_period).';
  return [
    'Usage: piko-ts test cluster [flags]',
    '',
    wrap(about, ''),
    '',
    wrap(signals, ''),
    '',
    wrap(precedence, ''),
    '',
    'Flags:',
    ...leaves.map(flagEntry),
    '  -h, --help',
    '          Show this help.',
    '',
  ].join('\n');
}
