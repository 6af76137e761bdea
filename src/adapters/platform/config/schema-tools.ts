import { CONFIG_FORMATS, type FormatName } from './formats.js';

/**
 * What a schema author writes for one config field. The YAML key path comes from where the field sits in
 * the tree; the flag and environment names are derived from that path by {@link defineSchema}, so the three
 * spellings cannot drift apart (T11).
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
   * A Piko option we accept so that Piko configs load, but do not implement yet. `'warn'`: setting it to
   * anything but its default gives a warning. `'reject'`: setting it is an error, because ignoring it would
   * silently weaken security (authentication, TLS).
   */
  readonly inactive?: 'warn' | 'reject';
  /**
   * Set only from a file or the environment, never by a flag of this name: lists of mappings, and the
   * listener fields that `agent http|tcp` takes as positionals or as the subcommand itself.
   */
  readonly noArg?: boolean;
}

/** A nested tree of fields, keyed by Piko's snake_case YAML keys. */
export interface SchemaTree {
  readonly [key: string]: SchemaTree | FieldSpec;
}

/** A field with its derived names: this is convict's schema object (`doc`, `format`, `default`, `env`, `arg`). */
export interface ConfigField extends FieldSpec {
  /** `PIKO_` + the key path in upper snake case (`PIKO_PROXY_BIND_ADDR`). */
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

/** True when a schema node is a field (convict's rule: it has a `default`). */
export function isField(node: SchemaTree | FieldSpec): node is FieldSpec {
  return Object.hasOwn(node, 'default');
}

/** The flag name of a key path: `proxy.bind_addr` → `proxy.bind-addr`. */
export function flagNameOf(path: string): string {
  return path.replaceAll('_', '-');
}

/** The environment variable of a key path: `proxy.bind_addr` → `${prefix}PROXY_BIND_ADDR`. */
export function envNameOf(prefix: string, path: string): string {
  return prefix + path.toUpperCase().replaceAll('.', '_');
}

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
export function defineSchema(tree: SchemaTree, envPrefix: string): ConfigSchema {
  const walk = (node: SchemaTree, prefix: string): ConfigSchema => {
    const out: Record<string, ConfigSchema | ConfigField> = {};
    for (const [key, child] of Object.entries(node)) {
      const path = prefix + key;
      if (isField(child)) {
        if (!Object.hasOwn(CONFIG_FORMATS, child.format)) throw new Error(`${path}: unknown format ${child.format}`);
        out[key] = {
          ...child,
          env: envNameOf(envPrefix, path),
          ...(child.noArg === true ? {} : { arg: flagNameOf(path) }),
        };
      } else {
        out[key] = walk(child, `${path}.`);
      }
    }
    return out;
  };
  return deepFreeze(walk(tree, ''));
}

/** Lists the fields of a schema in declaration order. */
export function schemaLeaves(schema: ConfigSchema): SchemaLeaf[] {
  const leaves: SchemaLeaf[] = [];
  const walk = (node: ConfigSchema, prefix: string): void => {
    for (const [key, child] of Object.entries(node)) {
      if (isField(child)) leaves.push({ path: prefix + key, field: child as ConfigField });
      else walk(child as ConfigSchema, `${prefix}${key}.`);
    }
  };
  walk(schema, '');
  return leaves;
}
