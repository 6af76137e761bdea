import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { Counter, Metrics } from '../../../application/ports/metrics.port.js';
import {
  AuthMessages,
  permitsEndpoint,
  TokenRejectedError,
  type TokenVerifier,
  type WallClock,
} from '../../../application/ports/token-verifier.port.js';
import type { TenantId } from '../../../domain/endpoint/tenant.js';

/** The header Piko reads first; `Authorization` is read when it is absent or empty (§7.2 of the Piko notes). */
export const PIKO_AUTH_HEADER = 'x-piko-authorization';
/** The header that names a tenant; tenants choose the verifier on the upstream port. */
export const TENANT_HEADER = 'x-piko-tenant-id';

/** Which header carried the token, so the caller can remove exactly that one before proxying. */
export type CredentialHeader = 'authorization' | typeof PIKO_AUTH_HEADER;

/**
 * What an authenticated request may do. `endpoints` undefined grants every endpoint. `expiresAt` (Unix ms) bounds
 * an upstream connection's life. `token` is kept so that a node without a hop key can hand it to the node it
 * forwards to; it is never logged.
 */
export interface Grant {
  readonly endpoints: readonly string[] | undefined;
  readonly expiresAt: number | undefined;
  readonly subject: string | undefined;
  readonly credentialHeader: CredentialHeader | undefined;
  readonly token: string | undefined;
  /** True when another node of the cluster vouched for the request (a valid hop proof), with no token. */
  readonly viaHop: boolean;
  /** The tenant whose keys verified the request (`x-piko-tenant-id`); absent for the default tenant. */
  readonly tenant?: TenantId;
}

/**
 * What {@link AuthGateDeps.verifierFor} answers for a tenant without keys of its own: the default tenant of a
 * port whose `<port>.auth` is off while tenants are configured. Its requests pass without a token.
 */
export const NO_AUTH = 'no-auth';

/** A grant for a request of the default tenant on a port without auth of its own: every endpoint, no token. */
const OPEN_GRANT: Grant = { endpoints: undefined, expiresAt: undefined, subject: undefined, credentialHeader: undefined, token: undefined, viaHop: false };

/** The fixed reasons a request is refused, used as the `reason` label: never a token or a claim. */
export type RefusalReason =
  | 'missing_authorization'
  | 'invalid_authorization'
  | 'unsupported_auth_type'
  | 'unknown_tenant'
  | 'endpoint_not_permitted'
  | 'verifier_error'
  | TokenRejectedError['reason'];

/** A refusal: the status and Piko's JSON `error` text to answer with. */
export interface Refusal {
  readonly ok: false;
  readonly status: 401 | 500;
  readonly message: string;
  readonly reason: RefusalReason;
}

/** The outcome of authenticating a request. */
export type AuthDecision = { readonly ok: true; readonly grant: Grant } | Refusal;

/** Collaborators of an {@link AuthGate}. */
export interface AuthGateDeps {
  /**
   * The verifier for a request's tenant (`undefined`: no `x-piko-tenant-id` header), {@link NO_AUTH} when that
   * tenant needs no token, or undefined when the tenant is unknown.
   */
  verifierFor(tenantId: string | undefined): TokenVerifier | typeof NO_AUTH | undefined;
  readonly wallClock: WallClock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** `proxy`, `upstream` or `admin`: the `port` label of the rejection counter. */
  readonly port: string;
}

const refuse = (message: string, reason: RefusalReason, status: 401 | 500 = 401): Refusal => ({ ok: false, status, message, reason });

const first = (value: string | string[] | undefined): string => (Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));

/**
 * Reads the bearer token of a request as Piko does: `x-piko-authorization` when present and non-empty, else
 * `Authorization`; the value must be `Bearer <token>` with `Bearer` exactly so (case-sensitive). Query strings,
 * cookies and WebSocket subprotocols are never read.
 */
