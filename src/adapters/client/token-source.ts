import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { Cancel, Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';

/**
 * Where a client (agent, forward, SDK) gets the token it presents as `Authorization: Bearer`. `current` is asked
 * for every new connection, so a rotated token is used at once; `onChange` tells a listener that a different
 * token is available, so it can move its registration to a new connection before the old token expires.
 */
export interface TokenSource {
  /** The token to present now; `''` for none. */
  current(): Promise<string>;
  /** Calls `listener` when the token has changed. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Stops watching. Idempotent. */
  close(): void;
}

/** A token that never changes (`connect.token`, or none). */
export function staticToken(token: string): TokenSource {
  return { current: () => Promise.resolve(token), onChange: () => () => {}, close: () => {} };
}

/**
 * A token from a function called for every connection (the SDK's `token: () => fetchToken()`): the listener asks
 * it again shortly before the token in use expires.
 */
export function providedToken(provide: () => string | Promise<string>): TokenSource {
  return { current: async () => (await provide()).trim(), onChange: () => () => {}, close: () => {} };
}

/** How often a token file is read again to notice a new token (a Kubernetes secret is swapped, not appended). */
export const TOKEN_FILE_POLL_MS = 1_000;

/** How a {@link FileTokenSource} reads its file; unit tests pass an in-memory one. */
export interface TokenFileReader {
  readSync(path: string): string;
  read(path: string): Promise<string>;
}

const NODE_FS: TokenFileReader = { readSync: (path) => readFileSync(path, 'utf8'), read: (path) => readFile(path, 'utf8') };

/**
 * A token read from a file (`connect.token_file`) and read again every {@link TOKEN_FILE_POLL_MS} on the clock;
 * a different non-empty content is a new token. An empty or unreadable file (mid-rewrite, a secret being
 * swapped) keeps the last token, and the failure is logged once per streak. The first read happens in the
 * constructor so that a missing file stops start-up with its reason.
 */
export class FileTokenSource implements TokenSource {
  #token: string;
  #timer: Cancel | undefined;
  #failing = false;
  #closed = false;
  readonly #listeners = new Set<() => void>();

  /** @throws Error naming the file when it cannot be read or is empty. */
  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly pollMs = TOKEN_FILE_POLL_MS,
    private readonly files: TokenFileReader = NODE_FS,
  ) {
    let text: string;
    try {
      text = files.readSync(path).trim();
    } catch (err) {
      throw new Error(`config: connect.token_file: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (text === '') throw new Error(`config: connect.token_file: ${path} is empty`);
    this.#token = text;
    this.#schedule();
  }

  current(): Promise<string> {
    return Promise.resolve(this.#token);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.();
  }

  #schedule(): void {
    if (!this.#closed) this.#timer = this.clock.schedule(this.pollMs, () => void this.#poll());
  }

  async #poll(): Promise<void> {
    try {
      const text = (await this.files.read(this.path)).trim();
      if (this.#failing) this.log.info('token file readable again', { path: this.path });
      this.#failing = false;
      if (text !== '' && text !== this.#token && !this.#closed) {
        this.#token = text;
        this.log.info('token file changed; presenting the new token on a new connection', { path: this.path });
        for (const listener of [...this.#listeners]) listener();
      }
    } catch (err) {
      if (!this.#failing) this.log.warn('token file unreadable; keeping the current token', { path: this.path, error: err instanceof Error ? err.message : String(err) });
      this.#failing = true;
    }
    this.#schedule();
  }
}

/** The `exp` of a JWT in Unix milliseconds, read without verifying (the server verifies); undefined if none. */
export function tokenExpiry(token: string): number | undefined {
  if (token === '') return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long before its expiry a token is replaced: a third of its remaining life when first used, between 1 s and
 * 60 s. A one-hour token is replaced a minute early, so requests on the old connection have a minute to finish
 * before the server closes it (a request still running then is cut, as in Piko); a twelve-second token four
 * seconds early.
 */
export function refreshLeadMs(remainingMs: number): number {
  return Math.min(60_000, Math.max(1_000, remainingMs / 3));
}
