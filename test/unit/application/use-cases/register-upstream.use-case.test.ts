import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { CONNECTED, REGISTERED, harness } from './harness.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

describe('RegisterUpstream', () => {
  describe('.execute', () => {
    describe('having a new connection', () => {
      it('adds it to the directory', () => {
        const h = harness();
        h.register.execute(new FakeUpstreamConnection('u1', ep));
        assert.equal(h.directory.listeners(ep), 1);
        assert.equal(h.directory.connectionCount(), 1);
        assert.deepEqual(h.directory.endpointCounts(), { [ep]: 1 });
      });

      it('publishes the new listener count of its endpoint', () => {
        const h = harness();
        h.register.execute(new FakeUpstreamConnection('u1', ep));
        h.register.execute(new FakeUpstreamConnection('u2', ep));
        h.register.execute(new FakeUpstreamConnection('u3', other));
        assert.deepEqual(h.membership.published, [
          { endpointId: ep, listeners: 1 },
          { endpointId: ep, listeners: 2 },
          { endpointId: other, listeners: 1 },
        ]);
      });

      it('counts connections, and endpoints once each', () => {
        const h = harness();
        h.register.execute(new FakeUpstreamConnection('u1', ep));
        h.register.execute(new FakeUpstreamConnection('u2', ep));
        h.register.execute(new FakeUpstreamConnection('u3', other));
        assert.equal(h.metrics.value(CONNECTED), 3);
        assert.equal(h.metrics.value(REGISTERED), 2);
      });

      it('logs the connection with its endpoint, address and ID', () => {
        const h = harness();
        h.register.execute(new FakeUpstreamConnection('u1', ep, '192.0.2.7:4000'));
        const [entry] = h.log.filter({ message: 'upstream connected' });
        assert.deepEqual(entry?.fields, { 'endpoint-id': ep, 'client-ip': '192.0.2.7:4000', 'upstream-id': 'u1' });
        assert.equal(entry?.level, 'info');
      });
    });

    describe('having a connection already registered', () => {
      it('changes nothing: counted once, published once, logged once', () => {
        const h = harness();
        const conn = new FakeUpstreamConnection('u1', ep);
        h.register.execute(conn);
        h.register.execute(conn);
        assert.equal(h.directory.listeners(ep), 1);
        assert.equal(h.membership.published.length, 1);
        assert.equal(h.metrics.value(CONNECTED), 1);
        assert.equal(h.metrics.value(REGISTERED), 1);
        assert.equal(h.log.filter({ message: 'upstream connected' }).length, 1);
      });
    });
  });
});
