import type { LogFields, Logger, LogLevel } from '../../../src/application/ports/logger.port.js';

/** One record written to an {@link InMemoryLogger}. */
export interface LogEntry {
  readonly level: LogLevel;
  /** The subsystem of the logger that wrote it; `''` for the root logger. */
  readonly subsystem: string;
  readonly message: string;
  /** The fields as passed (`{}` when none were), not copied. */
  readonly fields: LogFields;
}

/**
 * A `Logger` that records every call, at every level, in memory, so tests can assert on what a component
 * logged. A logger and all its children (and theirs) share one `entries` array, in call order.
 */
export class InMemoryLogger implements Logger {
  /** Every record written through this logger or any logger related to it by `child()`. */
  readonly entries: LogEntry[];

  /**
   * @param subsystem the subsystem recorded with this logger's entries (`''` for a root logger).
   * @param entries the array to share; a new one by default.
   */
  constructor(
    readonly subsystem = '',
    entries: LogEntry[] = [],
  ) {
    this.entries = entries;
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.entries.push({ level, subsystem: this.subsystem, message, fields: fields ?? {} });
  }

  child(subsystem: string): InMemoryLogger {
    return new InMemoryLogger(subsystem, this.entries);
  }

  /** The entries matching every given criterion (all entries with no criteria). */
  filter(criteria: { level?: LogLevel; subsystem?: string; message?: string } = {}): LogEntry[] {
    return this.entries.filter(
      (entry) =>
        (criteria.level === undefined || entry.level === criteria.level) &&
        (criteria.subsystem === undefined || entry.subsystem === criteria.subsystem) &&
        (criteria.message === undefined || entry.message === criteria.message),
    );
  }

  /** The messages recorded, in order, optionally only those at `level`. */
  messages(level?: LogLevel): string[] {
    return this.filter(level === undefined ? {} : { level }).map((entry) => entry.message);
  }

  /** Forgets every entry (for this logger and all related ones). */
  clear(): void {
    this.entries.length = 0;
  }
}
