import { CONFIG_FORMATS, type FormatName } from './formats.js';

/**
 * What a schema author writes for one config field. The flag and environment names are derived from where
 * the field sits in the tree by {@link defineSchema}, so the YAML key, flag and variable cannot drift (T11).
 */
export interface FieldSpec {
  /** One or two sentences, shown in help. */
  readonly doc: string;
  readonly format: FormatName;
  /** The value in schema terms: durations as text (`'30s'`), lists as arrays. */
  readonly default: unknown;
  /** Never quoted back in errors. */
  readonly sensitive?: boolean;
  /**
   * A Piko option accepted so that Piko configs load, but not implemented: `'warn'` gives a warning when it is
   * set to anything but its default, `'reject'` an error (ignoring it would silently weaken auth or TLS).
   * Inactive fields are left out of the typed result.
   */
  readonly inactive?: 'warn' | 'reject';
  /** Set only from a file or the environment, never by a flag: lists of mappings and positional fields. */
  readonly noArg?: boolean;
}

/** A nested tree of fields, keyed by Piko's snake_case YAML keys. */
export interface SchemaTree {
  readonly [key: string]: SchemaTree | FieldSpec;
}

/** A field with its derived names: convict's schema object (`doc`, `format`, `default`, `env`, `arg`). */
export interface ConfigField extends FieldSpec {
  /** The env prefix + the key path in upper snake case (`PIKO_PROXY_BIND_ADDR`). */
  readonly env: string;
  /** The key path with `_` → `-` (`proxy.bind-addr`); undefined for `noArg` fields. */
  readonly arg?: string;
}

/** A schema after {@link defineSchema}: the single source of truth for keys, flags, variables and help. */
export interface ConfigSchema {
  readonly [key: string]: ConfigSchema | ConfigField;
}

/** One field of a schema with its dotted YAML key path (`proxy.access_log.level`). */
export interface SchemaLeaf {
  readonly path: string;
  readonly field: ConfigField;
}

/** A field: its format, default and doc, plus `sensitive`, `inactive` or `noArg` when given. */
export const field = (format: FormatName, value: unknown, doc: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  doc,
  format,
  default: value,
  ...extra,
});

/** True when a schema node is a field (convict's rule: it has a `default`). */
export function isField(node: SchemaTree | FieldSpec): node is FieldSpec {
  return Object.hasOwn(node, 'default');
}

/** The flag name of a key path: `proxy.bind_addr` → `proxy.bind-addr`. */
export const flagNameOf = (path: string): string => path.replaceAll('_', '-');

/** The environment variable of a key path: `proxy.bind_addr` → `${prefix}PROXY_BIND_ADDR`. */
export const envNameOf = (prefix: string, path: string): string => prefix + path.toUpperCase().replaceAll('.', '_');

/** Freezes an object graph in place (config results and schemas are immutable) and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Completes a tree into a frozen schema: every field gets `env` (`envPrefix` + upper snake path) and, unless
 * `noArg`, `arg` (dashed path). Throws at module load when a format is unknown, so a typo cannot ship.
 */
export function defineSchema(tree: SchemaTree, envPrefix: string, prefix = ''): ConfigSchema {
  const out: Record<string, ConfigSchema | ConfigField> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = prefix + key;
    if (!isField(node)) out[key] = defineSchema(node, envPrefix, `${path}.`);
    else if (!Object.hasOwn(CONFIG_FORMATS, node.format)) throw new Error(`${path}: unknown format ${node.format}`);
    else out[key] = { ...node, env: envNameOf(envPrefix, path), ...(node.noArg === true ? {} : { arg: flagNameOf(path) }) };
  }
  return deepFreeze(out);
}

/** Lists the fields of a schema in declaration order. */
export function schemaLeaves(schema: ConfigSchema, prefix = ''): SchemaLeaf[] {
  return Object.entries(schema).flatMap(([key, node]) =>
    isField(node) ? [{ path: prefix + key, field: node as ConfigField }] : schemaLeaves(node as ConfigSchema, `${prefix}${key}.`),
  );
}
