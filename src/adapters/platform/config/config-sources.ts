import { agentConfigSchema, listenerConfigSchema } from './agent-config.schema.js';
import type { ParsedArgv } from './argv.js';
import { readConfigFile, readTextFile, type ReadTextFile } from './config-file.js';
import { configFileSchema } from './config-file.schema.js';
import { forwardConfigSchema } from './forward-config.schema.js';
import { CONFIG_FORMATS, type FlagKind } from './formats.js';
import { checkFileTree, resolveLayers, valueAt, type Override } from './resolve-layers.js';
import { schemaLeaves, type ConfigSchema, type SchemaLeaf } from './schema-tools.js';
import { serverConfigSchema } from './server-config.schema.js';
import { didYouMean } from './suggest.js';

/** The process environment as the loaders read it (pass `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The field a flag sets, and the schema it belongs to. */
export interface FlagTarget {
  readonly schema: ConfigSchema;
  readonly leaf: SchemaLeaf;
}

/** Indexes the flags of several schemas by name; a flag declared twice is a bug and throws at load. */
export function indexFlags(...schemas: ConfigSchema[]): ReadonlyMap<string, FlagTarget> {
  const index = new Map<string, FlagTarget>();
  for (const schema of schemas) {
    for (const leaf of schemaLeaves(schema)) {
      if (leaf.field.arg === undefined) continue;
      if (index.has(leaf.field.arg)) throw new Error(`flag --${leaf.field.arg} is declared twice`);
      index.set(leaf.field.arg, { schema, leaf });
    }
  }
  return index;
}

/** The parser's view of an index: flag name → how it is written. */
export function flagKinds(index: ReadonlyMap<string, FlagTarget>): ReadonlyMap<string, FlagKind> {
  return new Map([...index].map(([flag, { leaf }]) => [flag, CONFIG_FORMATS[leaf.field.format].flag]));
}

/** The parsed flags that set fields of `schema`, by key path, labelled with the flag for messages. */
export function overridesFor(parsed: ParsedArgv, index: ReadonlyMap<string, FlagTarget>, schema: ConfigSchema): Map<string, Override> {
  const overrides = new Map<string, Override>();
  for (const [flag, value] of parsed.flags) {
    const target = index.get(flag);
    if (target?.schema === schema) overrides.set(target.leaf.path, { value, origin: `--${flag}` });
  }
  return overrides;
}

/**
 * Every `PIKO_*` variable some command reads. Listener variables exist only for listener flags
 * (`PIKO_LISTENER_TIMEOUT`), not for the positionals (`endpoint_id`, `addr`) or YAML-only keys.
 */
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
 * `--config.expand-env`. A variable of another command (`PIKO_CONNECT_URL` for the server, `PIKO_PORTS` for
 * the agent) is not named, so that one environment (a shared `.env` file) can serve every command. Unknown
 * flags and unknown YAML keys stay errors.
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

/**
 * Resolves `--config.path` / `--config.expand-env` (flags > `PIKO_CONFIG_*` > defaults), then reads,
 * expands and parses the file and checks its keys against `schema`. Returns `{}` when no file is named.
 */
export function loadFileLayer(
  parsed: ParsedArgv,
  index: ReadonlyMap<string, FlagTarget>,
  env: Env,
  readFile: ReadTextFile | undefined,
  schema: ConfigSchema,
): Record<string, unknown> {
  const boot = resolveLayers({
    schema: configFileSchema,
    subjectPrefix: '',
    file: {},
    env,
    overrides: overridesFor(parsed, index, configFileSchema),
  });
  const path = valueAt(boot, 'config.path') as string;
  if (path === '') return {};
  const doc = readConfigFile(path, valueAt(boot, 'config.expand_env') === true, env, readFile ?? readTextFile);
  return checkFileTree(doc, schema, '');
}
