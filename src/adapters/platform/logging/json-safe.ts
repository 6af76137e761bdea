/** How deep the slow path walks a value before writing `"[Truncated]"` instead. */
const MAX_DEPTH = 16;

/**
 * Serialises `value` as JSON and never throws, so a log call cannot fail because of what was put in its
 * fields.
 *
 * The fast path is one native `JSON.stringify` with a replacer that turns a `bigint` into its decimal string,
 * an `Error` into `{ name, message, stack, ...own fields, cause }`, a `Map` into an object and a `Set` into an
 * array. If that throws (a circular reference, a `toJSON` or getter that throws), the value is walked again by
 * {@link toJsonSafe}, which writes `"[Circular]"`, `"[Unserialisable]"` or `"[Truncated]"` where it has to.
 */
export function stringifySafe(value: unknown): string {
  try {
    return JSON.stringify(value, replaceSpecial) ?? 'null';
  } catch {
    try {
      return JSON.stringify(toJsonSafe(value)) ?? 'null';
    } catch {
      return '"[Unserialisable]"';
    }
  }
}

/**
 * Returns a copy of `value` made only of JSON-safe values (see {@link stringifySafe} for the conversions).
 * Circular references become `"[Circular]"`; values that throw when read become `"[Unserialisable]"`;
 * nesting deeper than 16 levels becomes `"[Truncated]"`. Never throws.
 */
export function toJsonSafe(value: unknown): unknown {
  return convert(value, [], 0);
}

/** The `JSON.stringify` replacer of the fast path; `value` has already had `toJSON` applied. */
function replaceSpecial(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return errorToPlain(value);
  if (value instanceof Map) return mapToPlain(value);
  if (value instanceof Set) return [...value];
  return value;
}

/** The slow path: a recursive copy that tracks its ancestors to spot cycles (shared references are fine). */
function convert(value: unknown, ancestors: object[], depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  ancestors.push(object);
  try {
    return convertObject(object, ancestors, depth + 1);
  } catch {
    return '[Unserialisable]';
  } finally {
    ancestors.pop();
  }
}

function convertObject(object: object, ancestors: object[], depth: number): unknown {
  if (object instanceof Error) return convertEntries(Object.entries(errorToPlain(object)), ancestors, depth);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return convert(toJSON.call(object), ancestors, depth);
  if (object instanceof Map) return convertEntries(Object.entries(mapToPlain(object)), ancestors, depth);
  if (object instanceof Set) return convertArray([...object], ancestors, depth);
  if (Array.isArray(object)) return convertArray(object, ancestors, depth);
  const keys = Object.keys(object);
  const entries: [string, unknown][] = [];
  for (const key of keys) {
    try {
      entries.push([key, (object as Record<string, unknown>)[key]]);
    } catch {
      entries.push([key, '[Unserialisable]']);
    }
  }
  return convertEntries(entries, ancestors, depth);
}

function convertArray(items: readonly unknown[], ancestors: object[], depth: number): unknown[] {
  // JSON writes `null` for holes, `undefined` and functions inside arrays; do the same.
  return items.map((item) => convert(item, ancestors, depth) ?? null);
}

function convertEntries(entries: readonly [string, unknown][], ancestors: object[], depth: number): object {
  const out: [string, unknown][] = [];
  for (const [key, item] of entries) {
    const converted = convert(item, ancestors, depth);
    if (converted !== undefined) out.push([key, converted]);
  }
  // `fromEntries` defines properties, so a key named `__proto__` stays data on an ordinary object.
  return Object.fromEntries(out);
}

/** An `Error` as a plain object: name, message, stack, any own enumerable fields (`code`...), and `cause`. */
function errorToPlain(error: Error): Record<string, unknown> {
  const plain: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  plain.name = error.name;
  plain.message = error.message;
  plain.stack = error.stack;
  for (const key of Object.keys(error)) {
    if (!(key in plain)) plain[key] = (error as unknown as Record<string, unknown>)[key];
  }
  if (error.cause !== undefined) plain.cause = error.cause;
  return plain;
}

function mapToPlain(map: ReadonlyMap<unknown, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of map) plain[String(key)] = item;
  return plain;
}
