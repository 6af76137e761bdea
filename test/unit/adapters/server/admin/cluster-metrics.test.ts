import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ClusterStatusSource, GossipNode } from '../../../../../src/adapters/server/admin/cluster-status.js';
import { SingleNodeClusterStatus, ZERO_TIME } from '../../../../../src/adapters/server/admin/cluster-status.js';
import { clusterMetricsHook } from '../../../../../src/adapters/server/admin/cluster-metrics.js';
import { PromMetrics } from '../../../../../src/adapters/platform/metrics/prom-metrics.adapter.js';
import type { Node } from '../../../../../src/domain/node/node.js';
import { FakeClusterMembership } from '../../../../support/fakes/fake-cluster-membership.js';
import { EndpointFixtures } from '../../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../../support/fixtures/node.fixtures.js';

/** Piko v0.9's cluster and gossip families, with their types (from a Piko server's /metrics). */
const PIKO_FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ['piko_cluster_nodes', 'gauge'],
  ['piko_gossip_connections_inbound_total', 'counter'],
  ['piko_gossip_connections_outbound_total', 'counter'],
  ['piko_gossip_delta_entries_inbound_total', 'counter'],
  ['piko_gossip_delta_entries_outbound_total', 'counter'],
  ['piko_gossip_digest_entries_inbound_total', 'counter'],
  ['piko_gossip_digest_entries_outbound_total', 'counter'],
  ['piko_gossip_entries', 'gauge'],
  ['piko_gossip_packet_bytes_inbound_total', 'counter'],
  ['piko_gossip_packet_bytes_outbound_total', 'counter'],
  ['piko_gossip_stream_bytes_inbound_total', 'counter'],
  ['piko_gossip_stream_bytes_outbound_total', 'counter'],
];

class StubSource implements ClusterStatusSource {
  readonly localNodeId = 'n1';
  nodeList: Node[] = [];
  gossip: GossipNode[] = [];
  nodes(): readonly Node[] {
    return this.nodeList;
  }
  gossipNodes(): readonly GossipNode[] {
    return this.gossip;
  }
}

async function scrape(metrics: PromMetrics): Promise<string> {
  return metrics.text();
}

describe('clusterMetricsHook', () => {
  it('declares every cluster and gossip family of Piko v0.9 with its type, with single-node values', async () => {
    const metrics = new PromMetrics();
    const membership = new FakeClusterMembership(NodeFixtures.localId);
    await membership.start({ id: NodeFixtures.localId, proxyAddr: 'local.test:8000', adminAddr: 'local.test:8002' });
    membership.setLocalEndpoint(EndpointFixtures.any, 1);
    metrics.beforeCollect(clusterMetricsHook(metrics, new SingleNodeClusterStatus(membership)));

    const text = await scrape(metrics);
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    for (const [name, type] of PIKO_FAMILIES) assert.equal(types.get(name), type, name);
    assert.match(text, /^piko_cluster_nodes\{status="active"\} 1$/m);
    assert.match(text, /^piko_gossip_connections_inbound_total 0$/m);
    assert.match(text, /^piko_gossip_entries\{node_id="node-local",deleted="false",internal="false"\} 3$/m);
  });

  it('keeps a status that has had nodes at 0 once they are gone, and counts tombstones apart', async () => {
    const metrics = new PromMetrics();
    const source = new StubSource();
    metrics.beforeCollect(clusterMetricsHook(metrics, source));
    source.nodeList = [NodeFixtures.build({ id: 'n1' }), NodeFixtures.unreachable];
    source.gossip = [
      {
        id: 'n1', addr: '', version: 2, left: false, unreachable: false, expiry: ZERO_TIME,
        entries: [
          { key: 'proxy_addr', value: 'x', version: 1, internal: false, deleted: false },
          { key: 'endpoint:a', value: '', version: 2, internal: false, deleted: true },
        ],
      },
    ];
    const first = await scrape(metrics);
    assert.match(first, /^piko_cluster_nodes\{status="unreachable"\} 1$/m);
    assert.match(first, /^piko_gossip_entries\{node_id="n1",deleted="true",internal="false"\} 1$/m);

    source.nodeList = [NodeFixtures.build({ id: 'n1' })];
    source.gossip = [];
    const second = await scrape(metrics);
    assert.match(second, /^piko_cluster_nodes\{status="active"\} 1$/m);
    assert.match(second, /^piko_cluster_nodes\{status="unreachable"\} 0$/m);
    assert.doesNotMatch(second, /status="left"/, 'a status never seen has no series');
    assert.match(second, /^piko_gossip_entries\{node_id="n1",deleted="true",internal="false"\} 0$/m);
  });
});
