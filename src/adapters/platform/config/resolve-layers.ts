import convict from 'convict';
import { ConfigError } from './errors.js';
import { CONFIG_FORMATS } from './formats.js';
import { isField, schemaLeaves, type ConfigField, type ConfigSchema, type SchemaLeaf } from './schema-tools.js';
import { didYouMean } from './suggest.js';

/** A value set on the command line, with where it came from for messages (`--proxy.timeout`, `<addr>`). */
export interface Override {
  readonly value: unknown;
  readonly origin: string;
}

/** The layers of one schema instance, lowest precedence first: defaults (schema), file, env, overrides. */
export interface LayerInput {
  readonly schema: ConfigSchema;
  /** Prepended to key paths in messages (`listeners[0].`). */
  readonly subjectPrefix: string;
  /** File values, already checked by {@link checkFileTree}. */
  readonly file: Readonly<Record<string, unknown>>;
  /** Environment; only the variables of the schema's fields are read, and empty values count as unset. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Which fields read their variable (default: all). */
  readonly envFilter?: (leaf: SchemaLeaf) => boolean;
  /** Values from flags or positionals, by key path. */
  readonly overrides: ReadonlyMap<string, Override>;
}

/** Schema-shaped raw values after layering and validation: durations still as text, lists as arrays. */
export type RawConfig = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path of a nested object, or undefined. */
export function valueAt(raw: RawConfig, path: string): unknown {
  let node: unknown = raw;
  for (const key of path.split('.')) node = isPlainObject(node) ? node[key] : undefined;
  return node;
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

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks a mapping from a file against a schema: unknown keys (with a suggestion), a scalar where a group
 * is expected (Piko's wiki once showed `access_log: true`), a mapping where a value is expected. `null`
 * values are dropped, so a group whose keys are all commented out keeps its defaults; a number given for a
 * textual field becomes its digits. Returns the cleaned copy that convict may load safely.
 */
export function checkFileTree(value: unknown, schema: ConfigSchema, prefix: string): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new ConfigError('CONFIG_INVALID_VALUE', prefix.slice(0, -1) || '(top level)', 'must be a mapping');
  }
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null) continue;
    const path = prefix + key;
    const node = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (node === undefined) {
      throw new ConfigError('CONFIG_UNKNOWN_KEY', path, `unknown key${didYouMean(key, Object.keys(schema), (s) => prefix + s)}`);
    }
    if (!isField(node)) {
      if (!isPlainObject(child)) {
        throw new ConfigError('CONFIG_INVALID_VALUE', path, `must be a mapping (got ${quote(child)})`);
      }
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
 * Layers defaults < file < environment < overrides with convict (precedence flags > env > file > defaults),
 * then validates every field with its format, in schema order, so the first problem is reported as one
 * line naming the key, the reason, the value and where it came from. Finishes with convict's strict
 * validation as a backstop. Returns the raw, schema-shaped values.
 */
export function resolveLayers(input: LayerInput): RawConfig {
  const leaves = schemaLeaves(input.schema);
  const env: Record<string, string> = {};
  for (const leaf of leaves) {
    const value = input.env[leaf.field.env];
    if (value !== undefined && value !== '' && (input.envFilter?.(leaf) ?? true)) env[leaf.field.env] = value;
  }
  // convict applies `env` itself (at construction and again after `load`, so it beats the file); `args`
  // is empty because our own parser handles pflag syntax, which convict's parser does not.
  const conf = convict<Record<string, unknown>>(input.schema as convict.Schema<Record<string, unknown>>, { env, args: [] });
  conf.load(input.file);
  for (const [path, override] of input.overrides) conf.set(path, override.value);
  const raw = conf.getProperties();
  for (const { path, field } of leaves) {
    const value = valueAt(raw, path);
    try {
      CONFIG_FORMATS[field.format].validate(value);
    } catch (err) {
      const origin = input.overrides.get(path)?.origin ?? (env[field.env] === undefined ? undefined : field.env);
      throw new ConfigError(
        'CONFIG_INVALID_VALUE',
        input.subjectPrefix + path,
        reasonOf(err) + describeValue(value, field, origin),
      );
    }
  }
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    const line = reasonOf(err).split('\n')[0] ?? '';
    throw new ConfigError('CONFIG_INVALID_VALUE', input.subjectPrefix.slice(0, -1) || 'config', line);
  }
  return raw;
}

/** True when a field holds something other than its default (deep, for lists). */
export function isSet(raw: RawConfig, leaf: SchemaLeaf): boolean {
  return JSON.stringify(valueAt(raw, leaf.path)) !== JSON.stringify(leaf.field.default);
}

/**
 * Applies the `inactive` policy of a schema: a `'reject'` field set to anything but its default throws
 * CONFIG_UNSUPPORTED (running without it would silently drop authentication or TLS); a `'warn'` field
 * gives a warning line. Returns the warnings.
 */
export function checkInactive(schema: ConfigSchema, raw: RawConfig, subjectPrefix: string): string[] {
  const warnings: string[] = [];
  for (const leaf of schemaLeaves(schema)) {
    if (leaf.field.inactive === undefined || !isSet(raw, leaf)) continue;
    const subject = subjectPrefix + leaf.path;
    if (leaf.field.inactive === 'reject') {
      throw new ConfigError('CONFIG_UNSUPPORTED', subject, 'not supported by piko-ts yet; remove it rather than run without it');
    }
    warnings.push(`config: ${subject}: accepted for Piko compatibility but not used by piko-ts yet; ignored`);
  }
  return warnings;
}
