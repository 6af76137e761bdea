import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UpstreamGoneError } from '../../../../src/application/ports/upstream-transport.port.js';
import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';

describe('UpstreamConnection', () => {
  describe('UpstreamGoneError', () => {
    it('is an Error with its own name and a default message', () => {
      const err = new UpstreamGoneError();
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'UpstreamGoneError');
      assert.equal(err.message, 'upstream is gone');
    });
  });

  // The port's contract, as the fake used by the use-case tests must honour it.
  describe('FakeUpstreamConnection', () => {
    describe('.openStream', () => {
      it('opens a new duplex stream per call while accepting', () => {
        const conn = new FakeUpstreamConnection('u1', EndpointFixtures.any);
        const s1 = conn.openStream();
        const s2 = conn.openStream();
        assert.notEqual(s1, s2);
        assert.equal(conn.opened.length, 2);
        assert.equal(typeof s1.write, 'function');
        assert.equal(typeof s1.read, 'function');
      });

      it('throws UpstreamGoneError once not accepting', () => {
        const conn = new FakeUpstreamConnection('u1', EndpointFixtures.any);
        conn.accepting = false;
        assert.throws(() => conn.openStream(), UpstreamGoneError);
        assert.equal(conn.openStreamCalls, 1);
        assert.equal(conn.opened.length, 0);
      });
    });

    describe('.goAway', () => {
      it('stops accepting new streams', () => {
        const conn = new FakeUpstreamConnection('u1', EndpointFixtures.any);
        conn.goAway();
        assert.equal(conn.accepting, false);
        assert.throws(() => conn.openStream(), UpstreamGoneError);
      });
    });

    describe('.close', () => {
      it('destroys every open stream and stops accepting', () => {
        const conn = new FakeUpstreamConnection('u1', EndpointFixtures.any);
        const stream = conn.openStream();
        conn.close();
        assert.equal(stream.destroyed, true);
        assert.equal(conn.accepting, false);
        assert.equal(conn.closed, true);
      });
    });
  });
});
