import express, { type RequestHandler, type Response, type Router } from 'express';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { ReloadingHttpsAgent, type ClientTlsSource } from '../../platform/tls/reloading-https-agent.js';

import type { Node } from '../../../domain/node/node.js';
import type { ClusterStatusSource, GossipNode } from './cluster-status.js';

/** One row of `GET /status/cluster/nodes`, with Piko's JSON field names. */
export interface NodeSummaryJson {
  readonly id: string;
  readonly status: string;
  readonly proxy_addr: string;
  readonly admin_addr: string;
  /** Number of endpoints with at least one listener on the node. */
  readonly endpoints: number;
  /** Listeners summed over the node's endpoints. */
  readonly upstreams: number;
}

/** `GET /status/cluster/nodes/:id`: the node with its endpoint map, `null` when it has none (as Go's nil map). */
export interface NodeJson {
  readonly id: string;
  readonly status: string;
  readonly proxy_addr: string;
  readonly admin_addr: string;
  readonly endpoints: Readonly<Record<string, number>> | null;
}

/** One row of `GET /status/gossip/nodes`. */
export interface GossipNodeSummaryJson {
  readonly id: string;
  readonly addr: string;
  readonly version: number;
  readonly left: boolean;
  readonly unreachable: boolean;
  readonly expiry: string;
}

/** `GET /status/gossip/nodes/:id`: the summary plus `Entries` (capitalised: Piko's struct field has no JSON tag). */
export interface GossipNodeJson extends GossipNodeSummaryJson {
  readonly Entries: ReadonlyArray<{ key: string; value: string; version: number; internal: boolean; deleted: boolean }> | null;
}

/**
 * The cluster and gossip status routes of Piko's admin port (§3.3), with Piko's JSON field names and types so
 * that `piko server status cluster nodes|node` and `status gossip nodes|node` work against this node:
 *
 * | Route | Answer |
 * |---|---|
 * | `GET /status/cluster/nodes` | {@link NodeSummaryJson}[] sorted by ID |
 * | `GET /status/cluster/nodes/local` | the local {@link NodeJson} |
 * | `GET /status/cluster/nodes/:id` | that {@link NodeJson}, or 404 `{"error":"node not found"}` |
 * | `GET /status/gossip/nodes` | {@link GossipNodeSummaryJson}[] sorted by ID |
 * | `GET /status/gossip/nodes/:id` | that {@link GossipNodeJson}, or 404 `{"error":"node not found"}` |
 *
 * (Piko answers its 404s with an empty body; its CLI reads only the status.)
 */
export function createClusterStatusRouter(source: ClusterStatusSource): Router {
  const router = express.Router();
  router.get('/status/cluster/nodes', (_req, res) => {
    res.status(200).json(sortById(source.nodes()).map(nodeSummaryJson));
  });
  router.get('/status/cluster/nodes/:id', (req, res) => {
    const id = req.params.id === 'local' ? source.localNodeId : req.params.id;
    const node = source.nodes().find((n) => n.id === id);
    if (node === undefined) notFound(res);
    else res.status(200).json(nodeJson(node));
  });
  router.get('/status/gossip/nodes', (_req, res) => {
    res.status(200).json(sortById(source.gossipNodes()).map(gossipSummaryJson));
  });
  router.get('/status/gossip/nodes/:id', (req, res) => {
    const node = source.gossipNodes().find((n) => n.id === req.params.id);
    if (node === undefined) notFound(res);
    else res.status(200).json(gossipNodeJson(node));
  });
  return router;
}

/** How {@link forwardInterceptor} reaches other nodes' admin ports. */
export interface ForwardOptions {
  /**
   * Client TLS for peers' admin ports (`admin.tls.client`), set when this node's admin port serves TLS: peers'
   * admin ports then serve TLS too (every node of a cluster agrees), so they are asked over https with it.
   */
  readonly peerTls?: ClientTlsSource;
  /** How long a peer has to answer in full before the request gets 504; default 10 s (Piko's). */
  readonly timeoutMs?: number;
}

