import { ConfigError } from './errors.js';
import type { FlagKind } from './formats.js';
import { didYouMean } from './suggest.js';

/** A parsed flag value: text for value flags, `true` or text (`--x=false`) for booleans, items for lists. */
export type FlagValue = string | boolean | readonly string[];

/** The result of {@link parseArgv}: flags by name (without `--`) and positionals in order. */
export interface ParsedArgv {
  readonly flags: ReadonlyMap<string, FlagValue>;
  readonly positionals: readonly string[];
}

/** True when `-h` or `--help` appears before any `--` terminator: help wins over every other problem. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '-h' || arg === '--help') return true;
  }
  return false;
}

/**
 * Parses flags the way Go's pflag (used by Piko) does: `--name value` and `--name=value`; booleans as
 * `--flag` or `--flag=false` (never consuming the next argument); list flags comma-separated and/or repeated
 * (items accumulate); other repeated flags keep the last value; `--` ends flags. Unknown flags throw a
 * ConfigError with a suggestion.
 */
export function parseArgv(argv: readonly string[], kinds: ReadonlyMap<string, FlagKind>): ParsedArgv {
  const flags = new Map<string, FlagValue>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq < 0 ? arg : arg.slice(0, eq);
    const name = written.slice(written.startsWith('--') ? 2 : 1);
    const kind = arg.startsWith('--') ? kinds.get(name) : undefined;
    if (kind === undefined) {
      throw new ConfigError('CONFIG_USAGE', written, `unknown flag${didYouMean(name, kinds.keys(), (s) => `--${s}`)}`);
    }
    let text: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (kind === 'bool') {
      flags.set(name, text ?? true);
      continue;
    }
    if (text === undefined) {
      text = argv[i + 1];
      if (text === undefined) throw new ConfigError('CONFIG_USAGE', `--${name}`, 'flag needs a value');
      i++;
    }
    if (kind === 'list') {
      const previous = flags.get(name);
      const items = text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
      flags.set(name, [...(Array.isArray(previous) ? previous : []), ...items]);
    } else {
      flags.set(name, text);
    }
  }
  return { flags, positionals };
}
