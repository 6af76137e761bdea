import type { Counter, Gauge, Metrics } from '../../../application/ports/metrics.port.js';
import type { ClusterStatusSource } from './cluster-status.js';

/** Piko's cluster metric (§9.1): nodes in the cluster state by status, the local node included. */
export interface ClusterMetrics {
  readonly nodes: Gauge;
}

/**
 * Piko's gossip metrics (§9.1), with Piko's names, types and labels. A node that runs alone gossips with no
 * one, so the counters stay at zero until the gossip membership counts its traffic on them.
 */
export interface GossipMetrics {
  readonly connectionsInbound: Counter;
  readonly connectionsOutbound: Counter;
  readonly streamBytesInbound: Counter;
  readonly streamBytesOutbound: Counter;
  readonly packetBytesInbound: Counter;
  readonly packetBytesOutbound: Counter;
  readonly digestEntriesInbound: Counter;
  readonly digestEntriesOutbound: Counter;
  readonly deltaEntriesInbound: Counter;
  readonly deltaEntriesOutbound: Counter;
  /** Stored gossip entries, labelled `node_id`, `deleted`, `internal` (`"true"`/`"false"`). */
  readonly entries: Gauge;
}

/** Declares `piko_cluster_nodes{status}`. */
export function declareClusterMetrics(metrics: Metrics): ClusterMetrics {
  return {
    nodes: metrics.gauge({ name: 'piko_cluster_nodes', help: 'Number of nodes in the cluster state', labelNames: ['status'] }),
  };
}

/** Declares the eleven `piko_gossip_*` families. */
export function declareGossipMetrics(metrics: Metrics): GossipMetrics {
  const counter = (name: string, help: string): Counter => metrics.counter({ name: `piko_gossip_${name}`, help });
  return {
    connectionsInbound: counter('connections_inbound_total', 'Total number of incoming stream connections'),
    connectionsOutbound: counter('connections_outbound_total', 'Total number of outbound stream connections'),
    streamBytesInbound: counter('stream_bytes_inbound_total', 'Total number of read bytes via a stream connection'),
    streamBytesOutbound: counter('stream_bytes_outbound_total', 'Total number of written bytes via a stream connection'),
    packetBytesInbound: counter('packet_bytes_inbound_total', 'Total number of read bytes via a packet connection'),
    packetBytesOutbound: counter('packet_bytes_outbound_total', 'Total number of written bytes via a packet connection'),
    digestEntriesInbound: counter('digest_entries_inbound_total', 'Total number of inbound digest entries'),
    digestEntriesOutbound: counter('digest_entries_outbound_total', 'Total number of outbound digest entries'),
    deltaEntriesInbound: counter('delta_entries_inbound_total', 'Total number of inbound delta entries'),
    deltaEntriesOutbound: counter('delta_entries_outbound_total', 'Total number of outbound delta entries'),
    entries: metrics.gauge({
      name: 'piko_gossip_entries',
      help: 'Number of entries',
      labelNames: ['node_id', 'deleted', 'internal'],
    }),
  };
}

/**
 * Declares the cluster and gossip families on `metrics` and returns a hook that sets their gauges from
 * `source`; run it before each scrape (`PromMetrics.beforeCollect`). `piko_cluster_nodes` gets a series per
 * status that has had a node (a status whose nodes are all gone reads 0, as Piko's gauge does);
 * `piko_gossip_entries` a series per node and (`deleted`, `internal`) pair seen, likewise.
 */
export function clusterMetricsHook(metrics: Metrics, source: ClusterStatusSource): () => void {
  const cluster = declareClusterMetrics(metrics);
  const gossip = declareGossipMetrics(metrics);
  const seenStatuses = new Set<string>();
  const seenEntrySeries = new Map<string, { node_id: string; deleted: string; internal: string }>();
  return () => {
    const byStatus = new Map<string, number>();
    for (const node of source.nodes()) byStatus.set(node.status, (byStatus.get(node.status) ?? 0) + 1);
    for (const status of byStatus.keys()) seenStatuses.add(status);
    for (const status of seenStatuses) cluster.nodes.set(byStatus.get(status) ?? 0, { status });

    const counts = new Map<string, number>();
    for (const node of source.gossipNodes()) {
      for (const entry of node.entries) {
        const labels = { node_id: node.id, deleted: String(entry.deleted), internal: String(entry.internal) };
        const key = JSON.stringify(labels);
        seenEntrySeries.set(key, labels);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const [key, labels] of seenEntrySeries) gossip.entries.set(counts.get(key) ?? 0, labels);
  };
}
