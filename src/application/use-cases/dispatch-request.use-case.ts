import type { EndpointId } from '../../domain/endpoint/endpoint-id.js';
import type { Route } from '../../domain/routing/routing-table.js';
import type { ForwardOutcome, ForwardTarget } from '../ports/forwarder.port.js';
import type { Logger } from '../ports/logger.port.js';
import { UpstreamGoneError, type UpstreamConnection } from '../ports/upstream-transport.port.js';
import type { RouteWaiter } from '../services/route-waiter.js';
import type { RouteRequest } from './route-request.use-case.js';
import type { UnregisterUpstream } from './unregister-upstream.use-case.js';

/** How a dispatch ended: the forwarder's outcome of the last attempt, or no route at all. */
export type DispatchOutcome =
  | Exclude<ForwardOutcome, { kind: 'not-sent' }>
  /** Every target tried took nothing (each reported `not-sent`); the last reason. Nothing was written. */
  | { readonly kind: 'not-sent'; readonly error: Error }
  /** No local upstream and no node holds the endpoint (after `proxy.upstream_wait`, if set). Nothing was written. */
  | { readonly kind: 'no-route' };

/** Options of one dispatch. */
export interface DispatchOptions {
  /**
   * False to answer `no-route` at once instead of waiting `proxy.upstream_wait`: a body-less request forwarded by
   * another node, which tries another holder (or waits) itself when told that nothing was served here.
   */
  readonly wait?: boolean;
}

/** Targets tried per request before giving up. */
export const MAX_ATTEMPTS = 4;

/** Turns a routing decision into where the forwarder sends the request. */
export function targetOf(route: Route<UpstreamConnection>, endpointId: EndpointId): ForwardTarget {
  return route.kind === 'local'
    ? { kind: 'upstream', upstream: route.upstream }
    : { kind: 'node', nodeId: route.node.id, proxyAddr: route.node.proxyAddr, endpointId };
}

/**
 * The one request path of the proxy port, for HTTP requests, WebSocket upgrades and TCP tunnels alike: route,
 * send, and retry only what was never sent. When a target takes nothing (`not-sent`: its tunnel stream could not
 * be opened, or the peer node refused the connection), it is excluded and the next one is tried; an upstream
 * that has gone away is unregistered on the way. A request for an endpoint nobody serves, or whose every known
 * target took nothing, waits up to `proxy.upstream_wait` in all for an upstream to appear (an agent moving
 * between nodes). Anything else (a response, a
 * 502 or 504 written by the forwarder, a client gone) ends the dispatch: a request that left is never replayed.
 */
export class DispatchRequest {
  constructor(
    private readonly route: RouteRequest,
    private readonly unregister: UnregisterUpstream,
    private readonly log: Logger,
    private readonly waiter?: RouteWaiter,
  ) {}

  async execute(
    endpointId: EndpointId,
    forwarded: boolean,
    send: (target: ForwardTarget) => Promise<ForwardOutcome>,
    options: DispatchOptions = {},
  ): Promise<DispatchOutcome> {
    let tried: Set<string> | undefined;
    let last: DispatchOutcome = { kind: 'no-route' };
    let attempts = 0;
    let deadline: number | undefined;
    while (attempts < MAX_ATTEMPTS) {
      const route = this.route.execute({ endpointId, forwarded, ...(tried !== undefined ? { exclude: tried } : {}) });
      if (route === undefined) {
        // Nobody left to try: wait for an upstream to appear, also after every known target took nothing (the
        // node holding the agent died; the agent reconnects elsewhere). All waits share one deadline.
        if (options.wait !== false && this.waiter?.enabled === true && (await this.waiter.wait(endpointId, (deadline ??= this.waiter.deadline())))) continue;
        return last;
      }
      attempts++;
      const outcome = await send(targetOf(route, endpointId));
      if (outcome.kind !== 'not-sent') return outcome;
      last = outcome;
      (tried ??= new Set()).add(route.kind === 'local' ? route.upstream.id : route.node.id);
      if (route.kind === 'local' && outcome.error instanceof UpstreamGoneError) this.unregister.execute(route.upstream, 'gone');
      else this.log.warn('could not send to the chosen target', { 'endpoint-id': endpointId, target: route.kind === 'local' ? route.upstream.id : route.node.id, error: outcome.error.message });
    }
    return last;
  }
}
