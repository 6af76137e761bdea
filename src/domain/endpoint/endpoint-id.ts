import { DomainError } from '../errors.js';

/**
 * The ID of an endpoint: what upstreams register on and what downstream clients address. Branded so that an
 * unchecked string cannot be used where a validated ID is expected.
 */
export type EndpointId = string & { readonly __brand: 'EndpointId' };

/** Longest endpoint ID accepted. Piko sets no limit; an unbounded ID is an unbounded gossip key and log field. */
export const ENDPOINT_ID_MAX_LENGTH = 128;

const ENDPOINT_ID_CHARS = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * Says why `raw` is not a valid endpoint ID, or returns undefined when it is. Rules: 1 to 128 characters of
 * letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit. Piko accepts any path
 * segment (its §15 #20); we reject the rest with a reason so that a typo fails at registration, not later.
 * An ID containing `.` is valid but can only be addressed with the `x-piko-endpoint` header, not by Host.
 */
export function endpointIdProblem(raw: string): string | undefined {
  if (raw.length === 0) return 'must not be empty';
  if (raw.length > ENDPOINT_ID_MAX_LENGTH) return `must be at most ${ENDPOINT_ID_MAX_LENGTH} characters`;
  if (!ENDPOINT_ID_CHARS.test(raw)) {
    return 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit';
  }
  return undefined;
}

/** Validates `raw` as an endpoint ID; throws a DomainError `INVALID_ENDPOINT_ID` naming the problem. */
export function parseEndpointId(raw: string): EndpointId {
  const problem = endpointIdProblem(raw);
  if (problem !== undefined) {
    throw new DomainError('INVALID_ENDPOINT_ID', `invalid endpoint id ${JSON.stringify(raw)}: ${problem}`);
  }
  return raw as EndpointId;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Derives the endpoint ID from a `Host` header value, as Piko does: strip the port; an IP literal or a
 * single-label host (`localhost`) names no endpoint; otherwise the first label is the ID
 * (`foo.piko.example.com:8000` → `foo`). Returns undefined when the host names no valid endpoint.
 */
export function endpointIdFromHost(host: string | undefined): EndpointId | undefined {
  if (host === undefined || host.length === 0) return undefined;
  if (host.startsWith('[')) return undefined; // IPv6 literal, with or without a port
  const colon = host.lastIndexOf(':');
  const name = colon >= 0 ? host.slice(0, colon) : host;
  if (name.length === 0 || IPV4.test(name)) return undefined;
  const dot = name.indexOf('.');
  if (dot <= 0) return undefined;
  const label = name.slice(0, dot);
  return endpointIdProblem(label) === undefined ? (label as EndpointId) : undefined;
}
