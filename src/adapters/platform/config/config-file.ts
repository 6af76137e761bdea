import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.js';
import { expandEnv } from './expand-env.js';

/** Reads a file as UTF-8 text; the default is `fs.readFileSync`. Tests pass an in-memory map. */
export type ReadTextFile = (path: string) => string;

/** The default {@link ReadTextFile}. */
export const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8');

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}

/**
 * Reads, optionally env-expands, and parses a YAML config file. An empty file is an empty mapping. Any
 * failure (unreadable, bad expansion, invalid YAML, duplicate keys, several documents, a top level that is
 * not a mapping) is a CONFIG_FILE error naming the file.
 */
export function readConfigFile(
  path: string,
  expand: boolean,
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadTextFile,
): unknown {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError('CONFIG_FILE', path, `cannot read file (${firstLine(err instanceof Error ? err.message : String(err))})`);
  }
  if (expand) {
    try {
      text = expandEnv(text, env);
    } catch (err) {
      throw new ConfigError('CONFIG_FILE', path, `cannot expand environment: ${firstLine((err as Error).message)}`);
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) throw new ConfigError('CONFIG_FILE', path, `invalid YAML: ${firstLine(error.message)}`);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('CONFIG_FILE', path, 'the top level must be a mapping of config keys');
  }
  return value;
}
