import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamGoneError } from '../../../../src/application/ports/upstream-transport.port.js';
import { DispatchRequest, MAX_ATTEMPTS, SENT } from '../../../../src/application/use-cases/dispatch-request.use-case.js';
import type { EndpointId } from '../../../../src/domain/endpoint/endpoint-id.js';
import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { harness } from './harness.js';

const EP = 'app' as EndpointId;

function setup(count: number) {
  const h = harness();
  const upstreams = Array.from({ length: count }, (_, i) => new FakeUpstreamConnection(`u${i}`, EP));
  for (const u of upstreams) h.register.execute(u);
  return { h, upstreams, dispatch: new DispatchRequest(h.route, h.unregister, h.log) };
}

describe('DispatchRequest', () => {
  describe('.execute', () => {
    it('sends to the first upstream chosen when it takes the request', async () => {
      const { dispatch } = setup(2);
      const seen: string[] = [];
      const sent = await dispatch.execute(EP, false, (r) => (seen.push(r.kind === 'local' ? r.upstream.id : r.node.id), SENT));
      assert.equal(sent, true);
      assert.deepEqual(seen, ['u0']);
    });

    it('unregisters an upstream that has gone away and tries the next one', async () => {
      const { h, dispatch } = setup(2);
      const seen: string[] = [];
      const sent = await dispatch.execute(EP, false, (r) => {
        const id = r.kind === 'local' ? r.upstream.id : r.node.id;
        seen.push(id);
        return id === 'u0' ? { sent: false, error: new UpstreamGoneError() } : SENT;
      });
      assert.equal(sent, true);
      assert.deepEqual(seen, ['u0', 'u1']);
      assert.equal(h.directory.listeners(EP), 1, 'the gone upstream was unregistered');
    });

    it('keeps an upstream that failed for another reason, but does not try it twice for the same request', async () => {
      const { h, dispatch } = setup(2);
      const seen: string[] = [];
      const sent = await dispatch.execute(EP, false, (r) => {
        seen.push(r.kind === 'local' ? r.upstream.id : r.node.id);
        return { sent: false, error: new Error('stream limit') };
      });
      assert.equal(sent, false);
      assert.deepEqual(seen, ['u0', 'u1']);
      assert.equal(h.directory.listeners(EP), 2);
    });

    it('gives up after MAX_ATTEMPTS upstreams', async () => {
      const { dispatch } = setup(MAX_ATTEMPTS + 2);
      let attempts = 0;
      const sent = await dispatch.execute(EP, false, () => (attempts++, { sent: false, error: new UpstreamGoneError() }));
      assert.equal(sent, false);
      assert.equal(attempts, MAX_ATTEMPTS);
    });

    it('resolves false without an attempt when the endpoint has no upstream', async () => {
      const { dispatch } = setup(0);
      let attempts = 0;
      assert.equal(await dispatch.execute(EP, false, () => (attempts++, SENT)), false);
      assert.equal(attempts, 0);
    });
  });
});
