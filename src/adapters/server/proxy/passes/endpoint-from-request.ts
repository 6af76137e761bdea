import type { IncomingHttpHeaders } from 'node:http';
import { endpointIdFromHost, endpointIdProblem, type EndpointId } from '../../../../domain/endpoint/endpoint-id.js';

/** The endpoint a request addresses, or why it addresses none. */
export type EndpointResolution =
  | { readonly ok: true; readonly endpointId: EndpointId }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid'; readonly detail?: string };

/**
 * Resolves the endpoint as Piko does (§4.5): a non-empty `x-piko-endpoint` header wins, else the first label
 * of `Host`. An explicit but invalid header is reported as such instead of silently falling back to Host.
 */
export function endpointFromRequest(headers: IncomingHttpHeaders): EndpointResolution {
  const header = headers['x-piko-endpoint'];
  const explicit = Array.isArray(header) ? header[0] : header;
  if (explicit !== undefined && explicit.length > 0) {
    const problem = endpointIdProblem(explicit);
    if (problem !== undefined) return { ok: false, reason: 'invalid', detail: problem };
    return { ok: true, endpointId: explicit as EndpointId };
  }
  const fromHost = endpointIdFromHost(headers.host);
  return fromHost === undefined ? { ok: false, reason: 'missing' } : { ok: true, endpointId: fromHost };
}
