import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type RemoteJWKSet,
} from 'jose';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { Counter } from '../../../application/ports/metrics.port.js';
import { TokenRejectedError } from '../../../application/ports/token-verifier.port.js';

/** Picks the key of a token from its protected header; rejects when the set holds none for it. */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** Piko's defaults when `jwks.cache_ttl` / `jwks.timeout` are 0: refresh hourly, one minute per fetch. */
export const DEFAULT_JWKS_CACHE_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_JWKS_TIMEOUT_MS = 60 * 1000;
/**
 * Least time between two fetches triggered by tokens (an unknown `kid`, or no keys yet). Bounds what a client
 * sending made-up key IDs can make the node do; a key that has just been published is picked up on the next
 * refresh at the latest.
 */
export const JWKS_ON_DEMAND_COOLDOWN_MS = 30_000;

/** A JWKS read once from a `file://` URL at start-up. */
export class FileJwks {
  readonly resolve: KeyResolver;

  /** @throws Error naming the file and why it cannot be used (unreadable, not JSON, not a key set). */
  constructor(url: URL) {
    const path = fileURLToPath(url);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read the key set ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      this.resolve = createLocalJWKSet(parsed as JSONWebKeySet);
    } catch (err) {
      throw new Error(`${path} is not a JSON Web Key Set: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  close(): void {}
}

/** Collaborators of a remote JWKS. */
export interface RemoteJwksDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Counts failed fetches (no label carries the URL's secrets: the owner labels it by port). */
  readonly failures: Counter;
  /** Replaces the global `fetch` (unit tests serve key sets without sockets). */
  readonly fetch?: FetchImplementation;
}

/**
 * A JWKS fetched over HTTP(S) with jose's `createRemoteJWKSet` (its fetch, timeout and key-set checks), on our
 * own schedule: once at start-up (not awaited: a source that is down does not stop the node, as in Piko),
 * every `cacheTtlMs`, and on demand for an unknown `kid` at most once per {@link JWKS_ON_DEMAND_COOLDOWN_MS}.
 *
 * Differs from jose's own cache, which fails every verification once its keys are older than their maximum age
 * and the source is down: here the last good key set keeps serving for as long as the source is down; each
 * failed fetch is logged (warn) and counted. State is mutated on the event loop only.
 */
export class RemoteJwks {
  readonly #remote: RemoteJWKSet;
  readonly #deps: RemoteJwksDeps;
  readonly #cacheTtlMs: number;
  #keys: KeyResolver | undefined;
  #pending: Promise<void> | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #timer: Cancel | undefined;
  #closed = false;

  constructor(url: URL, options: { cacheTtlMs: number; timeoutMs: number }, deps: RemoteJwksDeps) {
    this.#deps = deps;
    this.#cacheTtlMs = options.cacheTtlMs > 0 ? options.cacheTtlMs : DEFAULT_JWKS_CACHE_TTL_MS;
    this.#remote = createRemoteJWKSet(url, {
      timeoutDuration: options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_JWKS_TIMEOUT_MS,
      // Our timer decides when to fetch; jose's own expiry would fail verifications while the source is down.
      cacheMaxAge: Number.POSITIVE_INFINITY,
      ...(deps.fetch !== undefined ? { [customFetch]: deps.fetch } : {}),
    });
    void this.refresh();
    this.#schedule();
  }

  /** Whether a key set has been fetched at least once. */
  get loaded(): boolean {
    return this.#keys !== undefined;
  }

  readonly resolve: KeyResolver = async (header, token) => {
    if (this.#keys === undefined) await (this.#pending ?? this.#refreshOnDemand());
    const keys = this.#keys;
    if (keys === undefined) throw new TokenRejectedError('invalid token', 'no_key');
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      await (this.#pending ?? this.#refreshOnDemand());
      if (this.#keys === keys) throw err;
      return (this.#keys as KeyResolver)(header, token);
    }
  };

  /**
   * Fetches the key set now (joining a fetch in flight). On success the new set replaces the old one; on
   * failure the old one stays, and the failure is logged and counted. Never rejects.
   */
  refresh(): Promise<void> {
    if (this.#pending !== undefined) return this.#pending;
    this.#lastAttempt = this.#deps.clock.now();
    const done = this.#remote.reload().then(
      () => {
        const jwks = this.#remote.jwks();
        if (jwks === undefined) return;
        this.#keys = createLocalJWKSet(jwks);
        this.#deps.log.debug('jwks refreshed', { keys: jwks.keys.length });
      },
      (err: unknown) => {
        this.#deps.failures.inc();
        this.#deps.log.warn(this.#keys === undefined ? 'jwks fetch failed; no keys yet, tokens are refused' : 'jwks refresh failed; keeping the last good keys', {
          error: err instanceof Error ? err.message : String(err),
        });
      },
    );
    this.#pending = done.finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Stops the refresh timer. */
  close(): void {
    this.#closed = true;
    this.#timer?.();
  }

  /** A fetch for a token, unless one was tried within the cooldown. */
  #refreshOnDemand(): Promise<void> {
    if (this.#deps.clock.now() - this.#lastAttempt < JWKS_ON_DEMAND_COOLDOWN_MS) return Promise.resolve();
    return this.refresh();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#deps.clock.schedule(this.#cacheTtlMs, () => {
      void this.refresh();
      this.#schedule();
    });
  }
}
