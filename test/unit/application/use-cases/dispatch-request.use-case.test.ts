import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardOutcome, ForwardTarget } from '../../../../src/application/ports/forwarder.port.js';
import { UpstreamGoneError } from '../../../../src/application/ports/upstream-transport.port.js';
import { MAX_WAITERS, RouteWaiter } from '../../../../src/application/services/route-waiter.js';
import { DispatchRequest, MAX_ATTEMPTS } from '../../../../src/application/use-cases/dispatch-request.use-case.js';
import type { EndpointId } from '../../../../src/domain/endpoint/endpoint-id.js';
import { FakeClock } from '../../../support/fakes/fake-clock.js';
import { FakeUpstreamConnection } from '../../../support/fakes/fake-upstream-connection.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';
import { harness } from './harness.js';

const EP = 'app' as EndpointId;
const OK: ForwardOutcome = { kind: 'ok', status: 200 };
const idOf = (t: ForwardTarget): string => (t.kind === 'upstream' ? t.upstream.id : t.nodeId);

function setup(count: number, waitMs = 0) {
  const h = harness();
  const clock = new FakeClock();
  const upstreams = Array.from({ length: count }, (_, i) => new FakeUpstreamConnection(`u${i}`, EP));
  for (const u of upstreams) h.register.execute(u);
  const waiter = new RouteWaiter(h.directory, h.membership, clock, waitMs);
  return { h, clock, upstreams, waiter, dispatch: new DispatchRequest(h.route, h.unregister, h.log, waiter) };
}

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('DispatchRequest', () => {
  describe('.execute', () => {
    it('sends to the first target chosen when it takes the request, and returns its outcome', async () => {
      const { dispatch } = setup(2);
      const seen: string[] = [];
      const outcome = await dispatch.execute(EP, false, async (t) => (seen.push(idOf(t)), OK));
      assert.deepEqual(outcome, OK);
      assert.deepEqual(seen, ['u0']);
    });

    it('unregisters an upstream whose stream could not be opened and tries the next one', async () => {
      const { h, dispatch } = setup(2);
      const seen: string[] = [];
      const outcome = await dispatch.execute(EP, false, async (t) => {
        seen.push(idOf(t));
        return idOf(t) === 'u0' ? { kind: 'not-sent', error: new UpstreamGoneError() } : OK;
      });
      assert.deepEqual(outcome, OK);
      assert.deepEqual(seen, ['u0', 'u1']);
      assert.equal(h.directory.listeners(EP), 1, 'the gone upstream was unregistered');
    });

    it('keeps a target that took nothing for another reason, but does not try it twice for one request', async () => {
      const { h, dispatch } = setup(2);
      const seen: string[] = [];
      const outcome = await dispatch.execute(EP, false, async (t) => (seen.push(idOf(t)), { kind: 'not-sent', error: new Error('stream limit') }));
      assert.equal(outcome.kind, 'not-sent');
      assert.deepEqual(seen, ['u0', 'u1']);
      assert.equal(h.directory.listeners(EP), 2);
    });

    it('never retries a request that was sent, whatever happened to it', async () => {
      const { dispatch } = setup(3);
      let attempts = 0;
      const failed: ForwardOutcome = { kind: 'failed', status: 502, error: new Error('reset mid-response') };
      assert.deepEqual(await dispatch.execute(EP, false, async () => (attempts++, failed)), failed);
      assert.equal(attempts, 1);
    });

    it('gives up after MAX_ATTEMPTS targets', async () => {
      const { dispatch } = setup(MAX_ATTEMPTS + 2);
      let attempts = 0;
      const outcome = await dispatch.execute(EP, false, async () => (attempts++, { kind: 'not-sent', error: new Error('refused') }));
      assert.equal(outcome.kind, 'not-sent');
      assert.equal(attempts, MAX_ATTEMPTS);
    });

    it('answers no-route without an attempt when nothing serves the endpoint', async () => {
      const { dispatch } = setup(0);
      let attempts = 0;
      assert.deepEqual(await dispatch.execute(EP, false, async () => (attempts++, OK)), { kind: 'no-route' });
      assert.equal(attempts, 0);
    });

    it('sends to a node holding the endpoint when there is no local upstream, unless the request was forwarded', async () => {
      const { h, dispatch } = setup(0);
      h.membership.remoteNodes = [NodeFixtures.holding('node-b', EP, 1)];
      const targets: ForwardTarget[] = [];
      assert.deepEqual(await dispatch.execute(EP, false, async (t) => (targets.push(t), OK)), OK);
      assert.equal(targets[0]?.kind, 'node');
      assert.deepEqual(await dispatch.execute(EP, true, async (t) => (targets.push(t), OK)), { kind: 'no-route' }, 'one hop at most');
      assert.equal(targets.length, 1);
    });

    it('tries another node when the first refused the connection (nothing sent)', async () => {
      const { h, dispatch } = setup(0);
      h.membership.remoteNodes = [NodeFixtures.holding('node-b', EP, 1), NodeFixtures.holding('node-c', EP, 1)];
      const seen: string[] = [];
      const outcome = await dispatch.execute(EP, false, async (t) => {
        seen.push(idOf(t));
        return seen.length === 1 ? { kind: 'not-sent', error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) } : OK;
      });
      assert.deepEqual(outcome, OK);
      assert.deepEqual(seen, ['node-b', 'node-c']);
    });
  });

  describe('having proxy.upstream_wait', () => {
    it('holds a request until an upstream registers, then sends it there', async () => {
      const { h, dispatch, clock } = setup(0, 5_000);
      const seen: string[] = [];
      const pending = dispatch.execute(EP, false, async (t) => (seen.push(idOf(t)), OK));
      await settle();
      assert.deepEqual(seen, [], 'waiting');
      clock.advance(1_000);
      h.register.execute(new FakeUpstreamConnection('late', EP));
      assert.deepEqual(await pending, OK);
      assert.deepEqual(seen, ['late']);
    });

    it('holds a request until a node holding the endpoint joins', async () => {
      const { h, dispatch } = setup(0, 5_000);
      const pending = dispatch.execute(EP, false, async (t) => (t.kind === 'node' ? OK : { kind: 'not-sent', error: new Error('x') }));
      await settle();
      h.membership.remoteNodes = [NodeFixtures.holding('node-b', EP, 1)];
      assert.deepEqual(await pending, OK);
    });

    it('waits for a new upstream after every known target took nothing (its node died), then sends there', async () => {
      const { h, dispatch, clock } = setup(1, 5_000);
      const seen: string[] = [];
      const pending = dispatch.execute(EP, false, async (t) => {
        seen.push(idOf(t));
        return idOf(t) === 'u0' ? { kind: 'not-sent', error: new UpstreamGoneError() } : OK;
      });
      await settle();
      clock.advance(2_000);
      h.register.execute(new FakeUpstreamConnection('moved', EP));
      assert.deepEqual(await pending, OK);
      assert.deepEqual(seen, ['u0', 'moved']);
    });

    it('waits proxy.upstream_wait in all, however often the cluster changes meanwhile', async () => {
      const { h, dispatch, clock, waiter } = setup(0, 5_000);
      const pending = dispatch.execute(EP, false, async () => OK);
      for (let i = 0; i < 4; i++) {
        await settle();
        clock.advance(1_000);
        h.membership.remoteNodes = [NodeFixtures.holding(`other-${i}`, 'elsewhere' as EndpointId, 1)];
      }
      await settle();
      assert.equal(waiter.waiting, 1, 'woken by each change, waiting again before the deadline');
      clock.advance(1_000);
      assert.deepEqual(await pending, { kind: 'no-route' });
      assert.equal(waiter.waiting, 0);
    });

    it('does not wait when told not to (a body-less request another node forwarded: that node waits)', async () => {
      const { dispatch, waiter } = setup(0, 5_000);
      assert.deepEqual(await dispatch.execute(EP, true, async () => OK, { wait: false }), { kind: 'no-route' });
      assert.equal(waiter.waiting, 0);
    });

    it('answers no-route when nothing appears within the wait', async () => {
      const { dispatch, clock, waiter } = setup(0, 5_000);
      const pending = dispatch.execute(EP, false, async () => OK);
      await settle();
      assert.equal(waiter.waiting, 1);
      clock.advance(4_999);
      await settle();
      assert.equal(waiter.waiting, 1, 'still waiting before the deadline');
      clock.advance(1);
      assert.deepEqual(await pending, { kind: 'no-route' });
      assert.equal(waiter.waiting, 0);
    });

    it('does not wait when it is off (the default)', async () => {
      const { dispatch, waiter } = setup(0, 0);
      assert.equal(waiter.enabled, false);
      assert.deepEqual(await dispatch.execute(EP, false, async () => OK), { kind: 'no-route' });
    });

    it('bounds the number of waiting requests: past MAX_WAITERS a request fails at once', async () => {
      const { dispatch, clock, waiter } = setup(0, 5_000);
      const pending = Array.from({ length: MAX_WAITERS }, () => dispatch.execute(EP, false, async () => OK));
      await settle();
      assert.equal(waiter.waiting, MAX_WAITERS);
      assert.deepEqual(await dispatch.execute(EP, false, async () => OK), { kind: 'no-route' });
      clock.advance(5_000);
      await Promise.all(pending);
      assert.equal(waiter.waiting, 0);
    });
  });
});
