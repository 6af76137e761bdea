import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The header by which a node vouches, to the node it forwards a request to, that it has authenticated the request
 * for the endpoint: `v1.<unix seconds>.<base64url HMAC-SHA256>`. Without it the hop marker (`x-piko-forward`)
 * grants nothing: anyone can send the marker, only cluster nodes hold the key. It never reaches a service.
 */
export const HOP_PROOF_HEADER = 'x-piko-hop-proof';

/** How far a proof's time may be from the receiver's clock (both ways), for clock skew and transit. */
export const HOP_PROOF_WINDOW_S = 60;

/**
 * The key nodes sign hops with, derived from `cluster.gossip.secret_key` (the secret every node of a cluster
 * already shares), so that a leaked proof says nothing about the gossip key. Undefined when no secret is set: then
 * nodes hand the client's token to each other instead, and every node verifies it.
 */
export function hopKeyFrom(gossipSecret: string): Buffer | undefined {
  if (gossipSecret === '') return undefined;
  return createHmac('sha256', gossipSecret).update('piko-ts proxy hop proof v1').digest();
}

const mac = (key: Buffer, endpointId: string, seconds: number): Buffer =>
  createHmac('sha256', key).update(`v1\n${endpointId}\n${seconds}`).digest();

/** A proof that this node authenticated a request for `endpointId` at `nowMs` (wall clock). */
export function signHop(key: Buffer, endpointId: string, nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000);
  return `v1.${seconds}.${mac(key, endpointId, seconds).toString('base64url')}`;
}

/**
 * Whether `proof` was made with `key` for `endpointId` within {@link HOP_PROOF_WINDOW_S} of `nowMs`. Compares in
 * constant time. A proof can be replayed within its window, for its endpoint only, by someone who can read the
 * traffic between nodes (who could read tokens too): put node-to-node traffic on TLS (`proxy.tls`).
 */
export function verifyHop(key: Buffer, proof: string | string[] | undefined, endpointId: string, nowMs: number): boolean {
  if (typeof proof !== 'string') return false;
  const match = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(proof);
  if (match === null) return false;
  const seconds = Number(match[1]);
  if (Math.abs(nowMs / 1000 - seconds) > HOP_PROOF_WINDOW_S) return false;
  const given = Buffer.from(match[2] ?? '', 'base64url');
  const expected = mac(key, endpointId, seconds);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
