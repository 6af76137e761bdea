import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Route } from '../../../../src/domain/routing/routing-table.js';
import type { UpstreamConnection } from '../../../../src/application/ports/upstream-transport.port.js';
import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';
import { REMOTE_REQUESTS, UPSTREAM_REQUESTS, harness, type UseCaseHarness } from './harness.js';

const ep = EndpointFixtures.any;

function where(route: Route<UpstreamConnection> | undefined): string | undefined {
  if (route === undefined) return undefined;
  return route.kind === 'local' ? `local:${route.upstream.id}` : `remote:${route.node.id}`;
}

function withLocal(...ids: string[]): { h: UseCaseHarness; conns: FakeUpstreamConnection[] } {
  const h = harness([NodeFixtures.holding('node-b', ep, 1)]);
  const conns = ids.map((id) => new FakeUpstreamConnection(id, ep));
  for (const c of conns) h.register.execute(c);
  return { h, conns };
}

describe('RouteRequest', () => {
  describe('.execute', () => {
    describe('having local upstreams', () => {
      it('picks them round-robin and counts each as an upstream request', () => {
        const { h } = withLocal('a', 'b');
        const picks = Array.from({ length: 3 }, () => where(h.route.execute({ endpointId: ep, forwarded: false })));
        assert.deepEqual(picks, ['local:a', 'local:b', 'local:a']);
        assert.equal(h.metrics.value(UPSTREAM_REQUESTS), 3);
        assert.deepEqual(h.metrics.series(REMOTE_REQUESTS), []);
      });

      it('does not consult the cluster when a local upstream serves', () => {
        const { h } = withLocal('a');
        h.route.execute({ endpointId: ep, forwarded: false });
        assert.equal(h.membership.snapshotCalls, 0);
      });

      it('skips upstreams that stopped accepting', () => {
        const { h, conns } = withLocal('a', 'b', 'c');
        (conns[1] as FakeUpstreamConnection).accepting = false;
        const picks = Array.from({ length: 4 }, () => where(h.route.execute({ endpointId: ep, forwarded: true })));
        assert.deepEqual(picks, ['local:a', 'local:c', 'local:a', 'local:c']);
      });

      it('skips excluded upstreams', () => {
        const { h } = withLocal('a', 'b');
        const route = h.route.execute({ endpointId: ep, forwarded: true, exclude: new Set(['a']) });
        assert.equal(where(route), 'local:b');
      });

      it('returns a connection whose stream can be opened', () => {
        const { h, conns } = withLocal('a');
        const route = h.route.execute({ endpointId: ep, forwarded: false });
        assert.equal(route?.kind, 'local');
        if (route?.kind === 'local') route.upstream.openStream();
        assert.equal(conns[0]?.opened.length, 1);
      });
    });

    describe('having no usable local upstream', () => {
      it('goes to a remote node holding the endpoint and counts it by node', () => {
        const { h, conns } = withLocal('a');
        (conns[0] as FakeUpstreamConnection).accepting = false;
        const route = h.route.execute({ endpointId: ep, forwarded: false });
        assert.equal(where(route), 'remote:node-b');
        assert.equal(h.metrics.value(REMOTE_REQUESTS, { node_id: 'node-b' }), 1);
        assert.equal(h.metrics.value(UPSTREAM_REQUESTS), 0);
      });

      it('never makes a second hop for a forwarded request', () => {
        const h = harness([NodeFixtures.holding('node-b', ep, 1)]);
        assert.equal(h.route.execute({ endpointId: ep, forwarded: true }), undefined);
        assert.equal(h.membership.snapshotCalls, 0);
        assert.deepEqual(h.metrics.series(REMOTE_REQUESTS), []);
        assert.equal(h.metrics.value(UPSTREAM_REQUESTS), 0);
      });

      it('ignores the local node advertising the endpoint in the cluster view', () => {
        const h = harness();
        const conn = new FakeUpstreamConnection('a', ep);
        h.register.execute(conn); // the fake membership now lists the local node with this endpoint
        conn.accepting = false;
        assert.equal(h.route.execute({ endpointId: ep, forwarded: false }), undefined);
      });

      it('uses the injected random source to weight remote nodes', () => {
        const h = harness([NodeFixtures.holding('node-b', ep, 1), NodeFixtures.holding('node-c', ep, 3)]);
        h.random = 0.2;
        assert.equal(where(h.route.execute({ endpointId: ep, forwarded: false })), 'remote:node-b');
        h.random = 0.5;
        assert.equal(where(h.route.execute({ endpointId: ep, forwarded: false })), 'remote:node-c');
        assert.equal(h.metrics.value(REMOTE_REQUESTS, { node_id: 'node-b' }), 1);
        assert.equal(h.metrics.value(REMOTE_REQUESTS, { node_id: 'node-c' }), 1);
      });

      it('skips excluded nodes', () => {
        const h = harness([NodeFixtures.holding('node-b', ep, 1), NodeFixtures.holding('node-c', ep, 1)]);
        const route = h.route.execute({ endpointId: ep, forwarded: false, exclude: new Set(['node-b']) });
        assert.equal(where(route), 'remote:node-c');
      });

      it('sees remote nodes as the membership reports them at the time of the request', () => {
        const h = harness();
        assert.equal(h.route.execute({ endpointId: ep, forwarded: false }), undefined);
        h.membership.remoteNodes = [NodeFixtures.holding('node-late', ep, 2)];
        assert.equal(where(h.route.execute({ endpointId: ep, forwarded: false })), 'remote:node-late');
      });

      it('returns undefined and counts nothing when no node holds the endpoint', () => {
        const h = harness([NodeFixtures.holding('node-b', EndpointFixtures.other, 1), NodeFixtures.unreachable]);
        assert.equal(h.route.execute({ endpointId: ep, forwarded: false }), undefined);
        assert.equal(h.metrics.value(UPSTREAM_REQUESTS), 0);
        assert.deepEqual(h.metrics.series(REMOTE_REQUESTS), []);
      });
    });

    it('stops routing to an unregistered upstream', () => {
      const { h, conns } = withLocal('a', 'b');
      h.unregister.execute(conns[0] as FakeUpstreamConnection, 'closed');
      const picks = Array.from({ length: 2 }, () => where(h.route.execute({ endpointId: ep, forwarded: true })));
      assert.deepEqual(picks, ['local:b', 'local:b']);
    });
  });
});
