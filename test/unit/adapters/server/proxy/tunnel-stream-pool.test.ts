import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';

import { UpstreamGoneError, type TunnelStream } from '../../../../../src/application/ports/upstream-transport.port.js';
import { IDLE_STREAM_TIMEOUT_MS } from '../../../../../src/adapters/server/proxy/stream-agent.js';
import { TunnelStreamPool, type TunnelStreamUser } from '../../../../../src/adapters/server/proxy/tunnel-stream-pool.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { FakeUpstreamConnection } from '../../../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../../../support/fixtures/endpoint.fixtures.js';

/** An upstream connection whose streams are duplex pairs; the far ends are kept for the test. */
class PairUpstream extends FakeUpstreamConnection {
  readonly far: Duplex[] = [];

  override openStream(): TunnelStream {
    this.openStreamCalls += 1;
    if (!this.accepting) throw new UpstreamGoneError('not accepting');
    const [near, far] = duplexPair();
    far.on('error', () => {});
    far.resume();
    this.far.push(far);
    return near;
  }
}

/** A user that records what it hears. */
function user(): TunnelStreamUser & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    onData: (c) => events.push(`data:${c.toString('latin1')}`),
    onEnd: () => events.push('end'),
    onGone: (err) => events.push(`gone:${err?.name ?? 'closed'}`),
  };
}

async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function setup(maxIdle?: number) {
  const clock = new FakeClock();
  const upstream = new PairUpstream('u1', EndpointFixtures.any);
  const pool = new TunnelStreamPool(upstream, clock, maxIdle);
  return { clock, upstream, pool };
}

describe('TunnelStreamPool', () => {
  describe('.acquire and .release', () => {
    it('hands out the most recently released stream first (LIFO), marked reused', () => {
      const { upstream, pool } = setup();
      const a = pool.acquire(user());
      const b = pool.acquire(user());
      assert.equal(a.reused, false);
      pool.release(a);
      pool.release(b);
      assert.equal(pool.idleCount, 2);
      const again = pool.acquire(user());
      assert.equal(again, b);
      assert.equal(again.reused, true);
      assert.equal(upstream.openStreamCalls, 2);
    });

    it('passes a held stream’s events to its user', async () => {
      const { upstream, pool } = setup();
      const u = user();
      pool.acquire(u);
      upstream.far[0]!.write('hi');
      upstream.far[0]!.destroy();
      await turns();
      assert.deepEqual(u.events, ['data:hi', 'gone:closed']);
    });

    it('throws UpstreamGoneError when no stream can be opened', () => {
      const { upstream, pool } = setup();
      upstream.accepting = false;
      assert.throws(() => pool.acquire(user()), UpstreamGoneError);
    });

    it('keeps at most maxIdle streams, ending the others', async () => {
      const { upstream, pool } = setup(1);
      const a = pool.acquire(user());
      const b = pool.acquire(user());
      pool.release(a);
      pool.release(b);
      assert.equal(pool.idleCount, 1);
      await turns();
      assert.equal(upstream.far[1]!.readableEnded, true, 'the stream beyond the bound was ended');
    });
  });

  describe('having idle streams', () => {
    it('ends them after the idle timeout, and not before', async () => {
      const { clock, upstream, pool } = setup();
      pool.release(pool.acquire(user()));
      clock.advance(IDLE_STREAM_TIMEOUT_MS - 1);
      assert.equal(pool.idleCount, 1);
      const later = pool.acquire(user());
      clock.advance(1);
      pool.release(later);
      clock.advance(IDLE_STREAM_TIMEOUT_MS - 1);
      assert.equal(pool.idleCount, 1, 'released again: its idle time starts over');
      clock.advance(1);
      assert.equal(pool.idleCount, 0);
      await turns();
      assert.equal(upstream.far[0]!.readableEnded, true);
    });

    it('drops one the agent closes, ends or writes to', async () => {
      const { upstream, pool } = setup();
      const streams = [pool.acquire(user()), pool.acquire(user()), pool.acquire(user())];
      for (const s of streams) pool.release(s);
      upstream.far[0]!.destroy();
      upstream.far[1]!.end();
      upstream.far[2]!.write('unasked');
      await turns();
      assert.equal(pool.idleCount, 0);
      assert.ok(streams.every((s) => s.dead));
      assert.equal(upstream.openStreamCalls, 3);
      pool.acquire(user());
      assert.equal(upstream.openStreamCalls, 4, 'a dropped stream is never handed out');
    });

    it('ends idle streams at once when the upstream stops accepting, and busy ones on release', async () => {
      const { upstream, pool } = setup();
      const idle = pool.acquire(user());
      const busy = pool.acquire(user());
      pool.release(idle);
      upstream.stopAccepting();
      assert.equal(pool.idleCount, 0);
      pool.release(busy);
      assert.equal(pool.idleCount, 0);
      await turns();
      assert.ok(upstream.far.every((f) => f.readableEnded));
    });
  });
});
