import type { IncomingHttpHeaders } from 'node:http';

/**
 * Why a request cannot be forwarded as it is, or undefined when it can. Two forms are refused with a 400 that
 * says so, rather than forwarded wrong:
 *
 * - the asterisk form (`OPTIONS *`, a question about the server as a whole): it has no path to put under the
 *   service's base path, and rewriting it to `OPTIONS /*` asks the service something else. nginx refuses it
 *   with a 400 as well.
 * - a request without `Host` (possible in HTTP/1.0): the next hop would have to make one up. nginx would send
 *   its upstream's name; we do not invent a value for the service to trust.
 */
export function requestTargetProblem(method: string | undefined, url: string | undefined, headers: IncomingHttpHeaders): string | undefined {
  if (url === '*') return `${method ?? 'OPTIONS'} * (a request for the server as a whole) is not supported: ask for a path`;
  if (headers.host === undefined || headers.host === '') return 'missing Host header';
  return undefined;
}
