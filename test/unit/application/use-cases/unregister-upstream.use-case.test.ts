import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { CONNECTED, REGISTERED, harness, type UseCaseHarness } from './harness.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

function withTwoOnOneEndpoint(): { h: UseCaseHarness; a: FakeUpstreamConnection; b: FakeUpstreamConnection } {
  const h = harness();
  const a = new FakeUpstreamConnection('a', ep);
  const b = new FakeUpstreamConnection('b', ep);
  h.register.execute(a);
  h.register.execute(b);
  h.register.execute(new FakeUpstreamConnection('c', other));
  h.membership.published.length = 0;
  return { h, a, b };
}

describe('UnregisterUpstream', () => {
  describe('.execute', () => {
    describe('having a registered connection', () => {
      it('removes it from the directory and returns true', () => {
        const { h, a } = withTwoOnOneEndpoint();
        assert.equal(h.unregister.execute(a, 'closed'), true);
        assert.equal(h.directory.listeners(ep), 1);
        assert.equal(h.directory.connectionCount(), 2);
      });

      it('publishes the lowered count, and 0 when the last listener leaves', () => {
        const { h, a, b } = withTwoOnOneEndpoint();
        h.unregister.execute(a, 'closed');
        h.unregister.execute(b, 'closed');
        assert.deepEqual(h.membership.published, [
          { endpointId: ep, listeners: 1 },
          { endpointId: ep, listeners: 0 },
        ]);
        assert.equal(h.membership.localEndpoints.has(ep), false);
        assert.deepEqual(h.directory.endpointCounts(), { [other]: 1 });
      });

      it('decrements the endpoint gauge only when its last listener leaves', () => {
        const { h, a, b } = withTwoOnOneEndpoint();
        h.unregister.execute(a, 'closed');
        assert.equal(h.metrics.value(CONNECTED), 2);
        assert.equal(h.metrics.value(REGISTERED), 2);
        h.unregister.execute(b, 'closed');
        assert.equal(h.metrics.value(CONNECTED), 1);
        assert.equal(h.metrics.value(REGISTERED), 1);
      });

      it('logs the disconnection with its reason', () => {
        const { h, a } = withTwoOnOneEndpoint();
        h.unregister.execute(a, 'go-away');
        const [entry] = h.log.filter({ message: 'upstream disconnected' });
        assert.deepEqual(entry?.fields, {
          'endpoint-id': ep,
          'client-ip': a.remoteAddress,
          'upstream-id': 'a',
          reason: 'go-away',
        });
      });
    });

    describe('having a connection unregistered twice', () => {
      // Piko decrements its gauges on both go-away and session close: its §15 #4.
      it('counts the removal once', () => {
        const { h, a, b } = withTwoOnOneEndpoint();
        assert.equal(h.unregister.execute(b, 'go-away'), true);
        assert.equal(h.unregister.execute(b, 'closed'), false);
        assert.equal(h.unregister.execute(a, 'closed'), true);
        assert.equal(h.unregister.execute(a, 'closed'), false);
        assert.equal(h.metrics.value(CONNECTED), 1);
        assert.equal(h.metrics.value(REGISTERED), 1);
        assert.equal(h.membership.published.length, 2);
        assert.equal(h.log.filter({ message: 'upstream disconnected' }).length, 2);
      });
    });

    describe('having a connection never registered', () => {
      it('returns false and touches nothing', () => {
        const { h } = withTwoOnOneEndpoint();
        assert.equal(h.unregister.execute(new FakeUpstreamConnection('stranger', ep), 'closed'), false);
        assert.equal(h.directory.listeners(ep), 2);
        assert.deepEqual(h.membership.published, []);
        assert.equal(h.metrics.value(CONNECTED), 3);
        assert.equal(h.metrics.value(REGISTERED), 2);
      });
    });

    it('lets a connection register again after it was unregistered', () => {
      const { h, a } = withTwoOnOneEndpoint();
      h.unregister.execute(a, 'closed');
      h.register.execute(a);
      assert.equal(h.directory.listeners(ep), 2);
      assert.equal(h.metrics.value(CONNECTED), 3);
    });
  });
});
