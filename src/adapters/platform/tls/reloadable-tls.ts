import { watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import { TlsFileError } from './pem-files.js';
import type { TlsMaterial } from './tls-material.js';

/** A directory watch: calls `onEvent` on any change in `dir` until closed. */
export type WatchDirectory = (dir: string, onEvent: () => void, onError: (err: Error) => void) => { close(): void };

/**
 * The default {@link WatchDirectory}: `fs.watch` on the directory, so a file replaced by a rename (an editor, a
 * Kubernetes secret's `..data` symlink swap, `mv new.pem cert.pem`) is seen like one written in place. It does not
 * keep the process alive.
 */
export const watchDirectory: WatchDirectory = (dir, onEvent, onError) => {
  const watcher = watch(dir, { persistent: false }, () => onEvent());
  watcher.on('error', onError);
  return watcher;
};

/** How long file events are gathered before a reload: writing a certificate and its key is several events. */
export const RELOAD_DEBOUNCE_MS = 250;

/** Result of one reload attempt. */
export type ReloadOutcome = 'reloaded' | 'unchanged' | 'failed';

/** Settings of a {@link ReloadableTls}. */
export interface ReloadableTlsOptions<T> {
  /** What the material is for, in logs: `proxy.tls`, `connect.tls`. */
  readonly name: string;
  /** Reads the files; throws (a TlsFileError naming the key and file) when they cannot be used. */
  readonly load: () => TlsMaterial<T>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly watchDirectory?: WatchDirectory;
  readonly debounceMs?: number;
}

/**
 * TLS material that can be replaced while the process runs: on {@link reload} (SIGHUP) or, once
 * {@link watch} has been called, when a file in the directory of one of its files changes (debounced). A new set
 * of files that cannot be used (missing, not PEM, a key that does not match) is logged with the file at fault and
 * the previous material is kept, so a half-written or broken certificate never takes a port down. Users of the
 * material read {@link current} for each new connection or register with {@link onReload}; connections already
 * open keep the material they were made with.
 *
 * State is mutated only on the event loop (reload, the debounce timer).
 */
export class ReloadableTls<T> {
  #material: TlsMaterial<T>;
  readonly #listeners: Array<(options: T) => void> = [];
  readonly #watchers: Array<{ close(): void }> = [];
  #cancelPending: Cancel | undefined;
  #closed = false;

  /** Reads the files once; throws (a TlsFileError naming the key and file) when they cannot be used. */
  constructor(private readonly options: ReloadableTlsOptions<T>) {
    this.#material = options.load();
  }

  /** What the material is for (`proxy.tls`). */
  get name(): string {
    return this.options.name;
  }

  /** The options in force: read them for every new connection. */
  get current(): T {
    return this.#material.options;
  }

  /** Facts about the material in force (certificate subject, serial, expiry), for logs. */
  get facts(): Readonly<Record<string, string>> {
    return this.#material.facts;
  }

  /** Calls `listener` with the new options after every successful reload (an https server's setSecureContext). */
  onReload(listener: (options: T) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Reads the files again. `'reloaded'` when their contents changed and are usable (listeners have been told),
   * `'unchanged'` when they read the same, `'failed'` when they cannot be used (logged; the old material stays).
   */
  reload(reason: string): ReloadOutcome {
    const { name, log } = this.options;
    let next: TlsMaterial<T>;
    try {
      next = this.options.load();
    } catch (err) {
      const file = err instanceof TlsFileError ? err.file : undefined;
      log.error('TLS reload failed: keeping the certificates in use', {
        tls: name,
        reason,
        ...(file !== undefined && { file }),
        error: err instanceof Error ? err.message : String(err),
      });
      return 'failed';
    }
    if (next.fingerprint === this.#material.fingerprint) {
      log.debug('TLS files unchanged', { tls: name, reason });
      return 'unchanged';
    }
    this.#material = next;
    for (const listener of this.#listeners) {
      try {
        listener(next.options);
      } catch (err) {
        log.error('TLS reload could not be applied', { tls: name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    log.info('TLS certificates reloaded', { tls: name, reason, ...next.facts });
    return 'reloaded';
  }

  /** Starts watching the directories of the files; a change reloads after the debounce delay. Idempotent. */
  watch(): void {
    if (this.#closed || this.#watchers.length > 0) return;
    const { log, name } = this.options;
    const watchDir = this.options.watchDirectory ?? watchDirectory;
    const dirs = new Set(this.#material.files.map((f) => dirname(resolve(f))));
    for (const dir of dirs) {
      try {
        this.#watchers.push(
          watchDir(
            dir,
            () => this.#schedule(),
            (err) => log.warn('TLS file watch failed: reload with SIGHUP', { tls: name, dir, error: err.message }),
          ),
        );
      } catch (err) {
        log.warn('TLS file watch failed: reload with SIGHUP', { tls: name, dir, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** Stops watching and cancels a pending reload. */
  close(): void {
    this.#closed = true;
    this.#cancelPending?.();
    this.#cancelPending = undefined;
    for (const w of this.#watchers.splice(0)) w.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#cancelPending?.();
    this.#cancelPending = this.options.clock.schedule(this.options.debounceMs ?? RELOAD_DEBOUNCE_MS, () => {
      this.#cancelPending = undefined;
      this.reload('file change');
    });
  }
}

/**
 * The TLS material of one process, reloaded together: on SIGHUP (see {@link reloadOnSignal}) every member
 * re-reads its files; each also watches its own.
 */
export class TlsReloadGroup {
  readonly #members: Array<ReloadableTls<unknown>> = [];

  /** Adds `member` and returns it. */
  add<T>(member: ReloadableTls<T>): ReloadableTls<T> {
    this.#members.push(member as ReloadableTls<unknown>);
    return member;
  }

  /** Number of members. */
  get size(): number {
    return this.#members.length;
  }

  /** Reloads every member; returns each one's outcome by name. */
  reloadAll(reason: string): Record<string, ReloadOutcome> {
    return Object.fromEntries(this.#members.map((m) => [m.name, m.reload(reason)]));
  }

  /** Starts every member's file watch. */
  watchAll(): void {
    for (const m of this.#members) m.watch();
  }

  /** Stops every member's file watch. */
  close(): void {
    for (const m of this.#members) m.close();
  }

  /**
   * Reloads every member when `signal` (SIGHUP) reaches `target` (the process) and returns the function that
   * stops listening. A process with a listener no longer dies of SIGHUP, so it is installed only when there is
   * TLS material to reload.
   */
  reloadOnSignal(target: Pick<NodeJS.Process, 'on' | 'off'> = process, signal: NodeJS.Signals = 'SIGHUP'): () => void {
    const handler = (): void => {
      this.reloadAll(signal);
    };
    target.on(signal, handler);
    return () => {
      target.off(signal, handler);
    };
  }
}
