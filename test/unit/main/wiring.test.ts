import assert from 'node:assert/strict';
import type { ServiceIdentifier } from 'inversify';
import { describe, it } from 'node:test';
import { loadAgentConfig, loadForwardConfig } from '../../../src/adapters/platform/config/load-config.js';
import { GossipClusterMembership } from '../../../src/adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { buildAgentContainer } from '../../../src/main/create-agent.js';
import { buildServerContainer } from '../../../src/main/create-server.js';
import { buildForwardContainer } from '../../../src/main/forward.js';
import { TOKENS } from '../../../src/main/tokens.js';
import { loopbackServerConfig } from '../../support/cluster/in-process-node.js';
import { FakeClock } from '../../support/fakes/fake-clock.js';
import { FakeClusterMembership } from '../../support/fakes/fake-cluster-membership.js';
import { InMemoryLogger } from '../../support/fakes/in-memory-logger.js';

const config = <T>(r: { kind: string; config?: T }): T => {
  if (r.kind !== 'config' || r.config === undefined) throw new Error('expected a config');
  return r.config;
};

describe('composition roots (wiring)', () => {
  describe('server', () => {
    it('resolves every part from the modules, with the gossip membership by default (a node alone is a cluster of one)', () => {
      const c = buildServerContainer(loopbackServerConfig('node-w'), { logger: new InMemoryLogger() });
      assert.ok(c.get(TOKENS.ClusterMembership) instanceof GossipClusterMembership);
      const tokens: ServiceIdentifier<unknown>[] = [TOKENS.ProxyServer, TOKENS.UpstreamServer, TOKENS.Forwarder, TOKENS.DispatchRequest, TOKENS.RouteWaiter, TOKENS.ServerNode];
      for (const token of tokens) assert.ok(c.get(token), String(token.toString()));
      assert.equal(c.get(TOKENS.ServerNode), c.get(TOKENS.ServerNode), 'singletons');
    });

    it('swaps adapters: a fake membership, clock and logger reach the use cases', () => {
      const membership = new FakeClusterMembership();
      const clock = new FakeClock();
      const logger = new InMemoryLogger();
      const c = buildServerContainer(loopbackServerConfig('node-w'), { membership, clock, logger });
      assert.equal(c.get(TOKENS.ClusterMembership), membership);
      assert.equal(c.get(TOKENS.Clock), clock);
      assert.equal(c.get(TOKENS.Logger), logger);
      // The route use case reads the swapped membership.
      const route = c.get(TOKENS.RouteRequest).execute({ endpointId: 'x' as never, forwarded: false });
      assert.equal(route, undefined);
      assert.ok(membership.snapshotCalls > 0);
    });

    it('builds one container per node: two nodes share no state', () => {
      const a = buildServerContainer(loopbackServerConfig('node-a'), { logger: new InMemoryLogger() });
      const b = buildServerContainer(loopbackServerConfig('node-b'), { logger: new InMemoryLogger() });
      assert.notEqual(a.get(TOKENS.UpstreamDirectory), b.get(TOKENS.UpstreamDirectory));
      assert.notEqual(a.get(TOKENS.Metrics), b.get(TOKENS.Metrics));
    });
  });

  describe('agent and forward', () => {
    it('resolve their runtimes from the container, with swapped adapters', () => {
      const logger = new InMemoryLogger();
      const agent = buildAgentContainer(config(loadAgentConfig(['http', 'ep', '3000'], {})), { logger });
      assert.equal(agent.get(TOKENS.Logger), logger);
      assert.ok(agent.get(TOKENS.AgentRuntime));
      const fwd = buildForwardContainer(config(loadForwardConfig(['tcp', '127.0.0.1:0', 'ep'], {})), { logger });
      assert.ok(fwd.get(TOKENS.ForwardRuntime));
      assert.deepEqual(fwd.get(TOKENS.ForwardRuntime).addresses, [], 'nothing bound before start');
    });
  });
});
