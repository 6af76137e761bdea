import { errors, jwtVerify, type FetchImplementation, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { Metrics } from '../../../application/ports/metrics.port.js';
import {
  TokenRejectedError,
  type TokenRejectionReason,
  type TokenVerifier,
  type VerifiedToken,
} from '../../../application/ports/token-verifier.port.js';
import { FileJwks, RemoteJwks, type KeyResolver } from './jwks-keys.js';
import { parsePublicKeyPem } from './public-key.js';

/**
 * How one port (or tenant) verifies tokens: Piko's `<port>.auth` group plus piko-ts's `leeway`. Empty strings
 * mean "not set". `jwksEndpoint` may not be combined with the static keys.
 */
export interface JwtVerifierSettings {
  /** The config group the settings come from (`proxy.auth`), so errors name the key. */
  readonly configKey: string;
  readonly hmacSecretKey: string;
  /** PEM text of an RSA public key. */
  readonly rsaPublicKey: string;
  /** PEM text of an EC public key. */
  readonly ecdsaPublicKey: string;
  readonly audience: string;
  readonly issuer: string;
  /** Tolerated clock difference for `exp` and `nbf`, in milliseconds. */
  readonly leewayMs: number;
  readonly jwks: { readonly endpoint: string; readonly cacheTtlMs: number; readonly timeoutMs: number };
}

/** Collaborators of a verifier: the JWKS refresh timer, its logs and its failure counter. */
export interface JwtVerifierDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The value of the `port` label of `piko_auth_jwks_refresh_failures_total` (`proxy`, `upstream`, `admin`). */
  readonly port: string;
  /** Replaces the global `fetch` for a remote JWKS (unit tests). */
  readonly fetch?: FetchImplementation;
}

/** A configuration that cannot verify anything; the message names the key and the reason. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGS = ['RS256', 'RS384', 'RS512'] as const;
const EC_ALGS = ['ES256', 'ES384', 'ES512'] as const;
/**
 * What a JWKS may sign with: asymmetric algorithms only. Piko applies no list with a JWKS; we refuse `HS*`
 * there (a published key set is public) and, as everywhere, `none`.
 */
export const JWKS_ALGS: readonly string[] = [...RSA_ALGS, 'PS256', 'PS384', 'PS512', ...EC_ALGS, 'EdDSA', 'Ed25519'];

/** Whether a port's auth group turns auth on (Piko: any key or a JWKS endpoint set). */
export function authEnabled(s: Pick<JwtVerifierSettings, 'hmacSecretKey' | 'rsaPublicKey' | 'ecdsaPublicKey' | 'jwks'>): boolean {
  return s.hmacSecretKey !== '' || s.rsaPublicKey !== '' || s.ecdsaPublicKey !== '' || s.jwks.endpoint !== '';
}

/**
 * The TokenVerifier port on `jose`. Algorithms are limited to the configured key types (`HS*` for the HMAC
 * secret, `RS*` for the RSA key, `ES*` for the EC key; the key is picked by the token's `alg`), so an `HS256`
 * token signed with the RSA public key's text is refused, and `none` is never accepted. `aud` must contain
 * `audience` and `iss` equal `issuer` when set; `exp` and `nbf` are checked with the leeway (a token without
 * `exp` never expires, as in Piko). The `piko.endpoints` claim must be a list of strings when present.
 */
export class JoseTokenVerifier implements TokenVerifier {
  readonly #key: JWTVerifyGetKey;
  readonly #algorithms: string[];
  readonly #settings: JwtVerifierSettings;
  readonly #jwks: RemoteJwks | FileJwks | undefined;

