import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  REBALANCE_INTERVAL_MS,
  REBALANCE_SETTLE_ROUNDS,
  REBALANCED_SESSIONS_METRIC,
  RebalanceLoop,
  pickSessionsToShed,
} from '../../../../src/application/services/rebalance-loop.js';
import { RebalanceUpstreams, type RebalanceSettings } from '../../../../src/application/use-cases/rebalance-upstreams.use-case.js';
import type { EndpointId } from '../../../../src/domain/endpoint/endpoint-id.js';
import { FakeClock } from '../../../support/fakes/fake-clock.js';
import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { FakeUpstreamTransport } from '../../../support/fakes/fake-upstream-transport.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';
import { harness, type UseCaseHarness } from '../use-cases/harness.js';

const web = 'web' as EndpointId;
const api = 'api' as EndpointId;
const solo = 'solo' as EndpointId;
const EAGER: RebalanceSettings = { threshold: 0.1, shedRate: 1, minConns: 1 };

/** A node holding `perEndpoint` connections (registered through the use case and open on a fake transport). */
async function node(perEndpoint: ReadonlyArray<readonly [EndpointId, number]>, other = 0, settings = EAGER) {
  const h: UseCaseHarness = harness([NodeFixtures.build({ id: 'node-b', endpoints: other > 0 ? [[web, other]] : [] })]);
  await h.membership.start({ id: NodeFixtures.localId, proxyAddr: 'local.test:8000', adminAddr: 'local.test:8002' });
  const transport = new FakeUpstreamTransport((c) => h.unregister.execute(c, 'rebalance'));
  const connections: FakeUpstreamConnection[] = [];
  for (const [endpointId, n] of perEndpoint) {
    for (let i = 0; i < n; i += 1) {
      const c = new FakeUpstreamConnection(`${endpointId}-${i}`, endpointId);
      connections.push(c);
      transport.connections.add(c);
      h.register.execute(c);
    }
  }
  const clock = new FakeClock();
  const loop = new RebalanceLoop({
    rebalance: new RebalanceUpstreams(settings),
    membership: h.membership,
    directory: h.directory,
    transport,
    clock,
    metrics: h.metrics,
    log: h.log,
  });
  /** Moves `n` connections' agents to node-b, as the other node would gossip them. */
  const arriveOnB = (n: number): void => {
    h.membership.remoteNodes = [NodeFixtures.build({ id: 'node-b', endpoints: [[web, other + n]] })];
  };
  return { h, transport, connections, clock, loop, arriveOnB };
}

describe('pickSessionsToShed', () => {
  it('takes from the endpoint with the most listeners left, so an endpoint keeps a local listener as long as possible', () => {
    const conns = [
      new FakeUpstreamConnection('w1', web),
      new FakeUpstreamConnection('s1', solo),
      new FakeUpstreamConnection('w2', web),
      new FakeUpstreamConnection('a1', api),
      new FakeUpstreamConnection('w3', web),
      new FakeUpstreamConnection('a2', api),
    ];
    assert.deepEqual(pickSessionsToShed(conns, 3).map((c) => c.id), ['w1', 'w2', 'a1']);
    assert.deepEqual(pickSessionsToShed(conns, 5).map((c) => c.id), ['w1', 'w2', 'a1', 'w3', 's1']);
  });

  it('never picks a connection that is not accepting, and stops when none is left', () => {
    const a = new FakeUpstreamConnection('a', web);
    const b = new FakeUpstreamConnection('b', web);
    b.accepting = false;
    assert.deepEqual(pickSessionsToShed([a, b], 5), [a]);
    assert.deepEqual(pickSessionsToShed([a, b], 0), []);
    assert.deepEqual(pickSessionsToShed([], 3), []);
  });
});

