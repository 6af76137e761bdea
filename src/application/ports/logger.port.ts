/** Structured fields attached to a log record. Keys are kebab-case, as in Piko (`endpoint-id`, `client-ip`). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured logger. Each subsystem (`proxy`, `upstream`, `proxy.access`...) gets its own child so that
 * `log.subsystems` can turn all of its levels on without raising the global level.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Logs at a level chosen at run time (the access log raises 5xx to `warn`). */
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger for a named subsystem; the name replaces (does not extend) the parent's. */
  child(subsystem: string): Logger;
}
