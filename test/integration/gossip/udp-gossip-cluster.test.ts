import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterSnapshot } from '../../../src/domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../src/domain/endpoint/endpoint-id.js';
import { asNodeId } from '../../../src/domain/node/node.js';
import { quantile, UdpCluster, waitFor, type UdpMember } from './udp-cluster.js';

/*
 * Gossip memberships on real UDP sockets of 127.0.0.1 in one process: joining through seeds (an address and a
 * DNS name), endpoint propagation, a crash (socket closed without leaving), a graceful leave, and a peer with the
 * wrong key. Deadlines are deadlock guards (10 s); the times are printed, not asserted.
 */

let cluster: UdpCluster;
beforeEach(() => {
  cluster = new UdpCluster();
});
afterEach(() => cluster.close());

const statusIn = (m: UdpMember, id: string): string | undefined => m.membership.snapshot().node(asNodeId(id))?.status;
const holds = (m: UdpMember, endpoint: EndpointId, id: string): boolean =>
  m.membership.snapshot().remoteCandidates(endpoint).some((c) => c.node.id === id);

async function threeNodes(): Promise<[UdpMember, UdpMember, UdpMember]> {
  const a = await cluster.start('node-a');
  const b = await cluster.start('node-b', { join: [a.seed] });
  // A DNS name as seed: `localhost` resolves to 127.0.0.1 (and maybe ::1, which a udp4 socket skips).
  const c = await cluster.start('node-c', { join: [`localhost:${a.membership.boundAddress?.port}`] });
  assert.equal((await b.membership.joined).joined, true);
  assert.equal((await c.membership.joined).joined, true);
  await waitFor('every node lists three active nodes', () =>
    [a, b, c].every((m) => m.membership.snapshot().nodes.filter((n) => n.status === 'active').length === 3),
  );
  return [a, b, c];
}