export function bearerToken(headers: IncomingHttpHeaders): { token: string; header: CredentialHeader } | Refusal {
  const piko = first(headers[PIKO_AUTH_HEADER]);
  const header: CredentialHeader = piko !== '' ? PIKO_AUTH_HEADER : 'authorization';
  const value = piko !== '' ? piko : first(headers.authorization);
  if (value === '') return refuse(AuthMessages.missingAuthorization, 'missing_authorization');
  const space = value.indexOf(' ');
  if (space < 0) return refuse(AuthMessages.invalidAuthorization, 'invalid_authorization');
  if (value.slice(0, space) !== 'Bearer') return refuse(AuthMessages.unsupportedAuthType, 'unsupported_auth_type');
  return { token: value.slice(space + 1), header };
}

/**
 * Authenticates requests on one port: reads the bearer token, picks the verifier (by tenant where the port has
 * tenants), verifies, and answers Piko's 401 messages (`missing authorization`, `invalid authorization`,
 * `unsupported auth type`, `invalid token`, `expired token`, `unknown tenant`, `endpoint not permitted`); a fault
 * of the verifier itself is a 500. Every refusal is counted in `piko_auth_rejections_total{port,reason}` and logged
 * at debug with its reason, never with the token.
 */
export class AuthGate {
  readonly #deps: AuthGateDeps;
  readonly #rejections: Counter;

  constructor(deps: AuthGateDeps) {
    this.#deps = deps;
    this.#rejections = deps.metrics.counter({
      name: 'piko_auth_rejections_total',
      help: 'Requests refused by authentication, by port and fixed reason.',
      labelNames: ['port', 'reason'],
    });
  }

  /** Authenticates `headers`; never rejects. */
  async authenticate(headers: IncomingHttpHeaders, clientIp = ''): Promise<AuthDecision> {
    const decision = await this.#decide(headers);
    if (!decision.ok) this.refused(decision, clientIp);
    return decision;
  }

  /**
   * Whether `grant` may use `endpointId`; a refusal is counted and returned, so that callers answer it as they
   * answer the others.
   */
  permit(grant: Grant, endpointId: string, clientIp = ''): Refusal | undefined {
    if (permitsEndpoint(grant.endpoints, endpointId)) return undefined;
    const refusal = refuse(AuthMessages.endpointNotPermitted, 'endpoint_not_permitted');
    this.refused(refusal, clientIp, endpointId);
    return refusal;
  }

  /** Counts and logs a refusal decided elsewhere (a bad hop proof). */
  refused(refusal: Refusal, clientIp: string, endpointId?: string): void {
    this.#rejections.inc({ port: this.#deps.port, reason: refusal.reason });
    const fields = { reason: refusal.reason, 'client-ip': clientIp, ...(endpointId !== undefined ? { 'endpoint-id': endpointId } : {}) };
    this.#deps.log.debug('request refused: authentication', fields);
  }

  async #decide(headers: IncomingHttpHeaders): Promise<AuthDecision> {
    const named = first(headers[TENANT_HEADER]);
    const tenant = named === '' ? undefined : (named as TenantId);
    const verifier = this.#deps.verifierFor(tenant);
    if (verifier === NO_AUTH) return { ok: true, grant: OPEN_GRANT };
    const found = bearerToken(headers);
    if ('ok' in found) return found;
    if (verifier === undefined) return refuse(AuthMessages.unknownTenant, 'unknown_tenant');
    try {
      const verified = await verifier.verify(found.token, this.#deps.wallClock());
      return {
        ok: true,
        grant: {
          endpoints: verified.endpoints,
          expiresAt: verified.expiresAt,
          subject: verified.subject,
          credentialHeader: found.header,
          token: found.token,
          viaHop: false,
          ...(tenant !== undefined && { tenant }),
        },
      };
    } catch (err) {
      if (err instanceof TokenRejectedError) return refuse(err.answer, err.reason);
      this.#deps.log.error('token verifier failed', { error: err instanceof Error ? err.message : String(err) });
      return refuse('internal server error', 'verifier_error', 500);
    }
  }
}