describe('RebalanceLoop', () => {
  describe('having 6 connections here and none on the other node (threshold 0.1, shed_rate 1, min_conns 1)', () => {
    it('sheds 3 by go-away one interval after start: unregistered at once, not closed, counted and logged once', async () => {
      const { h, transport, connections, clock, loop } = await node([
        [web, 2],
        [api, 2],
        [solo, 2],
      ]);
      loop.start();
      clock.advance(REBALANCE_INTERVAL_MS - 1);
      assert.equal(transport.shedConnections.length, 0, 'no round before one interval');
      clock.advance(1);
      assert.equal(transport.shedConnections.length, 3);
      const shed = connections.filter((c) => c.goAwayCalls === 1);
      assert.equal(shed.length, 3);
      assert.ok(shed.every((c) => !c.closed), 'go-away, not close: in-flight streams keep running');
      assert.deepEqual(new Set(shed.map((c) => c.endpointId)), new Set([web, api, solo]), 'one per endpoint: each keeps a listener here');
      assert.equal(h.directory.connectionCount(), 3);
      assert.equal(h.membership.localEndpoints.get(web), 1, 'the cluster is told the new count');
      assert.equal(h.metrics.value(REBALANCED_SESSIONS_METRIC), 3);
      const lines = h.log.filter({ level: 'info', message: 'rebalance: shedding upstream connections (go-away)' });
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.fields['shedding'], 3);
      assert.equal(lines[0]?.fields['avg-conns'], 3);
      loop.stop();
    });

    it('sheds no more once the agents show up on the other node, and none while the view has not caught up', async () => {
      const { transport, clock, loop, arriveOnB, h } = await node([[web, 6]]);
      loop.start();
      clock.advance(REBALANCE_INTERVAL_MS);
      assert.equal(transport.shedConnections.length, 3);
      // The other node has not gossiped its new count yet: the 3 in transit keep the average at 3.
      clock.advance(REBALANCE_INTERVAL_MS * (REBALANCE_SETTLE_ROUNDS - 1));
      assert.equal(transport.shedConnections.length, 3);
      arriveOnB(3);
      clock.advance(REBALANCE_INTERVAL_MS * 10);
      assert.equal(transport.shedConnections.length, 3);
      assert.equal(h.metrics.value(REBALANCED_SESSIONS_METRIC), 3);
      assert.equal(h.log.filter({ level: 'info', message: 'rebalance: shedding upstream connections (go-away)' }).length, 1);
      loop.stop();
    });
  });

  it('sheds nothing with Piko defaults below min_conns (50)', async () => {
    const { transport, clock, loop, h } = await node([[web, 6]], 0, { threshold: 0.1, shedRate: 0.005, minConns: 50 });
    loop.start();
    clock.advance(REBALANCE_INTERVAL_MS * 5);
    assert.equal(transport.shedConnections.length, 0);
    assert.equal(h.log.filter({ level: 'info' }).filter((e) => e.message.startsWith('rebalance')).length, 0);
    loop.stop();
  });

  it('runs no round after stop (shutdown), leaves no timer behind, and can be stopped twice', async () => {
    const { transport, clock, loop } = await node([[web, 6]]);
    loop.start();
    loop.start();
    assert.equal(clock.pending, 1, 'start is idempotent');
    assert.equal(loop.running, true);
    loop.stop();
    loop.stop();
    assert.equal(loop.running, false);
    clock.advance(REBALANCE_INTERVAL_MS * 10);
    assert.equal(transport.shedConnections.length, 0);
    assert.equal(clock.pending, 0);
  });

  it('stops from inside a round without scheduling another', async () => {
    const { clock, loop, h } = await node([[web, 6]]);
    h.membership.onChange(() => loop.stop());
    loop.start();
    clock.advance(REBALANCE_INTERVAL_MS);
    assert.equal(loop.running, false);
    assert.equal(clock.pending, 0);
  });

  it('logs a failing round and keeps running', async () => {
    const { clock, loop, h, transport } = await node([[web, 6]]);
    let fail = true;
    const shed = transport.shed.bind(transport);
    transport.shed = (c) => {
      if (fail) throw new Error('boom');
      return shed(c);
    };
    loop.start();
    clock.advance(REBALANCE_INTERVAL_MS);
    assert.equal(h.log.filter({ level: 'error', message: 'rebalance round failed' }).length, 1);
    fail = false;
    clock.advance(REBALANCE_INTERVAL_MS);
    assert.equal(transport.shedConnections.length, 3);
    loop.stop();
  });

  it('counts only the connections the transport actually shed', async () => {
    const { clock, loop, h, transport } = await node([[web, 6]]);
    transport.shed = () => false;
    loop.start();
    clock.advance(REBALANCE_INTERVAL_MS);
    assert.equal(h.metrics.value(REBALANCED_SESSIONS_METRIC), 0);
    assert.equal(h.log.filter({ level: 'info', message: 'rebalance: shedding upstream connections (go-away)' }).length, 0, 'no info line for a round that shed nothing');
    assert.equal(h.log.filter({ level: 'debug', message: 'rebalance: skip' })[0]?.fields['reason'], 'none-sheddable');
    loop.stop();
  });
});

describe('FakeUpstreamTransport.shed (the port contract the loop relies on)', () => {
  it('sends go-away on a connection it holds, once; refuses one it does not hold or that is leaving', () => {
    const transport = new FakeUpstreamTransport();
    const held = new FakeUpstreamConnection('held', web);
    transport.connections.add(held);
    assert.equal(transport.shed(held), true);
    assert.equal(held.goAwayCalls, 1);
    assert.equal(held.closed, false);
    assert.equal(transport.shed(held), false, 'already leaving');
    assert.equal(transport.shed(new FakeUpstreamConnection('stranger', web)), false);
    assert.equal(held.goAwayCalls, 1);
  });
});
