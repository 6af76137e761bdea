import { endpointIdProblem, type EndpointId } from '../../domain/endpoint/endpoint-id.js';

/** The endpoint a route path names (`…<route><id>`, any base path before it), or why it names none. */
export type PathEndpoint =
  | { readonly kind: 'other' }
  | { readonly kind: 'invalid'; readonly problem: string }
  | { readonly kind: 'ok'; readonly endpointId: EndpointId };

/**
 * Takes the endpoint ID from a request URL under `route` (`/piko/v1/upstream/`, `/_piko/v1/tcp/`). A base
 * path before the route is allowed, so a server behind a path-prefixing load balancer works; the query is
 * ignored; the ID is percent-decoded and validated.
 */
export function endpointFromPath(url: string | undefined, route: string): PathEndpoint {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const at = path.lastIndexOf(route);
  if (at < 0) return { kind: 'other' };
  let raw: string;
  try {
    raw = decodeURIComponent(path.slice(at + route.length));
  } catch {
    return { kind: 'invalid', problem: 'is not valid percent-encoding' };
  }
  const problem = endpointIdProblem(raw);
  return problem === undefined ? { kind: 'ok', endpointId: raw as EndpointId } : { kind: 'invalid', problem };
}
