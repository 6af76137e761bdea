import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from './agent-config.schema.js';
import { configFileSchema } from './config-file.schema.js';
import { CONFIG_FORMATS } from './formats.js';
import { forwardConfigSchema, forwardPortConfigSchema } from './forward-config.schema.js';
import { schemaLeaves, type SchemaLeaf } from './schema-tools.js';
import { serverConfigSchema } from './server-config.schema.js';

/** The subcommands of `piko-ts agent`. */
export type AgentSubcommand = 'start' | 'http' | 'tcp';

/** The subcommands of `piko-ts forward`. */
export type ForwardSubcommand = 'start' | 'tcp';

/** The name the CLI is installed under (package.json `bin`). */
const BIN = 'piko-ts';
const WIDTH = 100;
const INDENT = '          ';

/** The paragraph on precedence and syntax, with an example flag of the command. */
function precedence(exampleKey: string, exampleEnv: string): string {
  return wrap(
    'Precedence: flags > PIKO_* environment variables > config file > defaults (Piko lets the file win ' +
      'over flags; piko-ts does not). Every flag is also a config file key and a variable: ' +
      `--${exampleKey.replaceAll('_', '-')} is ${exampleKey} and ${exampleEnv}. Durations need a unit (100ms, 30s, ` +
      '5m, 1h, 1m30s); 0 turns a timeout off. Lists are comma-separated and/or repeated. Booleans are ' +
      '--flag or --flag=false.',
    '',
  );
}

function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > WIDTH && line.trim().length > 0) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

/** A default as it would be typed: durations bare, other strings quoted, lists in brackets. */
function formatDefault(leaf: SchemaLeaf): string {
  const value = leaf.field.default;
  if (Array.isArray(value)) return `[${value.join(',')}]`;
  if (typeof value === 'string' && CONFIG_FORMATS[leaf.field.format].hint !== 'duration') return JSON.stringify(value);
  return String(value);
}

function flagEntry(leaf: SchemaLeaf, prefix = ''): string {
  const { field } = leaf;
  const hint = CONFIG_FORMATS[field.format].flag === 'bool' ? '' : ` ${CONFIG_FORMATS[field.format].hint}`;
  const env = field.env.startsWith('PIKO_LISTENER_') || prefix === '' ? `, env ${field.env}` : '';
  return [
    `      --${field.arg ?? ''}${hint}`,
    wrap(`${field.doc} (default ${formatDefault(leaf)}${env})`, INDENT),
  ].join('\n');
}

function flagSection(title: string, leaves: readonly SchemaLeaf[]): string {
  return [`${title}:`, ...leaves.filter((leaf) => leaf.field.arg !== undefined).map((leaf) => flagEntry(leaf))].join('\n');
}

const HELP_FLAG = `  -h, --help\n${INDENT}Show this help.`;
const CONFIG_FILE_LEAVES = schemaLeaves(configFileSchema);

/** Help of `piko-ts server`: usage, precedence rules, and every flag with its doc, default and variable. */
export function serverHelp(): string {
  return [
    `Usage: ${BIN} server [flags]`,
    '',
    wrap(
      'Runs a server node. The proxy port takes downstream requests and forwards them to agents, the upstream ' +
        'port takes agent connections, and the admin port serves health, readiness, metrics and status.',
      '',
    ),
    '',
    precedence('proxy.bind_addr', 'PIKO_PROXY_BIND_ADDR'),
    '',
    flagSection('Flags', [...CONFIG_FILE_LEAVES, ...schemaLeaves(serverConfigSchema)]),
    HELP_FLAG,
    '',
  ].join('\n');
}