/** The largest answer relayed from a peer; a larger one gets 502 (admin answers are a few kilobytes). */
const MAX_FORWARDED_BYTES = 32 * 1024 * 1024;

/**
 * Piko's `?forward=<nodeID>` interceptor, run before every admin route: no `forward`, or the local node's ID,
 * serves the request here; an unknown node gets 404 `{"error":"node not found"}`; a known node is asked the same
 * path (without `forward`) on its admin address, over https with `options.peerTls` when set, and its answer is
 * relayed (502 when it cannot be reached, its certificate is refused or its answer is over 32 MiB; 504 after
 * `options.timeoutMs`). The `Authorization` and `x-piko-authorization` headers are passed on, so the peer applies
 * its own admin auth.
 */
export function forwardInterceptor(source: ClusterStatusSource, options: ForwardOptions = {}): RequestHandler {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tls = options.peerTls;
  const agent = tls === undefined ? new HttpAgent() : new ReloadingHttpsAgent(tls);
  const send = tls === undefined ? httpRequest : httpsRequest;
  return (req, res, next) => {
    const raw = req.query.forward;
    const forward = typeof raw === 'string' ? raw : Array.isArray(raw) ? String(raw[0] ?? '') : '';
    if (forward === '' || forward === source.localNodeId) {
      next();
      return;
    }
    const node = source.nodes().find((n) => n.id === forward);
    if (node === undefined) {
      notFound(res);
      return;
    }
    const url = new URL(req.originalUrl, `${tls === undefined ? 'http' : 'https'}://${node.adminAddr}`);
    url.searchParams.delete('forward');
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'x-piko-authorization'] as const) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    };
    const fail = (why: 'timeout' | 'unreachable' | 'too large'): void => {
      if (!settle()) return;
      outgoing.destroy();
      res.status(why === 'timeout' ? 504 : 502).json({ error: `node ${forward} did not answer: ${why}` });
    };
    const outgoing = send(url, { agent, headers }, (answer) => {
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_FORWARDED_BYTES) fail('too large');
        else chunks.push(chunk);
      });
      answer.on('error', () => fail('unreachable'));
      answer.on('end', () => {
        if (!settle()) return;
        res.status(answer.statusCode ?? 502).type(answer.headers['content-type'] ?? 'application/json').send(Buffer.concat(chunks));
      });
    });
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    outgoing.on('error', () => fail('unreachable'));
    // The client went away first: stop asking the peer.
    res.on('close', () => {
      if (settle()) outgoing.destroy();
    });
    outgoing.end();
  };
}

/** The JSON row of `GET /status/cluster/nodes`. */
export function nodeSummaryJson(node: Node): NodeSummaryJson {
  let upstreams = 0;
  for (const listeners of node.endpoints.values()) upstreams += listeners;
  return {
    id: node.id,
    status: node.status,
    proxy_addr: node.proxyAddr,
    admin_addr: node.adminAddr,
    endpoints: node.endpoints.size,
    upstreams,
  };
}

/** The JSON of `GET /status/cluster/nodes/:id`. */
export function nodeJson(node: Node): NodeJson {
  return {
    id: node.id,
    status: node.status,
    proxy_addr: node.proxyAddr,
    admin_addr: node.adminAddr,
    endpoints: node.endpoints.size === 0 ? null : Object.fromEntries(node.endpoints),
  };
}

function gossipSummaryJson(node: GossipNode): GossipNodeSummaryJson {
  return {
    id: node.id,
    addr: node.addr,
    version: node.version,
    left: node.left,
    unreachable: node.unreachable,
    expiry: node.expiry,
  };
}

function gossipNodeJson(node: GossipNode): GossipNodeJson {
  const entries = [...node.entries]
    .sort((a, b) => a.version - b.version)
    .map(({ key, value, version, internal, deleted }) => ({ key, value, version, internal, deleted }));
  return { ...gossipSummaryJson(node), Entries: entries.length === 0 ? null : entries };
}

function sortById<T extends { readonly id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function notFound(res: Response): void {
  res.status(404).json({ error: 'node not found' });
}
