import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '../adapters/platform/config/load-config.js';
import type { LogConfig } from '../adapters/platform/config/types.js';
import { createWinstonLogger } from '../adapters/platform/logging/winston-logger.adapter.js';
import type { Logger } from '../application/ports/logger.port.js';
import { installLastResortHandlers } from './last-resort.js';

/**
 * Runs `stop` on the first SIGTERM or SIGINT and exits 0 when it finishes (1 if it fails). A second signal
 * exits at once, for an operator who does not want to wait for the grace period.
 */
export function onShutdownSignal(stop: () => Promise<void>, log: Logger): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (signalled) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('signal received: shutting down', { signal });
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * Runs `reload` on every SIGHUP (TLS certificates are read again; see `ReloadableTls`). With a listener installed
 * SIGHUP no longer ends the process, so a terminal hang-up does not stop a node either.
 */
export function onReloadSignal(reload: () => Record<string, string>, log: Logger): void {
  process.on('SIGHUP', () => {
    const outcomes = reload();
    log.info('SIGHUP: TLS files read again', Object.keys(outcomes).length > 0 ? { outcomes } : { outcomes: 'no TLS configured' });
  });
}

/** Prints a start-up failure as one line on stderr and exits 1. */
export function failStartup(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** True when the module at `moduleUrl` is the script Node was started with (not imported by the CLI). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** A loaded configuration and the process logger made from its `log` section. */
export interface Loaded<T> {
  readonly config: T;
  readonly logger: Logger;
}

/**
 * Loads a command's configuration: on `--help` prints the help and returns undefined; on a bad configuration
 * exits 1 with its one-line reason; otherwise creates the logger and logs the loader's warnings under
 * `subsystem`. First installs the process's last-resort handlers (see `last-resort.ts`): an error nobody
 * handled is logged with its stack and stops the process (non-zero) unless it is local to one connection.
 */
export function loadOrExit<T extends { readonly log: LogConfig }>(load: () => LoadResult<T>, subsystem: string): Loaded<T> | undefined {
  installLastResortHandlers();
  let loaded: LoadResult<T>;
  try {
    loaded = load();
  } catch (err) {
    failStartup(err);
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`);
    return undefined;
  }
  const { config } = loaded;
  const logger = createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  for (const w of loaded.warnings) logger.child(subsystem).warn(w);
  return { config, logger };
}
