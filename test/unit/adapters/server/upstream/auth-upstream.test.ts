import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthGate, type Grant } from '../../../../../src/adapters/server/auth/auth-gate.js';
import { MAX_EXPIRY_STEP_MS, UpstreamAuth } from '../../../../../src/adapters/server/upstream/auth-upstream.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';
import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';

const START = 1_800_000_000_000;

/** A wall clock that follows the fake monotonic clock. */
function clocks() {
  const clock = new FakeClock();
  return { clock, wallClock: () => START + clock.now() };
}

function upstreamAuth(disconnectOnExpiry: boolean, leewayMs = 0) {
  const { clock, wallClock } = clocks();
  const log = new InMemoryLogger();
  const gate = new AuthGate({ verifierFor: () => undefined, wallClock, log, metrics: new InMemoryMetrics(), port: 'upstream' });
  return { auth: new UpstreamAuth(gate, { disconnectOnExpiry, leewayMs }, { clock, wallClock, log }), clock, log };
}

const grant = (expiresAt: number | undefined): Grant => ({ endpoints: undefined, expiresAt, subject: undefined, credentialHeader: 'authorization', token: 't', viaHop: false });

class Conn {
  closed = 0;
  readonly id = 'u1';
  readonly endpointId = 'web';
  close(): void {
    this.closed++;
  }
}

describe('UpstreamAuth', () => {
  describe('.watchExpiry', () => {
    it('closes the connection when the token expires, plus the leeway, and logs it', () => {
      const { auth, clock, log } = upstreamAuth(true, 2_000);
      const conn = new Conn();
      auth.watchExpiry(conn, grant(START + 10_000));
      clock.advance(11_999);
      assert.equal(conn.closed, 0);
      clock.advance(1);
      assert.equal(conn.closed, 1);
      assert.ok(log.entries.some((e) => e.message === 'upstream token expired' && e.fields['endpoint-id'] === 'web'));
    });

    it('reaches an expiry years away in steps no timer overflows', () => {
      const { auth, clock } = upstreamAuth(true);
      const conn = new Conn();
      const years = 3 * 365 * 24 * 60 * 60 * 1000;
      auth.watchExpiry(conn, grant(START + years));
      clock.advance(MAX_EXPIRY_STEP_MS);
      assert.equal(conn.closed, 0);
      assert.equal(clock.pending, 1, 'one timer at a time');
      clock.advance(years);
      assert.equal(conn.closed, 1);
    });

    it('does nothing once cancelled, without an expiry, or with disable_disconnect_on_expiry', () => {
      const on = upstreamAuth(true);
      const conn = new Conn();
      on.auth.watchExpiry(conn, grant(START + 1_000))();
      on.auth.watchExpiry(conn, grant(undefined));
      on.clock.advance(10_000);
      assert.equal(conn.closed, 0);
      const off = upstreamAuth(false);
      off.auth.watchExpiry(conn, grant(START + 1_000));
      off.clock.advance(10_000);
      assert.equal(conn.closed, 0);
    });

    it('closes at once a connection whose token expired while it was being accepted', () => {
      const { auth } = upstreamAuth(true);
      const conn = new Conn();
      auth.watchExpiry(conn, grant(START - 1));
      assert.equal(conn.closed, 1);
    });
  });
});
