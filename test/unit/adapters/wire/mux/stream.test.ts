import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { MuxSessionClosedError } from '../../../../../src/adapters/wire/mux/errors.js';
import { MuxSession } from '../../../../../src/adapters/wire/mux/session.js';
import { MuxStream } from '../../../../../src/adapters/wire/mux/stream.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A connected pair of streams (opened on the server session, accepted on the client session). */
async function streamPair() {
  const clock = new FakeClock();
  const [a, b] = duplexPair();
  const server = new MuxSession(a, { role: 'server', clock, keepAliveIntervalMs: 0 });
  const client = new MuxSession(b, { role: 'client', clock, keepAliveIntervalMs: 0 });
  const inbound = once(client, 'stream') as Promise<[MuxStream]>;
  const local = server.openStream();
  const [remote] = await inbound;
  return { clock, server, client, local, remote };
}

describe('MuxStream', () => {
  it('is a Duplex that knows its id and session', async () => {
    const { server, local, remote, client } = await streamPair();
    assert.ok(local instanceof Duplex);
    assert.equal(local.session, server);
    assert.equal(remote.session, client);
    assert.equal(local.id, 2);
    assert.equal(remote.id, 2);
  });

  describe('socket compatibility', () => {
    it('provides chainable no-op setNoDelay, setKeepAlive, ref and unref', async () => {
      const { local } = await streamPair();
      assert.equal(local.setNoDelay(true), local);
      assert.equal(local.setKeepAlive(true, 1000), local);
      assert.equal(local.ref(), local);
      assert.equal(local.unref(), local);
    });

    it('has settable address properties, unset by default', async () => {
      const { local } = await streamPair();
      assert.equal(local.remoteAddress, undefined);
      assert.equal(local.remotePort, undefined);
      assert.equal(local.localAddress, undefined);
      assert.equal(local.localPort, undefined);
      local.remoteAddress = '203.0.113.7';
      local.remotePort = 51234;
      assert.equal(local.remoteAddress, '203.0.113.7');
      assert.equal(local.remotePort, 51234);
    });
  });

  describe('.setTimeout', () => {
    it("emits 'timeout' after the idle time on the session clock, and calls the callback once", async () => {
      const { local, clock } = await streamPair();
      let timeouts = 0;
      let callbacks = 0;
      local.on('timeout', () => timeouts++);
      assert.equal(
        local.setTimeout(1000, () => callbacks++),
        local,
      );
      clock.advance(999);
      assert.equal(timeouts, 0);
      clock.advance(1);
      assert.equal(timeouts, 1);
      assert.equal(callbacks, 1);
      assert.equal(local.destroyed, false, 'a timeout only notifies');
      clock.advance(5000);
      assert.equal(timeouts, 1, 'no repeat without activity');
    });

    it('restarts on activity in either direction', async () => {
      const { local, remote, clock } = await streamPair();
      let timeouts = 0;
      local.on('timeout', () => timeouts++);
      local.setTimeout(1000);
      local.resume();
      clock.advance(600);
      local.write('out');
      await settle();
      clock.advance(600);
      assert.equal(timeouts, 0, 'a write counts as activity');
      remote.write('in');
      await settle();
      clock.advance(600);
      assert.equal(timeouts, 0, 'a read counts as activity');
      clock.advance(400);
      assert.equal(timeouts, 1);
      remote.write('again');
      await settle();
      clock.advance(1000);
      assert.equal(timeouts, 2, 'activity after a timeout re-arms it');
    });

    it('is disabled by 0, which also removes the callback', async () => {
      const { local, clock } = await streamPair();
      let timeouts = 0;
      const cb = (): void => {
        timeouts++;
      };
      local.setTimeout(1000, cb);
      local.setTimeout(0, cb);
      assert.equal(local.listenerCount('timeout'), 0);
      clock.advance(10_000);
      assert.equal(timeouts, 0);
    });

    it('stops when the stream is destroyed', async () => {
      const { local, remote, clock } = await streamPair();
      remote.on('error', () => {});
      let timeouts = 0;
      local.setTimeout(1000, () => timeouts++);
      local.destroy();
      clock.advance(10_000);
      assert.equal(timeouts, 0);
    });
  });

  describe('writing', () => {
    it('fails writes after the session closed', async () => {
      const { local, remote, server } = await streamPair();
      local.on('error', () => {});
      remote.on('error', () => {});
      server.close();
      await settle();
      assert.equal(local.destroyed, true);
      assert.ok(local.errored instanceof MuxSessionClosedError);
    });

    it('works with stream.pipeline in both directions', async () => {
      const { local, remote } = await streamPair();
      const data = Buffer.alloc(700 * 1024, 7);
      const echo = pipeline(remote, remote);
      const chunks: Buffer[] = [];
      const sink = (async () => {
        for await (const c of local) chunks.push(c as Buffer);
      })();
      local.end(data);
      await Promise.all([echo, sink]);
      assert.ok(Buffer.concat(chunks).equals(data));
    });

    it('accepts strings and empty writes', async () => {
      const { local, remote } = await streamPair();
      local.write('');
      local.write('héllo', 'utf8');
      local.end();
      const chunks: Buffer[] = [];
      for await (const c of remote) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString('utf8'), 'héllo');
    });
  });
});
