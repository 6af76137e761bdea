import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { agentConfigSchema, listenerConfigSchema } from './agent-config.schema.js';
import type { ParsedArgv } from './argv.js';
import { configFileSchema } from './config-file.schema.js';
import { ConfigError } from './errors.js';
import { expandEnv } from './expand-env.js';
import { forwardConfigSchema } from './forward-config.schema.js';
import { CONFIG_FORMATS, type FlagKind } from './formats.js';
import { resolveLayers, valueAt, type Env, type Override } from './resolve-layers.js';
import { schemaLeaves, type ConfigSchema, type SchemaLeaf } from './schema-tools.js';
import { serverConfigSchema } from './server-config.schema.js';
import { didYouMean } from './suggest.js';

/** Reads a file as UTF-8 text; the default is `fs.readFileSync`. Tests pass an in-memory map. */
export type ReadTextFile = (path: string) => string;

/** The flags of one command: flag name → the field it sets and the schema it belongs to. */
export type FlagIndex = ReadonlyMap<string, { readonly schema: ConfigSchema; readonly leaf: SchemaLeaf }>;

/** Indexes the flags of several schemas by name; a flag declared twice is a bug and throws at load. */
export function indexFlags(...schemas: ConfigSchema[]): FlagIndex {
  const index = new Map<string, { schema: ConfigSchema; leaf: SchemaLeaf }>();
  for (const schema of schemas) {
    for (const leaf of schemaLeaves(schema).filter((l) => l.field.arg !== undefined)) {
      if (index.has(leaf.field.arg ?? '')) throw new Error(`flag --${leaf.field.arg} is declared twice`);
      index.set(leaf.field.arg ?? '', { schema, leaf });
    }
  }
  return index;
}

/** The parser's view of an index: flag name → how it is written. */
export const flagKinds = (index: FlagIndex): ReadonlyMap<string, FlagKind> =>
  new Map([...index].map(([flag, { leaf }]) => [flag, CONFIG_FORMATS[leaf.field.format].flag]));

/** The parsed flags that set fields of `schema`, by key path, labelled with the flag for messages. */
export function overridesFor(parsed: ParsedArgv, index: FlagIndex, schema: ConfigSchema): Map<string, Override> {
  const overrides = new Map<string, Override>();
  for (const [flag, value] of parsed.flags) {
    const target = index.get(flag);
    if (target?.schema === schema) overrides.set(target.leaf.path, { value, origin: `--${flag}` });
  }
  return overrides;
}

/** Every `PIKO_*` variable some command reads; listener variables exist only for listener flags. */
const KNOWN_ENV: ReadonlySet<string> = new Set(
  [configFileSchema, serverConfigSchema, agentConfigSchema, listenerConfigSchema, forwardConfigSchema].flatMap((schema) =>
    schemaLeaves(schema)
      .filter((leaf) => schema !== listenerConfigSchema || leaf.field.arg !== undefined)
      .map((leaf) => leaf.field.env),
  ),
);

/**
 * Names the non-empty `PIKO_*` variables that no command knows, as one warning line (or none), so a typo is
 * seen at start-up but does not stop it: Kubernetes injects `PIKO_PORT`, `PIKO_SERVICE_HOST`,
 * `PIKO_PORT_8000_TCP...` for a Service named `piko`, and a config file may use `${PIKO_TOKEN}` with
 * `--config.expand-env`. A variable of another command (`PIKO_CONNECT_URL` for the server) is not named, so
 * one environment can serve every command. Unknown flags and unknown YAML keys stay errors.
 */
export function unknownEnvWarnings(env: Env): string[] {
  const unknown = Object.keys(env)
    .sort()
    .filter((name) => name.startsWith('PIKO_') && env[name] !== undefined && env[name] !== '' && !KNOWN_ENV.has(name));
  if (unknown.length === 0) return [];
  const shown = unknown.slice(0, 10).map((name) => `${name}${didYouMean(name, KNOWN_ENV)}`);
  const more = unknown.length > shown.length ? ` and ${unknown.length - shown.length} more` : '';
  return [`ignoring unknown environment variable${unknown.length > 1 ? 's' : ''}: ${shown.join(', ')}${more}`];
}

const firstLine = (err: unknown): string => ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/:\s*$/, '');

/**
 * Resolves `--config.path` / `--config.expand-env` (flags > `PIKO_CONFIG_*` > defaults), then reads, expands
 * and parses the file. Returns `{}` when no file is named. Any failure (unreadable, bad expansion, invalid
 * YAML, duplicate keys, several documents, a top level that is not a mapping) is a CONFIG_FILE error.
 */
export function loadFileLayer(parsed: ParsedArgv, index: FlagIndex, env: Env, readFile: ReadTextFile = (p) => readFileSync(p, 'utf8')): unknown {
  const { raw } = resolveLayers({ schema: configFileSchema, prefix: '', file: {}, env, overrides: overridesFor(parsed, index, configFileSchema) });
  const path = valueAt(raw, 'config.path') as string;
  if (path === '') return {};
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError('CONFIG_FILE', path, `cannot read file (${firstLine(err)})`);
  }
  try {
    if (valueAt(raw, 'config.expand_env') === true) text = expandEnv(text, env);
  } catch (err) {
    throw new ConfigError('CONFIG_FILE', path, `cannot expand environment: ${firstLine(err)}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors[0] !== undefined) throw new ConfigError('CONFIG_FILE', path, `invalid YAML: ${firstLine(doc.errors[0])}`);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('CONFIG_FILE', path, 'the top level must be a mapping of config keys');
  return value;
}
