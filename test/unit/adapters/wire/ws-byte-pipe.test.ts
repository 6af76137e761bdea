import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { pipeStreamOverWebSocket } from '../../../../src/adapters/wire/ws-byte-pipe.js';
import { duplexPair } from '../../../support/duplex-pair.js';

/** The part of a `ws` WebSocket the pipe uses, recording what it is asked to do. */
class FakeWebSocket extends EventEmitter {
  readonly sent: Buffer[] = [];
  closed: number | undefined;
  terminated = false;
  send(data: Buffer, _options: unknown, cb: () => void): void {
    this.sent.push(data);
    process.nextTick(cb);
  }
  close(code: number): void {
    this.closed = code;
  }
  terminate(): void {
    this.terminated = true;
  }
  pause(): void {}
  resume(): void {}
  receive(data: string): void {
    this.emit('message', Buffer.from(data), true);
  }
}

describe('pipeStreamOverWebSocket', () => {
  it('reports the bytes of each direction to the counters', async () => {
    const ws = new FakeWebSocket();
    const [stream, upstream] = duplexPair();
    const counted = { inbound: 0, outbound: 0 };
    void pipeStreamOverWebSocket(ws as unknown as WebSocket, stream, {
      inbound: (n) => (counted.inbound += n),
      outbound: (n) => (counted.outbound += n),
    });
    ws.receive('from client');
    const [chunk] = (await once(upstream, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'from client');
    upstream.write('from upstream!');
    await new Promise((r) => setImmediate(r));
    assert.equal(Buffer.concat(ws.sent).toString(), 'from upstream!');
    assert.deepEqual(counted, { inbound: 11, outbound: 14 });
  });

  it('ends the pipe as broken when the client sends data after its end-of-stream marker', async () => {
    const ws = new FakeWebSocket();
    const [stream, upstream] = duplexPair();
    upstream.resume();
    const ended = pipeStreamOverWebSocket(ws as unknown as WebSocket, stream);
    ws.receive('');
    ws.receive(''); // a repeated marker is harmless
    ws.receive('more');
    assert.deepEqual(await ended, { clean: false, reason: 'data after the end-of-stream marker' });
    assert.equal(ws.terminated, true);
    assert.equal(stream.destroyed, true);
  });
});