const SUBCOMMANDS: Readonly<Record<AgentSubcommand, { usage: string; summary: string }>> = {
  start: { usage: 'start', summary: 'Run every listener of the config file (listeners:).' },
  http: { usage: 'http <endpoint> <addr>', summary: 'Forward an endpoint to a local HTTP service.' },
  tcp: { usage: 'tcp <endpoint> <addr>', summary: 'Forward an endpoint to a local TCP service.' },
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
  const shared = flagSection(subcommand === undefined ? 'Flags (every command)' : 'Agent flags', [
    ...CONFIG_FILE_LEAVES,
    ...schemaLeaves(agentConfigSchema),
  ]);
  const head: string[] = [];
  if (subcommand === undefined) {
    head.push(`Usage: ${BIN} agent <command> [flags]`, '', 'Commands:');
    for (const { usage, summary } of Object.values(SUBCOMMANDS)) head.push(`  ${usage.padEnd(24)}${summary}`);
  } else {
    head.push(`Usage: ${BIN} agent ${SUBCOMMANDS[subcommand].usage} [flags]`, '', SUBCOMMANDS[subcommand].summary);
    if (subcommand === 'start') {
      const keys = schemaLeaves(listenerConfigSchema).map((leaf) => leaf.path);
      head.push('', wrap(`Keys of each listeners[] item: ${keys.join(', ')}.`, ''));
    } else {
      head.push(
        '',
        wrap(
          '<addr> is a port (3000 means localhost:3000)' +
            (subcommand === 'http' ? ', host:port, or an http(s) URL with an optional path.' : ' or host:port.') +
            ' This listener replaces any listeners: of the config file. Listener flags are the keys of a ' +
            'listeners[] item (--access-log.level is access_log.level) and their variables are PIKO_LISTENER_*.',
          '',
        ),
      );
    }
  }
  const listenerFlags = subcommand === undefined ? [] : listenerFlagLeaves(subcommand);
  return [
    ...head,
    '',
    precedence('connect.url', 'PIKO_CONNECT_URL'),
    '',
    ...(listenerFlags.length > 0 ? [flagSection('Listener flags', listenerFlags), ''] : []),
    shared,
    HELP_FLAG,
    '',
  ].join('\n');
}

const FORWARD_SUBCOMMANDS: Readonly<Record<ForwardSubcommand, { usage: string; summary: string }>> = {
  start: { usage: 'start', summary: 'Open every port of the config file (ports:).' },
  tcp: { usage: 'tcp <addr> <endpoint>', summary: 'Open one local TCP port forwarding to an endpoint.' },
};

/**
 * Help of `piko-ts forward` (the subcommands and the flags) or of one subcommand (its usage, then the
 * flags, which every subcommand shares). Every flag is listed with its doc, default and variable.
 */
export function forwardHelp(subcommand?: ForwardSubcommand): string {
  const head: string[] = [];
  if (subcommand === undefined) {
    head.push(
      `Usage: ${BIN} forward <command> [flags]`,
      '',
      wrap(
        'Opens local TCP ports and tunnels each connection they accept over a WebSocket to an endpoint, ' +
          'through the server proxy port.',
        '',
      ),
      '',
      'Commands:',
    );
    for (const { usage, summary } of Object.values(FORWARD_SUBCOMMANDS)) head.push(`  ${usage.padEnd(24)}${summary}`);
  } else {
    head.push(`Usage: ${BIN} forward ${FORWARD_SUBCOMMANDS[subcommand].usage} [flags]`, '', FORWARD_SUBCOMMANDS[subcommand].summary);
    if (subcommand === 'start') {
      const keys = schemaLeaves(forwardPortConfigSchema).map((leaf) => leaf.path);
      head.push(
        '',
        wrap(
          `Keys of each ports[] item: ${keys.join(', ')}. A bare port listens on 127.0.0.1 only. ` +
            'PIKO_PORTS (the list as YAML or JSON text) takes the place of ports:.',
          '',
        ),
      );
    } else {
      head.push(
        '',
        wrap(
          'Note the order, as in Piko: the local address first, then the endpoint. <addr> is a port (3000 ' +
            'listens on 127.0.0.1:3000, loopback only) or host:port (0.0.0.0:3000 listens on every ' +
            'interface). This port replaces any ports: of the config file.',
          '',
        ),
      );
    }
  }
  return [
    ...head,
    '',
    precedence('connect.url', 'PIKO_CONNECT_URL'),
    '',
    flagSection(subcommand === undefined ? 'Flags (every command)' : 'Flags', [
      ...CONFIG_FILE_LEAVES,
      ...schemaLeaves(forwardConfigSchema),
    ]),
    HELP_FLAG,
    '',
  ].join('\n');
}
