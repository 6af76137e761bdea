import type { IncomingHttpHeaders } from 'node:http';
import type { WallClock } from '../../../application/ports/token-verifier.port.js';
import type { EndpointId } from '../../../domain/endpoint/endpoint-id.js';
import { endpointKey, splitEndpointKey, tenantIdProblem, type TenantId } from '../../../domain/endpoint/tenant.js';
import { PIKO_AUTH_HEADER, TENANT_HEADER, type AuthDecision, type AuthGate, type Grant } from '../auth/auth-gate.js';
import { HOP_PROOF_HEADER, signHop, verifyHop } from './auth-hop.js';
import { FORWARDED_HOP_HEADER } from './http-proxy-forwarder.adapter.js';

/** Settings of the proxy port's authentication. */
export interface ProxyAuthSettings {
  /**
   * Leave `Authorization` on the request when it carried the token (`proxy.auth.pass_authorization`, Piko's
   * behaviour); by default it is removed once verified, so the service never sees the proxy token.
   */
  readonly passAuthorization: boolean;
  /**
   * The key nodes vouch for forwarded requests with (from `cluster.gossip.secret_key`). Without it a node hands
   * the client's token to the node it forwards to, which verifies it again.
   */
  readonly hopKey: Buffer | undefined;
}

/**
 * Authentication of the proxy port, HTTP and TCP route alike, checked before anything is opened toward an
 * upstream. A request another node forwarded (`x-piko-forward: true`) skips the token only with a valid hop proof
 * for its endpoint, which only nodes holding the cluster key can make; a hop marker without one (or with a bad one)
 * is authenticated like any request, so a client cannot skip auth by sending the marker. The proof covers the
 * endpoint's key, tenant included (`x-piko-tenant-id`), so a proof for one tenant's endpoint opens no other's.
 */
export class ProxyAuth {
  constructor(
    private readonly gate: AuthGate,
    private readonly settings: ProxyAuthSettings,
    private readonly wallClock: WallClock,
  ) {}

  /**
   * Authenticates a request for `endpointId` (undefined when the request names no valid endpoint: then only the
   * token is checked, and the caller answers 400 after). Never rejects.
   */
  async check(headers: IncomingHttpHeaders, endpointId: string | undefined, clientIp: string): Promise<AuthDecision> {
    const { hopKey } = this.settings;
    if (hopKey !== undefined && endpointId !== undefined && headers[FORWARDED_HOP_HEADER] === 'true' && headers[HOP_PROOF_HEADER] !== undefined) {
      const named = headers[TENANT_HEADER];
      const tenant = typeof named === 'string' && named !== '' && tenantIdProblem(named) === undefined ? (named as TenantId) : undefined;
      const validTenant = named === undefined || named === '' || tenant !== undefined;
      if (validTenant && verifyHop(hopKey, headers[HOP_PROOF_HEADER], endpointKey(tenant, endpointId as EndpointId), this.wallClock())) {
        const grant: Grant = {
          endpoints: [endpointId], expiresAt: undefined, subject: undefined, credentialHeader: undefined, token: undefined, viaHop: true,
          ...(tenant !== undefined && { tenant }),
        };
        return { ok: true, grant };
      }
      // A forged or stale proof: the request is authenticated like any other.
    }
    const decision = await this.gate.authenticate(headers, clientIp);
    if (!decision.ok || endpointId === undefined) return decision;
    return this.gate.permit(decision.grant, endpointId, clientIp) ?? decision;
  }

  /**
   * Removes what authenticated the request before it goes on: the hop proof, `x-piko-authorization`, and
   * `Authorization` when it carried the token (unless `pass_authorization`). An `Authorization` that did not carry
   * the proxy token (the client used `x-piko-authorization`) belongs to the service and stays.
   */
  strip(headers: IncomingHttpHeaders, grant: Grant): void {
    delete headers[HOP_PROOF_HEADER];
    delete headers[PIKO_AUTH_HEADER];
    if (grant.credentialHeader === 'authorization' && !this.settings.passAuthorization) delete headers.authorization;
  }

  /**
   * Headers for the node a request for `key` (the endpoint's key: `endpointKey(grant.tenant, id)`) is forwarded to:
   * a hop proof for the key when nodes share a key, else the client's token in `x-piko-authorization` (the peer
   * verifies it again and removes it). A tenant's request also carries its tenant and the bare endpoint ID, which
   * replaces the key the forwarder names the peer.
   */
  peerHeaders(grant: Grant, key: string): Readonly<Record<string, string>> {
    const { endpointId } = splitEndpointKey(key as EndpointId);
    const tenant: Record<string, string> = grant.tenant === undefined ? {} : { [TENANT_HEADER]: grant.tenant, 'x-piko-endpoint': endpointId };
    if (this.settings.hopKey !== undefined) {
      return { ...tenant, [HOP_PROOF_HEADER]: signHop(this.settings.hopKey, key, this.wallClock()) };
    }
    return { ...tenant, ...(grant.token !== undefined ? { [PIKO_AUTH_HEADER]: `Bearer ${grant.token}` } : {}) };
  }
}
