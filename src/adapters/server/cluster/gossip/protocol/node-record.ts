/**
 * The keys a server node publishes in its gossip state, as Piko's syncer does (`proxy_addr`, `admin_addr`,
 * `endpoint:<id>` → listener count), and how to read them back. The left flag is not a key here: it is the
 * member status `left`, carried by every membership update and digest entry.
 */
export const NODE_STATE_KEYS = Object.freeze({
  proxyAddr: 'proxy_addr',
  adminAddr: 'admin_addr',
  endpointPrefix: 'endpoint:',
});

/** The state key of an endpoint's listener count. */
export const endpointKey = (endpointId: string): string => `${NODE_STATE_KEYS.endpointPrefix}${endpointId}`;

/** The value to publish for `listeners` (undefined deletes the key at 0, so the state does not keep it). */
export const endpointValue = (listeners: number): string | undefined =>
  listeners > 0 ? String(Math.floor(listeners)) : undefined;

/** A node's published record as read from its state. */
export interface NodeRecord {
  readonly proxyAddr: string | undefined;
  readonly adminAddr: string | undefined;
  /** Endpoint ID → listener count (only positive, well-formed counts). */
  readonly endpoints: ReadonlyMap<string, number>;
  /** True once both addresses are known: before that the node is "pending" and not routed to (as in Piko). */
  readonly complete: boolean;
}

/** Reads a node's record from its live state; keys it does not know are ignored. */
export function readNodeRecord(state: ReadonlyMap<string, string>): NodeRecord {
  const endpoints = new Map<string, number>();
  for (const [key, value] of state) {
    if (!key.startsWith(NODE_STATE_KEYS.endpointPrefix)) continue;
    const id = key.slice(NODE_STATE_KEYS.endpointPrefix.length);
    const n = /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : 0;
    if (id.length > 0 && n > 0) endpoints.set(id, n);
  }
  const proxyAddr = state.get(NODE_STATE_KEYS.proxyAddr) || undefined;
  const adminAddr = state.get(NODE_STATE_KEYS.adminAddr) || undefined;
  return { proxyAddr, adminAddr, endpoints, complete: proxyAddr !== undefined && adminAddr !== undefined };
}
