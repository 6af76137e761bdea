import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from './agent-config.schema.js';
import { configFileSchema } from './config-file.schema.js';
import { CONFIG_FORMATS } from './formats.js';
import { forwardConfigSchema, forwardPortConfigSchema } from './forward-config.schema.js';
import { envNameOf, flagNameOf, schemaLeaves, type SchemaLeaf } from './schema-tools.js';
import { serverConfigSchema } from './server-config.schema.js';

/** The subcommands of `piko-ts agent`. */
export type AgentSubcommand = 'start' | 'http' | 'tcp';

/** The subcommands of `piko-ts forward`. */
export type ForwardSubcommand = 'start' | 'tcp';

/** The name the CLI is installed under (package.json `bin`). */
const BIN = 'piko-ts';
const WIDTH = 100;
const INDENT = ' '.repeat(10);

function wrap(text: string, indent = ''): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > WIDTH && line.trim().length > 0) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  return [...lines, line.trimEnd()].join('\n');
}

/** One flag: its name and value placeholder, then its doc with the default as typed and its variable. */
function flagEntry({ field }: SchemaLeaf): string {
  const format = CONFIG_FORMATS[field.format];
  const value = field.default;
  const quoted = typeof value === 'string' && format.hint !== 'duration';
  const shown = Array.isArray(value) ? `[${value.join(',')}]` : quoted ? JSON.stringify(value) : String(value);
  const hint = format.flag === 'bool' ? '' : ` ${format.hint}`;
  return `      --${field.arg ?? ''}${hint}\n${wrap(`${field.doc} (default ${shown}, env ${field.env})`, INDENT)}`;
}

const section = (title: string, leaves: readonly SchemaLeaf[]): string =>
  [`${title}:`, ...leaves.filter((leaf) => leaf.field.arg !== undefined).map(flagEntry)].join('\n');

/**
 * A help page: usage, text blocks, the precedence rules (with `exampleKey` spelled three ways), the flag
 * sections generated from the schemas, and `--help`.
 */
function page(usage: string, blocks: readonly string[], exampleKey: string, sections: readonly (readonly [string, SchemaLeaf[]])[]): string {
  const precedence = wrap(
    'Precedence: flags > PIKO_* environment variables > config file > defaults (Piko lets the file win over flags; ' +
      `piko-ts does not). Every flag is also a config file key and a variable: --${flagNameOf(exampleKey)} is ${exampleKey} ` +
      `and ${envNameOf('PIKO_', exampleKey)}. Durations need a unit (100ms, 30s, 5m, 1h, 1m30s); 0 turns a timeout off. ` +
      'Lists are comma-separated and/or repeated. Booleans are --flag or --flag=false.',
  );
  const flags = sections.map(([title, leaves]) => section(title, leaves)).join('\n\n');
  const head = [`Usage: ${BIN} ${usage} [flags]`, ...blocks.flatMap((block) => ['', block])];
  return [...head, '', precedence, '', flags, `  -h, --help\n${INDENT}Show this help.`, ''].join('\n');
}

const commands = (table: Readonly<Record<string, readonly [usage: string, summary: string]>>): string =>
  ['Commands:', ...Object.values(table).map(([usage, summary]) => `  ${usage.padEnd(24)}${summary}`)].join('\n');

const CONFIG_FILE_LEAVES = schemaLeaves(configFileSchema);

/** Help of `piko-ts server`: usage, precedence rules, and every flag with its doc, default and variable. */
export function serverHelp(): string {
  const about =
    'Runs a server node. The proxy port takes downstream requests and forwards them to agents, the upstream port takes ' +
    'agent connections, and the admin port serves health, readiness, metrics and status.';
  return page('server', [wrap(about)], 'proxy.bind_addr', [['Flags', [...CONFIG_FILE_LEAVES, ...schemaLeaves(serverConfigSchema)]]]);
}

