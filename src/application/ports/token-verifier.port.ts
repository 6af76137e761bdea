/**
 * What a verified token grants. `endpoints` undefined means every endpoint (Piko: a missing or empty
 * `piko.endpoints` claim); otherwise only the listed endpoint IDs. `expiresAt` is the `exp` claim in Unix
 * milliseconds (undefined: the token never expires); `subject` is `sub`, for logs.
 */
export interface VerifiedToken {
  readonly endpoints?: readonly string[] | undefined;
  readonly expiresAt?: number | undefined;
  readonly subject?: string | undefined;
}

/**
 * Why a request was refused, as Piko words it in its 401 JSON bodies (§7.5 of the Piko notes): clients match
 * on these strings, so they never change.
 */
export const AuthMessages = {
  missingAuthorization: 'missing authorization',
  invalidAuthorization: 'invalid authorization',
  unsupportedAuthType: 'unsupported auth type',
  invalidToken: 'invalid token',
  expiredToken: 'expired token',
  unknownTenant: 'unknown tenant',
  endpointNotPermitted: 'endpoint not permitted',
} as const;

/** One of {@link AuthMessages}. */
export type AuthMessage = (typeof AuthMessages)[keyof typeof AuthMessages];

/**
 * A token that does not verify. `answer` (also the `message`) is Piko's (`invalid token` or `expired token`), so a caller answers
 * `401 {"error": answer}` without mapping; `reason` is a short, fixed word for logs and metric labels (never
 * the token, never the library's text, which may quote claims).
 */
export class TokenRejectedError extends Error {
  constructor(
    readonly answer: typeof AuthMessages.invalidToken | typeof AuthMessages.expiredToken,
    readonly reason: TokenRejectionReason,
    options?: { cause?: unknown },
  ) {
    super(answer, options);
    this.name = 'TokenRejectedError';
  }
}

/** The fixed reasons a token is rejected for: bounded, so safe as a metric label. */
export type TokenRejectionReason =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'audience'
  | 'issuer'
  | 'claims'
  | 'no_key';

/**
 * Verifies bearer tokens for one port (or, later, one tenant: a port holds a verifier per tenant, chosen by
 * `x-piko-tenant-id`). Implemented with `jose` (`JoseTokenVerifier`); tests use fakes.
 *
 * Contract: resolves with what the token grants, or rejects with a {@link TokenRejectedError} (any other
 * rejection is a fault of the verifier, answered 500 as Piko does). `nowMs` is wall-clock Unix milliseconds,
 * because token times are; `exp` and `nbf` are compared with it, with the verifier's configured leeway.
 */
export interface TokenVerifier {
  verify(token: string, nowMs: number): Promise<VerifiedToken>;
  /** Stops background work (JWKS refreshes). Idempotent. */
  close(): void;
}

/**
 * Wall-clock time in Unix milliseconds (`Date.now`), for comparing with token times. Distinct from the
 * monotonic `Clock`: token times come from another machine and are on the wall clock.
 */
export type WallClock = () => number;

/** Whether a token that grants `endpoints` may use `endpointId` (Piko: none or empty grants every endpoint). */
export function permitsEndpoint(endpoints: readonly string[] | undefined, endpointId: string): boolean {
  return endpoints === undefined || endpoints.length === 0 || endpoints.includes(endpointId);
}
