import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Route } from '../../domain/routing/routing-table.js';
import type { Logger } from '../ports/logger.port.js';
import { UpstreamGoneError, type UpstreamConnection } from '../ports/upstream-transport.port.js';
import type { RouteRequest } from './route-request.use-case.js';
import type { UnregisterUpstream } from './unregister-upstream.use-case.js';

/** What one attempt did: the request went out, or nothing was sent (so another upstream may take it). */
export type AttemptResult = { readonly sent: true } | { readonly sent: false; readonly error: Error };

/** The result of an attempt that sent the request. */
export const SENT: AttemptResult = { sent: true };

/** Upstreams tried per request before giving up. */
export const MAX_ATTEMPTS = 4;

/**
 * Routes a request or TCP tunnel and hands the route to `attempt`. When nothing could be sent (the chosen
 * upstream has just gone away: no stream could be opened on it), that upstream is unregistered and the next
 * one is tried, since the request never left. Resolves false when no upstream could take it.
 */
export class DispatchRequest {
  constructor(
    private readonly route: RouteRequest,
    private readonly unregister: UnregisterUpstream,
    private readonly log: Logger,
  ) {}

  async execute(
    endpointId: EndpointId,
    forwarded: boolean,
    attempt: (route: Route<UpstreamConnection>) => AttemptResult | Promise<AttemptResult>,
  ): Promise<boolean> {
    let tried: Set<string> | undefined;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const route = this.route.execute({ endpointId, forwarded, ...(tried !== undefined ? { exclude: tried } : {}) });
      if (route === undefined) return false;
      const result = await attempt(route);
      if (result.sent) return true;
      const id = route.kind === 'local' ? route.upstream.id : route.node.id;
      (tried ??= new Set()).add(id);
      if (route.kind === 'local' && result.error instanceof UpstreamGoneError) this.unregister.execute(route.upstream, 'gone');
      else this.log.warn('could not send to the chosen upstream', { 'endpoint-id': endpointId, error: result.error.message });
    }
    return false;
  }
}
