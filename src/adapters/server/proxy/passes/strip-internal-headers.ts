import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers that belong to the tunnel and must never reach the upstream service: the tunnel's own token and
 * routing hints. Piko passes all of them on (its §15 #8); we strip them at the edge.
 */
export const INTERNAL_HEADERS = ['x-piko-authorization', 'x-piko-endpoint', 'x-piko-forward', 'x-piko-hop-proof', 'x-piko-tenant-id'] as const;

/** Removes the internal headers from `headers` in place. */
export function stripInternalHeaders(headers: IncomingHttpHeaders): void {
  for (const name of INTERNAL_HEADERS) {
    if (name in headers) delete headers[name];
  }
}