  /** @throws AuthConfigError when a key does not parse, a JWKS file cannot be read, or JWKS is mixed with keys. */
  constructor(settings: JwtVerifierSettings, deps: JwtVerifierDeps) {
    this.#settings = settings;
    const at = (key: string): string => `${settings.configKey}.${key}`;
    if (!authEnabled(settings)) throw new AuthConfigError(`${settings.configKey}: no key or JWKS endpoint set`);
    if (settings.jwks.endpoint !== '') {
      if (settings.hmacSecretKey !== '' || settings.rsaPublicKey !== '' || settings.ecdsaPublicKey !== '') {
        throw new AuthConfigError(`${at('jwks.endpoint')}: cannot be combined with hmac_secret_key, rsa_public_key or ecdsa_public_key`);
      }
      this.#jwks = createJwks(settings, deps, at('jwks.endpoint'));
      this.#key = this.#jwks.resolve as JWTVerifyGetKey;
      this.#algorithms = [...JWKS_ALGS];
      return;
    }
    const keys = new Map<string, Uint8Array | KeyObject>();
    if (settings.hmacSecretKey !== '') {
      const secret = new TextEncoder().encode(settings.hmacSecretKey);
      for (const alg of HMAC_ALGS) keys.set(alg, secret);
      if (secret.length < 32) deps.log.warn('hmac_secret_key is shorter than 32 bytes: tokens signed with it are easier to forge', { key: at('hmac_secret_key') });
    }
    for (const [name, kind, algs] of [['rsa_public_key', 'rsa', RSA_ALGS], ['ecdsa_public_key', 'ec', EC_ALGS]] as const) {
      const pem = kind === 'rsa' ? settings.rsaPublicKey : settings.ecdsaPublicKey;
      if (pem === '') continue;
      const key = parsePublicKeyPem(pem, kind);
      if (typeof key === 'string') throw new AuthConfigError(`${at(name)}: ${key}`);
      for (const alg of algs) keys.set(alg, key);
    }
    this.#algorithms = [...keys.keys()];
    // jose checks `alg` against `algorithms` before asking for the key.
    this.#key = ((header: { alg?: string }) => keys.get(header.alg ?? '')) as unknown as JWTVerifyGetKey;
    this.#jwks = undefined;
  }

  /** The algorithms accepted, for logs and tests. */
  get algorithms(): readonly string[] {
    return this.#algorithms;
  }

  async verify(token: string, nowMs: number): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: this.#algorithms,
        ...(this.#settings.audience !== '' ? { audience: this.#settings.audience } : {}),
        ...(this.#settings.issuer !== '' ? { issuer: this.#settings.issuer } : {}),
        clockTolerance: this.#settings.leewayMs / 1000,
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw rejection(err);
    }
    return grantOf(payload);
  }

  close(): void {
    this.#jwks?.close();
  }
}

function createJwks(settings: JwtVerifierSettings, deps: JwtVerifierDeps, key: string): RemoteJwks | FileJwks {
  let url: URL;
  try {
    url = new URL(settings.jwks.endpoint);
  } catch {
    throw new AuthConfigError(`${key}: must be an http, https or file URL`);
  }
  if (url.protocol === 'file:') {
    try {
      return new FileJwks(url);
    } catch (err) {
      throw new AuthConfigError(`${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AuthConfigError(`${key}: must be an http, https or file URL`);
  const failures = deps.metrics.counter({
    name: 'piko_auth_jwks_refresh_failures_total',
    help: 'Failed fetches of a JWKS endpoint; the last good keys keep serving.',
    labelNames: ['port'],
  });
  return new RemoteJwks(url, settings.jwks, {
    clock: deps.clock,
    log: deps.log,
    failures: { inc: (_labels, value) => failures.inc({ port: deps.port }, value) },
    ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
  });
}

/** What the payload grants; a `piko` claim of the wrong shape makes the token invalid. */
function grantOf(payload: JWTPayload): VerifiedToken {
  const piko = payload['piko'];
  let endpoints: readonly string[] | undefined;
  if (piko !== undefined) {
    if (typeof piko !== 'object' || piko === null || Array.isArray(piko)) throw new TokenRejectedError('invalid token', 'claims');
    const list = (piko as { endpoints?: unknown }).endpoints;
    if (list !== undefined && list !== null) {
      if (!Array.isArray(list) || !list.every((e) => typeof e === 'string')) throw new TokenRejectedError('invalid token', 'claims');
      endpoints = list.length === 0 ? undefined : Object.freeze([...(list as string[])]);
    }
  }
  return {
    endpoints,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
  };
}

/** Maps what jose (or a key source) threw to Piko's answer and a fixed reason. */
function rejection(err: unknown): TokenRejectedError {
  if (err instanceof TokenRejectedError) return err;
  const reason = ((): TokenRejectionReason => {
    if (err instanceof errors.JWTExpired) return 'expired';
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'nbf') return 'not_yet_valid';
      if (err.claim === 'aud') return 'audience';
      if (err.claim === 'iss') return 'issuer';
      return 'claims';
    }
    if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'algorithm';
    if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature';
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JWKSTimeout) return 'no_key';
    return 'malformed';
  })();
  return new TokenRejectedError(reason === 'expired' ? 'expired token' : 'invalid token', reason, { cause: err });
}
