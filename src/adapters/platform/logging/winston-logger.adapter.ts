import winston from 'winston';

import type { LogFields, Logger, LogLevel } from '../../../application/ports/logger.port.js';
import { stringifySafe } from './json-safe.js';

/** The port's levels as winston levels: a lower value is more severe, as in winston's `npm` set. */
const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Keys every record starts with, in this order. A field with one of these names is written as `field-<name>`. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'subsystem', 'message']);

/** Where winston's transports read the finished line from (logform's `MESSAGE` symbol). */
const MESSAGE = Symbol.for('message');

/** The record's fields ride on winston's `info` under a symbol, so that nothing reads them before the format. */
const FIELDS = Symbol('fields');

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
 * The line is made by winston's format chain: `timestamp` (from `options.now`), then {@link pikoLine}, which
 * puts the keys in that order and serialises with {@link stringifySafe}, so logging never throws on an `Error`,
 * a `bigint`, a cycle or a throwing getter.
 *
 * A record is written when its winston level is at least as severe as `options.level`, or when its subsystem is
 * listed in `options.subsystems` (exact match). Each subsystem's threshold is resolved once, when its child is
 * made, and checked before winston is called: a record that is off costs one comparison and reads neither its
 * fields nor the clock (a winston filter format would run only after winston had built and queued the record).
 *
 * We differ from Piko's zap encoder in the key names (`time` and `message`, not `ts` and `msg`), as the
 * project's log format specifies.
 *
 * @throws Error when `options.level` is not one of `debug`, `info`, `warn`, `error`.
 */
export function createWinstonLogger(options: WinstonLoggerOptions): Logger {
  if (!Object.hasOwn(LEVELS, options.level)) {
    throw new Error(`invalid log level "${String(options.level)}": expected debug, info, warn or error`);
  }
  const now = options.now ?? Date.now;
  const verbose = new Set(options.subsystems ?? []);
  const threshold = (subsystem: string | undefined): number =>
    subsystem !== undefined && verbose.has(subsystem) ? LEVELS.debug : LEVELS[options.level];
  const sink = winston.createLogger({
    levels: LEVELS,
    // The threshold depends on the subsystem, so it is applied by WinstonLogger; winston writes what it is given.
    level: 'debug',
    format: winston.format.combine(
      winston.format.timestamp({ format: () => new Date(now()).toISOString() }),
      pikoLine(),
    ),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
    exitOnError: false,
  });
  // A failing stream (EPIPE on a closed stderr) must not turn into an unhandled 'error' event.
  sink.on('error', () => undefined);
  return new WinstonLogger(sink, threshold, options.subsystem);
}

/**
 * The format that writes our line into `info[MESSAGE]`: `time`, `level`, `subsystem` (when there is one) and
 * `message`, then the fields, a field named like a leading key renamed `field-<name>`.
 */
const pikoLine = winston.format((info) => {
  // A null-prototype object, so that a field named `__proto__` is written as data.
  const record = Object.create(null) as Record<string, unknown>;
  record.time = info.timestamp;
  record.level = info.level;
  if (info.subsystem !== undefined) record.subsystem = info.subsystem;
  record.message = String(info.message);
  const fields = (info as { [FIELDS]?: LogFields })[FIELDS];
  if (fields !== undefined && fields !== null) {
    let keys: string[] = [];
    try {
      keys = Object.keys(fields);
    } catch {
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
  info[MESSAGE] = stringifySafe(record);
  return info;
});

/**
 * One subsystem's view of the shared winston logger. Children are our own thin objects rather than winston
 * `child()` loggers: the threshold depends on the subsystem, so it is resolved once here, and winston's
 * per-record metadata merge is skipped.
 */
class WinstonLogger implements Logger {
  /** The least severe winston level written by this subsystem. */
  readonly #max: number;

  constructor(
    private readonly sink: winston.Logger,
    private readonly threshold: (subsystem: string | undefined) => number,
    private readonly subsystem: string | undefined,
  ) {
    this.#max = threshold(subsystem);
  }

  debug(message: string, fields?: LogFields): void {
    if (LEVELS.debug <= this.#max) this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (LEVELS.info <= this.#max) this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (LEVELS.warn <= this.#max) this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    if (LEVELS.error <= this.#max) this.write('error', message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    // An unknown level (only possible by casting) is written as error rather than dropped.
    if (!Object.hasOwn(LEVELS, level)) this.write('error', message, { ...fields, 'invalid-level': String(level) });
    else if (LEVELS[level] <= this.#max) this.write(level, message, fields);
  }

  child(subsystem: string): Logger {
    return new WinstonLogger(this.sink, this.threshold, subsystem);
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    try {
      this.sink.log({ level, message, subsystem: this.subsystem, [FIELDS]: fields });
    } catch {
      // A logger never throws into its caller; a broken sink loses the record.
    }
  }
}