describe('gossip membership over UDP (3 nodes on 127.0.0.1)', () => {
  it('joins through seeds, and every node sees the endpoints of the others', async () => {
    const [a, b, c] = await threeNodes();
    const times: number[] = [];
    const trials = 20;
    for (let i = 0; i < trials; i += 1) {
      const owner = [a, b, c][i % 3] as UdpMember;
      const others = [a, b, c].filter((m) => m !== owner);
      const endpoint = `ep-${i}` as EndpointId;
      const t0 = performance.now();
      owner.membership.setLocalEndpoint(endpoint, 1 + (i % 4));
      times.push(await waitFor(`endpoint ${endpoint} reaches the others`, () => others.every((m) => holds(m, endpoint, owner.membership.localNodeId))));
      const candidate = others[0]?.membership.snapshot().remoteCandidates(endpoint)[0];
      assert.equal(candidate?.weight, 1 + (i % 4));
      assert.equal(candidate?.node.proxyAddr, `${owner.membership.localNodeId}.test:8000`);
    }
    console.log(
      `# endpoint propagation to both other nodes over ${trials} trials: p50 ${quantile(times, 0.5).toFixed(1)} ms, ` +
        `p99 ${quantile(times, 0.99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    for (const m of [a, b, c]) {
      assert.ok(m.membership.stats.packetsIn > 0 && m.membership.stats.packetsOut > 0);
      assert.equal(m.membership.stats.sendErrors, 0);
      assert.equal(m.metrics.value('piko_gossip_packet_bytes_outbound_total'), m.membership.stats.bytesOut);
    }
  });

  it('marks a node whose socket closed without leaving unreachable on the others', async () => {
    const [a, b, c] = await threeNodes();
    c.membership.setLocalEndpoint('killed-ep' as EndpointId, 2);
    await waitFor('endpoint known', () => holds(a, 'killed-ep' as EndpointId, 'node-c') && holds(b, 'killed-ep' as EndpointId, 'node-c'));
    const t0 = performance.now();
    await c.membership.close();
    const detected: Record<string, number> = {};
    await waitFor('both survivors mark node-c unreachable', () => {
      for (const m of [a, b]) {
        if (detected[m.membership.localNodeId] === undefined && statusIn(m, 'node-c') === 'unreachable') {
          detected[m.membership.localNodeId] = performance.now() - t0;
        }
      }
      return Object.keys(detected).length === 2;
    });
    assert.deepEqual(a.membership.snapshot().remoteCandidates('killed-ep' as EndpointId), [], 'no longer routed to');
    console.log(`# time to detect a closed node (3 real nodes): first ${Math.min(...Object.values(detected)).toFixed(0)} ms, every survivor ${Math.max(...Object.values(detected)).toFixed(0)} ms`);
  });

  it('shows a graceful leave as left at once on the others, and the node never comes back', async () => {
    const [a, b, c] = await threeNodes();
    b.membership.setLocalEndpoint('leaving-ep' as EndpointId, 1);
    await waitFor('endpoint known', () => holds(a, 'leaving-ep' as EndpointId, 'node-b') && holds(c, 'leaving-ep' as EndpointId, 'node-b'));
    const seen: ClusterSnapshot[] = [];
    for (const m of [a, c]) m.membership.onChange((s) => seen.push(s));
    const t0 = performance.now();
    const leaving = b.membership.leave();
    const took = await waitFor('both others mark node-b left', () => statusIn(a, 'node-b') === 'left' && statusIn(c, 'node-b') === 'left');
    await leaving;
    const closedAfter = performance.now() - t0;
    assert.deepEqual(a.membership.snapshot().remoteCandidates('leaving-ep' as EndpointId), []);
    await sleep(3_000);
    const statuses = seen.map((s) => s.node(asNodeId('node-b'))?.status ?? 'gone');
    const firstLeft = statuses.indexOf('left');
    assert.ok(firstLeft >= 0);
    assert.ok(statuses.slice(firstLeft).every((s) => s === 'left' || s === 'gone'), `after left: ${statuses.join(',')}`);
    assert.equal(statusIn(a, 'node-b'), 'left');
    assert.equal(statusIn(c, 'node-b'), 'left');
    console.log(`# graceful leave: left on both others after ${took.toFixed(1)} ms; the leaving socket closed after ${closedAfter.toFixed(0)} ms`);
  });

  it('works over IPv6 loopback ([::1], udp6) when the machine has it', async (t) => {
    let a: UdpMember;
    try {
      a = await cluster.start('v6-a', { bindAddr: '[::1]:0' });
    } catch (err) {
      t.skip(`no IPv6 loopback here: ${String(err)}`);
      return;
    }
    const b = await cluster.start('v6-b', { bindAddr: '[::1]:0', join: [`[::1]:${a.membership.boundAddress?.port}`] });
    assert.equal((await b.membership.joined).joined, true);
    assert.equal(a.membership.advertiseAddr, `[::1]:${a.membership.boundAddress?.port}`);
    b.membership.setLocalEndpoint('v6-ep' as EndpointId, 1);
    await waitFor('the endpoint crosses IPv6', () => holds(a, 'v6-ep' as EndpointId, 'v6-b'));
  });

  it('drops and counts the datagrams of a peer with the wrong key; it never becomes a member', async () => {
    const key = { secretKey: 'cluster-secret' };
    const a = await cluster.start('key-a', key);
    const b = await cluster.start('key-b', { ...key, join: [a.seed] });
    assert.equal((await b.membership.joined).joined, true);
    const intruder = await cluster.start('intruder', { secretKey: 'a-guess', join: [a.seed], joinTimeoutMs: 1_500 });
    const result = await intruder.membership.joined;
    assert.equal(result.joined, false);
    await waitFor('rejections counted', () => (a.membership.stats.rejected['bad-tag'] ?? 0) > 0);
    assert.equal(a.metrics.value('piko_gossip_packets_rejected_total', { reason: 'bad-tag' }), a.membership.stats.rejected['bad-tag']);
    assert.ok(a.logger.filter({ level: 'warn', message: 'gossip datagram failed authentication' }).length >= 1);
    assert.equal(a.membership.snapshot().node(asNodeId('intruder')), undefined);
    assert.equal(a.membership.gossip?.member('intruder'), undefined);
    assert.equal(statusIn(a, 'key-b'), 'active');
    console.log(`# wrong-key peer: ${a.membership.stats.rejected['bad-tag']} datagrams dropped as bad-tag, joined: ${result.joined}`);
  });
});
