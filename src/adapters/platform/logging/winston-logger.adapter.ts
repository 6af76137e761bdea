import winston from 'winston';

import type { LogFields, Logger, LogLevel } from '../../../application/ports/logger.port.js';
import { stringifySafe } from './json-safe.js';

/** Severity order of the port's levels; a record passes the level filter when its rank is ≥ the configured one. */
const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Keys every record starts with, in this order. A field with one of these names is written as `field-<name>`. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'subsystem', 'message']);

/** Where winston's transports read the finished line from (logform's `MESSAGE` symbol). */
const LINE = Symbol.for('message');

/** What {@link createWinstonLogger} needs; mirrors Piko's `log.level` and `log.subsystems`. */
export interface WinstonLoggerOptions {
  /** The minimum level written for subsystems not listed in `subsystems`. */
  readonly level: LogLevel;
  /**
   * Subsystems whose records are written at every level, whatever `level` says. Matching is exact, as in Piko:
   * `proxy` does not match `proxy.access`.
   */
  readonly subsystems?: readonly string[];
  /** Where the JSON lines go; `process.stderr` by default (Piko logs to stderr). Tests pass a collecting stream. */
  readonly stream?: NodeJS.WritableStream;
  /**
   * The subsystem of the logger returned (not of its children). Without it the root logger's records have no
   * `subsystem` key and only the level filter applies to them.
   */
  readonly subsystem?: string;
  /** Wall-clock milliseconds since the epoch, for the `time` key; `Date.now` by default. Tests pin it. */
  readonly now?: () => number;
}

/**
 * Creates the process logger: one JSON object per line with the keys `time` (ISO 8601, UTC, milliseconds),
 * `level`, `subsystem` and `message` first, then the record's fields.
 *
 * A record is written when its level is at least `options.level`, or when its subsystem is listed in
 * `options.subsystems` (exact match). The decision is made before anything is allocated, so a call at a level
 * that is off costs one comparison. Fields are serialised by {@link stringifySafe}, so logging never throws on
 * an `Error`, a `bigint`, a cycle or a throwing getter.
 *
 * We differ from Piko's zap encoder in the key names (`time` and `message`, not `ts` and `msg`), as the
 * project's log format specifies.
 *
 * @throws Error when `options.level` is not one of `debug`, `info`, `warn`, `error`.
 */
export function createWinstonLogger(options: WinstonLoggerOptions): Logger {
  const minRank = LEVEL_RANK[options.level];
  if (minRank === undefined) {
    throw new Error(`invalid log level "${String(options.level)}": expected debug, info, warn or error`);
  }
  const sink = winston.createLogger({
    // Filtering is ours (it depends on the subsystem); winston passes every record to the transport.
    level: 'debug',
    levels: winston.config.npm.levels,
    format: winston.format((info) => info)(),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
    exitOnError: false,
  });
  // A failing stream (EPIPE on a closed stderr) must not turn into an unhandled 'error' event.
  sink.on('error', () => undefined);
  const core: LoggerCore = {
    sink,
    minRank,
    verboseSubsystems: new Set(options.subsystems ?? []),
    now: options.now ?? Date.now,
  };
  return new WinstonLogger(core, options.subsystem);
}

/** State shared by a root logger and all its children; never mutated after creation. */
interface LoggerCore {
  readonly sink: winston.Logger;
  readonly minRank: number;
  readonly verboseSubsystems: ReadonlySet<string>;
  readonly now: () => number;
}

/**
 * One subsystem's view of the shared winston logger. Children are our own thin objects rather than winston
 * `child()` loggers: the filter depends on the subsystem, so it is resolved once here, and winston's per-record
 * metadata merge is skipped.
 */
class WinstonLogger implements Logger {
  /** The lowest rank written by this subsystem: 0 when listed in `subsystems`, else the configured level. */
  private readonly minRank: number;

  constructor(
    private readonly core: LoggerCore,
    private readonly subsystem: string | undefined,
  ) {
    const verbose = subsystem !== undefined && core.verboseSubsystems.has(subsystem);
    this.minRank = verbose ? 0 : core.minRank;
  }

  debug(message: string, fields?: LogFields): void {
    if (this.minRank <= LEVEL_RANK.debug) this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (this.minRank <= LEVEL_RANK.info) this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (this.minRank <= LEVEL_RANK.warn) this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    if (this.minRank <= LEVEL_RANK.error) this.write('error', message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    const rank = LEVEL_RANK[level];
    // An unknown level (only possible by casting) is written as error rather than dropped.
    if (rank === undefined) this.write('error', message, { ...fields, 'invalid-level': String(level) });
    else if (this.minRank <= rank) this.write(level, message, fields);
  }

  child(subsystem: string): Logger {
    return new WinstonLogger(this.core, subsystem);
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    const line = formatLine(new Date(this.core.now()).toISOString(), level, this.subsystem, message, fields);
    try {
      this.core.sink.log({ level, message, [LINE]: line });
    } catch {
      // A logger never throws into its caller; a broken sink loses the record.
    }
  }
}

/** Builds one record's JSON line, without the newline. */
function formatLine(
  time: string,
  level: LogLevel,
  subsystem: string | undefined,
  message: string,
  fields: LogFields | undefined,
): string {
  // A null-prototype object, so that a field named `__proto__` is written as data.
  const record = Object.create(null) as Record<string, unknown>;
  record.time = time;
  record.level = level;
  if (subsystem !== undefined) record.subsystem = subsystem;
  record.message = String(message);
  if (fields !== undefined && fields !== null) {
    let keys: string[];
    try {
      keys = Object.keys(fields);
    } catch {
      keys = [];
      record['fields-error'] = 'fields could not be read';
    }
    for (const key of keys) {
      const name = RESERVED_KEYS.has(key) ? `field-${key}` : key;
      try {
        record[name] = fields[key];
      } catch {
        record[name] = '[Unserialisable]';
      }
    }
  }
  return stringifySafe(record);
}
