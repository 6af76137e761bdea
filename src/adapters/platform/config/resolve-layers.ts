import convict from 'convict';
import { ConfigError } from './errors.js';
import { CONFIG_FORMATS } from './formats.js';
import { isField, schemaLeaves, type ConfigField, type ConfigSchema, type SchemaLeaf } from './schema-tools.js';
import { didYouMean } from './suggest.js';

/** The process environment as the loaders read it (pass `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A value set on the command line, with where it came from for messages (`--proxy.timeout`, `<addr>`). */
export interface Override {
  readonly value: unknown;
  readonly origin: string;
}

/** Schema-shaped values after layering and validation: durations still as text, lists as arrays. */
export type RawConfig = Record<string, unknown>;

/** One schema instance to resolve: its layers, lowest precedence first after the schema's defaults. */
export interface Layers {
  readonly schema: ConfigSchema;
  /** Prepended to key paths in messages (`listeners[0].`). */
  readonly prefix: string;
  /** The file's mapping for this schema, unchecked (`{}` when there is no file). */
  readonly file: unknown;
  /** The environment; only the variables of the schema's fields are read, and empty values count as unset. */
  readonly env: Env;
  /** Which fields read their variable (default: all). */
  readonly envFilter?: (leaf: SchemaLeaf) => boolean;
  /** Values from flags or positionals, by key path. */
  readonly overrides: ReadonlyMap<string, Override>;
}

const isPlainObject = (value: unknown): value is RawConfig => typeof value === 'object' && value !== null && !Array.isArray(value);
const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The value at a dotted path of a nested object, or undefined. */
export function valueAt(raw: RawConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isPlainObject(node) ? node[key] : undefined), raw);
}

/** A value quoted for a message: short JSON, `a mapping` for objects. */
export function quote(value: unknown): string {
  const shown = value === undefined ? 'nothing' : isPlainObject(value) ? 'a mapping' : JSON.stringify(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}

/** The ` (got …)` suffix of a message: never the value of a sensitive field; the origin unless the file. */
export function describeValue(value: unknown, field: ConfigField, origin: string | undefined): string {
  const from = origin === undefined ? '' : ` from ${origin}`;
  if (field.sensitive === true) return origin === undefined ? '' : ` (set${from})`;
  return ` (got ${quote(value)}${from})`;
}

/**
 * Checks a mapping from a file against a schema, before convict sees it: unknown keys (with a suggestion), a
 * scalar where a group is expected (Piko's wiki once showed `access_log: true`), a mapping where a value is
 * expected. `null` values are dropped, so a group whose keys are all commented out keeps its defaults; a
 * number given for a textual field becomes its digits. Returns the cleaned copy.
 */
export function checkFileTree(value: unknown, schema: ConfigSchema, prefix: string): RawConfig {
  if (!isPlainObject(value)) throw new ConfigError('CONFIG_INVALID_VALUE', prefix.slice(0, -1) || '(top level)', 'must be a mapping');
  const out: RawConfig = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null) continue;
    const path = prefix + key;
    const node = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (node === undefined) {
      throw new ConfigError('CONFIG_UNKNOWN_KEY', path, `unknown key${didYouMean(key, Object.keys(schema), (s) => prefix + s)}`);
    }
    if (!isField(node)) {
      if (!isPlainObject(child)) throw new ConfigError('CONFIG_INVALID_VALUE', path, `must be a mapping (got ${quote(child)})`);
      out[key] = checkFileTree(child, node as ConfigSchema, `${path}.`);
    } else if (isPlainObject(child)) {
      let reason = 'must not be a mapping';
      try {
        CONFIG_FORMATS[node.format].validate(child);
      } catch (err) {
        reason = reasonOf(err);
      }
      throw new ConfigError('CONFIG_INVALID_VALUE', path, `${reason} (got a mapping)`);
    } else {
      out[key] = typeof child === 'number' && CONFIG_FORMATS[node.format].textual === true ? String(child) : child;
    }
  }
  return out;
}

/**
 * Resolves one schema with convict: its defaults, then the file (`load`), then the `PIKO_*` variables
 * (convict's `env`, which `load` re-applies over the file), then the overrides (`set`: our own parser reads
 * the command line, since convict's follows yargs rather than pflag), so precedence is flags > environment >
 * file > defaults. convict coerces text with our formats and validates every field (`allowed: 'strict'`);
 * the first failure in schema order becomes one line naming the key, the reason, the value and its origin.
 * Then applies the `inactive` policy: a `'reject'` field that is set throws CONFIG_UNSUPPORTED, a `'warn'`
 * one gives a warning line.
 */
export function resolveLayers(layers: Layers): { raw: RawConfig; warnings: string[] } {
  const { schema, prefix, overrides } = layers;
  const leaves = schemaLeaves(schema);
  const env: Record<string, string> = {};
  for (const leaf of leaves) {
    const value = layers.env[leaf.field.env];
    if (value !== undefined && value !== '' && (layers.envFilter?.(leaf) ?? true)) env[leaf.field.env] = value;
  }
  const conf = convict<RawConfig>(schema as convict.Schema<RawConfig>, { env, args: [] });
  conf.load(checkFileTree(layers.file, schema, prefix));
  for (const [path, { value }] of overrides) conf.set(path, value);
  const raw = conf.getProperties();
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    // convict lists every failure as `<path>: <reason>[: value was <json>]`, one per line.
    const lines = reasonOf(err).split('\n');
    for (const { path, field } of leaves) {
      const line = lines.find((candidate) => candidate.startsWith(`${path}: `));
      if (line === undefined) continue;
      const origin = overrides.get(path)?.origin ?? (env[field.env] === undefined ? undefined : field.env);
      const reason = line.slice(path.length + 2).replace(/: value was .*$/, '');
      throw new ConfigError('CONFIG_INVALID_VALUE', prefix + path, reason + describeValue(valueAt(raw, path), field, origin));
    }
    throw new ConfigError('CONFIG_INVALID_VALUE', prefix.slice(0, -1) || 'config', lines[0] ?? '');
  }
  const isSet = ({ path, field }: SchemaLeaf) => JSON.stringify(valueAt(raw, path)) !== JSON.stringify(field.default);
  const set = leaves.filter((leaf) => leaf.field.inactive !== undefined && isSet(leaf));
  const rejected = set.find(({ field }) => field.inactive === 'reject');
  if (rejected !== undefined) {
    throw new ConfigError('CONFIG_UNSUPPORTED', prefix + rejected.path, 'not supported by piko-ts yet; remove it rather than run without it');
  }
  return { raw, warnings: set.map(({ path }) => `config: ${prefix}${path}: accepted for Piko compatibility but not used by piko-ts yet; ignored`) };
}
