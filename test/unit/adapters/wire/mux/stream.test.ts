import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { MuxSessionClosedError } from '../../../../../src/adapters/wire/mux/errors.js';
import { Flag, FrameType, type Frame } from '../../../../../src/adapters/wire/mux/frame.js';
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

/** A client session on one end; the test speaks raw window-update frames on the other and records replies. */
function rawPeer() {
  const [ours, theirs] = duplexPair();
  const session = new MuxSession(ours, { role: 'client', clock: new FakeClock(), keepAliveIntervalMs: 0 });
  const decoder = new FrameDecoder({ maxDataPayload: 0xffffffff });
  const frames: Frame[] = [];
  theirs.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
  const send = (streamId: number, flags: number): void => {
    theirs.write(encodeFrame({ type: FrameType.WindowUpdate, flags, streamId, length: 0 }));
  };
  const flags = (): number[] => frames.splice(0).map((f) => f.flags);
  return { session, send, flags };
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

  describe('.state', () => {
    it('is syn-sent until the ACK, syn-received until accepted, then established on both sides', async () => {
      const clock = new FakeClock();
      const [a, b] = duplexPair();
      const server = new MuxSession(a, { role: 'server', clock, keepAliveIntervalMs: 0 });
      const client = new MuxSession(b, { role: 'client', clock, keepAliveIntervalMs: 0 });
      const local = server.openStream();
      assert.equal(local.state, 'syn-sent');
      await settle();
      const [remote] = (await new Promise((resolve) => client.once('stream', (s) => resolve([s])))) as [MuxStream];
      await settle();
      assert.equal(remote.state, 'established');
      assert.equal(local.state, 'established');
    });

    it('goes local-closed / remote-closed on the first FIN and closed on the second', async () => {
      const { local, remote } = await streamPair();
      local.end();
      await settle();
      assert.equal(local.state, 'local-closed');
      assert.equal(remote.state, 'remote-closed');
      remote.resume();
      remote.end();
      await settle();
      assert.equal(local.state, 'closed');
      assert.equal(remote.state, 'closed');
    });

    it('is reset on both sides when one side destroys the stream', async () => {
      const { local, remote } = await streamPair();
      remote.on('error', () => {});
      local.destroy();
      await settle();
      assert.equal(local.state, 'reset');
      assert.equal(remote.state, 'reset');
    });

    it('is reset when the session ends', async () => {
      const { local, remote, server } = await streamPair();
      local.on('error', () => {});
      remote.on('error', () => {});
      server.close();
      assert.equal(local.state, 'reset');
      await settle();
      assert.equal(remote.state, 'reset');
    });

    it('still ACKs a stream the peer half-closed before it was accepted, then FINs without a second ACK', async () => {
      const { session, send, flags } = rawPeer();
      send(2, Flag.SYN);
      send(2, Flag.FIN);
      await settle();
      assert.deepEqual(flags(), [], 'nothing is sent while the stream waits in the backlog');
      const stream = await new Promise<MuxStream>((resolve) => session.once('stream', resolve));
      assert.deepEqual(flags(), [Flag.ACK]);
      assert.equal(stream.state, 'remote-closed');
      stream.resume();
      stream.end();
      await settle();
      assert.deepEqual(flags(), [Flag.FIN]);
      assert.equal(stream.state, 'closed');
    });

    it('carries the owed ACK on the FIN when the stream is ended before anything else is sent', async () => {
      const { session, send, flags } = rawPeer();
      session.on('stream', (stream: MuxStream) => {
        assert.equal(stream.state, 'syn-received');
        stream.end();
      });
      send(2, Flag.SYN);
      await settle();
      assert.deepEqual(flags(), [Flag.FIN | Flag.ACK]);
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