const AGENT: Readonly<Record<AgentSubcommand, readonly [string, string]>> = {
  start: ['start', 'Run every listener of the config file (listeners:).'],
  http: ['http <endpoint> <addr>', 'Forward an endpoint to a local HTTP service.'],
  tcp: ['tcp <endpoint> <addr>', 'Forward an endpoint to a local TCP service.'],
};

/** The listener flags a subcommand accepts: all for http, a few for tcp, none for start. */
export function listenerFlagLeaves(subcommand: AgentSubcommand): SchemaLeaf[] {
  if (subcommand === 'start') return [];
  return schemaLeaves(listenerConfigSchema).filter(
    (leaf) => leaf.field.arg !== undefined && (subcommand === 'http' || TCP_LISTENER_KEYS.has(leaf.path)),
  );
}

/**
 * Help of `piko-ts agent` (the subcommands and the shared flags) or of one subcommand (its usage, its
 * listener flags, then the shared flags). Every flag is listed with its doc, default and variable.
 */
export function agentHelp(subcommand?: AgentSubcommand): string {
  const shared = [...CONFIG_FILE_LEAVES, ...schemaLeaves(agentConfigSchema)];
  if (subcommand === undefined) return page('agent <command>', [commands(AGENT)], 'connect.url', [['Flags (every command)', shared]]);
  const [usage, summary] = AGENT[subcommand];
  const about =
    subcommand === 'start'
      ? `Keys of each listeners[] item: ${schemaLeaves(listenerConfigSchema).map((leaf) => leaf.path).join(', ')}.`
      : '<addr> is a port (3000 means localhost:3000)' +
        (subcommand === 'http' ? ', host:port, or an http(s) URL with an optional path.' : ' or host:port.') +
        ' This listener replaces any listeners: of the config file. Listener flags are the keys of a listeners[] item ' +
        '(--access-log.level is access_log.level) and their variables are PIKO_LISTENER_*.';
  const listenerFlags = listenerFlagLeaves(subcommand);
  const sections = listenerFlags.length > 0 ? [['Listener flags', listenerFlags] as const] : [];
  return page(`agent ${usage}`, [summary, wrap(about)], 'connect.url', [...sections, ['Agent flags', shared]]);
}

const FORWARD: Readonly<Record<ForwardSubcommand, readonly [string, string]>> = {
  start: ['start', 'Open every port of the config file (ports:).'],
  tcp: ['tcp <addr> <endpoint>', 'Open one local TCP port forwarding to an endpoint.'],
};

/**
 * Help of `piko-ts forward` (the subcommands and the flags) or of one subcommand (its usage, then the
 * flags, which every subcommand shares). Every flag is listed with its doc, default and variable.
 */
export function forwardHelp(subcommand?: ForwardSubcommand): string {
  const flags = [...CONFIG_FILE_LEAVES, ...schemaLeaves(forwardConfigSchema)];
  if (subcommand === undefined) {
    const about =
      'Opens local TCP ports and tunnels each connection they accept over a WebSocket to an endpoint, through the server proxy port.';
    return page('forward <command>', [wrap(about), commands(FORWARD)], 'connect.url', [['Flags (every command)', flags]]);
  }
  const [usage, summary] = FORWARD[subcommand];
  const about =
    subcommand === 'start'
      ? `Keys of each ports[] item: ${schemaLeaves(forwardPortConfigSchema).map((leaf) => leaf.path).join(', ')}. ` +
        'A bare port listens on 127.0.0.1 only. PIKO_PORTS (the list as YAML or JSON text) takes the place of ports:.'
      : 'Note the order, as in Piko: the local address first, then the endpoint. <addr> is a port (3000 listens on ' +
        '127.0.0.1:3000, loopback only) or host:port (0.0.0.0:3000 listens on every interface). This port replaces ' +
        'any ports: of the config file.';
  return page(`forward ${usage}`, [summary, wrap(about)], 'connect.url', [['Flags', flags]]);
}
