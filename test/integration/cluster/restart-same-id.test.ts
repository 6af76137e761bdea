import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { clusterNodes, nodePorts, poll, startClusterNode, type NodePorts } from '../../support/cluster/loopback-cluster.js';
import { fetchRaw, startService } from '../../support/http.js';
import { startAgent, type Proc } from '../../support/processes.js';

/**
 * A node restarted with the same node ID and gossip address (a rolling restart) starts a new life without
 * endpoints; its peers must not keep routing to it on the strength of its previous life's endpoint entries.
 */
describe('a node restarted with the same node ID', { timeout: 90_000 }, () => {
  const procs: Proc[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  });

  it(
    'is listed by its peers without the endpoints of its previous life',
    // node-a used to list node-b's new life with its previous life's endpoint in most runs. A member back from
    // `left` first showed no endpoints until any state change (1 failure in 8 runs remained); now until its state
    // epoch differs from the one it left with (0 failures in 12 runs). Kept todo until it has run longer.
    { todo: 'was rare (1 run in 8); 0 in 12 since the epoch rule: kept todo until it has run longer' },
    async () => {
      const service = await startService((req, res) => res.end(`svc ${req.url}`));
      try {
        const a = await nodePorts('node-a');
        const b = await nodePorts('node-b');
        const start = async (n: NodePorts, join: string[]): Promise<Proc> => {
          const p = await startClusterNode(n, join);
          procs.push(p);
          return p;
        };
        await start(a, []);
        const b1 = await start(b, [a.gossip]);
        const agent = await startAgent(['http', 'web', `127.0.0.1:${service.port}`, '--connect.url', `http://${b.upstream}`]);
        procs.push(agent);
        const endpointsOfB = async (): Promise<number | undefined> => (await clusterNodes(a.admin))?.find((r) => r.id === 'node-b' && r.status === 'active')?.endpoints;
        await poll(async () => (await endpointsOfB()) === 1, 15_000, 'node-b listed on node-a with its endpoint');

        // The agent goes away while node-b restarts, so the new life of node-b never has the endpoint.
        assert.equal(await b1.stop('SIGTERM'), 0);
        await agent.stop('SIGKILL');
        const restarted = start(b, [a.gossip]);
        // Sample node-a's view while the new life joins: it must never list node-b active with an endpoint.
        const seen: number[] = [];
        const until = Date.now() + 6_000;
        while (Date.now() < until) {
          const e = await endpointsOfB();
          if (e !== undefined) seen.push(e);
          await new Promise((r) => setTimeout(r, 5));
        }
        await restarted;
        assert.ok(seen.length > 0, 'the new life of node-b became active on node-a');
        assert.deepEqual([...new Set(seen)], [0], `node-a's view of the active node-b over time: ${seen.join(',')}`);
        const res = await fetchRaw(a.proxy, { path: '/x', headers: { 'x-piko-endpoint': 'web' } });
        assert.equal(res.status, 502, 'no upstream anywhere: answered at once by node-a (no upstream wait configured)');
      } finally {
        await service.close();
      }
    },
  );
});
