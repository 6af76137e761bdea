import type { EndpointId } from './endpoint-id.js';

/** The ID of a tenant (`upstream.tenants[].id`, sent as `x-piko-tenant-id`). Branded like {@link EndpointId}. */
export type TenantId = string & { readonly __brand: 'TenantId' };

/**
 * Longest tenant ID accepted. A tenant's endpoint key (`<tenant>/<endpoint>`, at most 64 + 1 + 128 characters) then
 * fits a gossip state key (`endpoint:<key>`, at most 255 bytes) with room to spare.
 */
export const TENANT_ID_MAX_LENGTH = 64;

/** Separates a tenant from an endpoint in an endpoint key; no endpoint ID or tenant ID can contain it. */
export const TENANT_SEPARATOR = '/';

const TENANT_ID_CHARS = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * Says why `raw` is not a valid tenant ID, or returns undefined when it is. The rules of endpoint IDs (letters,
 * digits, `.`, `_` and `-`, starting and ending with a letter or digit), at most 64 characters.
 */
export function tenantIdProblem(raw: string): string | undefined {
  if (raw.length === 0) return 'must not be empty';
  if (raw.length > TENANT_ID_MAX_LENGTH) return `must be at most ${TENANT_ID_MAX_LENGTH} characters`;
  if (!TENANT_ID_CHARS.test(raw)) return 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit';
  return undefined;
}

/**
 * The key an endpoint is registered, routed, gossiped and reported under: its ID for the default tenant (no
 * tenant, as in Piko), `<tenant>/<endpoint>` for a tenant's. Since neither ID can contain `/`, two tenants (or a
 * tenant and the default tenant) using the same endpoint ID get different keys and never see each other's traffic
 * (Piko shares them). Typed as an {@link EndpointId} so that the routing table, the upstream directory and the
 * gossip state, which only compare keys, need no change.
 */
export function endpointKey(tenant: TenantId | undefined, endpointId: EndpointId): EndpointId {
  return tenant === undefined ? endpointId : (`${tenant}${TENANT_SEPARATOR}${endpointId}` as EndpointId);
}

/** The tenant and endpoint ID an {@link endpointKey} was made of (`tenant` undefined: the default tenant). */
export function splitEndpointKey(key: EndpointId): { readonly tenant: TenantId | undefined; readonly endpointId: EndpointId } {
  const at = key.indexOf(TENANT_SEPARATOR);
  if (at < 0) return { tenant: undefined, endpointId: key };
  return { tenant: key.slice(0, at) as TenantId, endpointId: key.slice(at + 1) as EndpointId };
}
