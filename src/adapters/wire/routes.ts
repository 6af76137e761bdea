/**
 * The routes both sides of the wire agree on (Piko §3): agents register on the upstream port's upstream route,
 * clients open TCP tunnels on the proxy port's TCP route. Each path follows any base path of the configured URL.
 */

/** Path of the upstream route, after any base path: `/piko/v1/upstream/:endpointId` (no underscore, as Piko). */
export const UPSTREAM_PATH = '/piko/v1/upstream/';

/** Path of the TCP route after any base path (Piko's `/_piko/v1/tcp/:endpointId`). */
export const TCP_PATH = '/_piko/v1/tcp/';

/**
 * Response header of the TCP route's upgrade by which a piko-ts server says it keeps half-close (an empty binary
 * message ends one direction). A Piko server does not send it and drops empty messages: clients then close both
 * directions when one ends, as Piko's own clients do.
 */
export const HALF_CLOSE_HEADER = 'x-piko-half-close';

/**
 * Set by a node on its 502 to a request another node forwarded to it when it served nothing (no local upstream,
 * nothing sent to any service) and the request has no body: the forwarding node takes it as "not sent" and tries
 * another holder, or waits `proxy.upstream_wait`, instead of passing the 502 on. Only read on answers from peers.
 */
export const UNSERVED_HEADER = 'x-piko-unserved';
