import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { BATCH_MAX_CHUNK, WS_TRANSPORT_HIGH_WATER, WsMuxTransport } from '../../../../src/adapters/wire/ws-mux-transport.js';

/** The socket under the fake WebSocket: what it holds unsent, and its `'drain'`. */
class FakeSocket extends EventEmitter {
  writableLength = 0;
  destroyed = false;
}

/** The part of a `ws` WebSocket the transport uses, recording what it is asked to do. */
class FakeWebSocket extends EventEmitter {
  readonly sent: Buffer[] = [];
  readonly callbacks: Array<((error?: Error) => void) | undefined> = [];
  readonly _socket = new FakeSocket();
  readyState: number = WebSocket.OPEN;
  binaryType = 'arraybuffer';
  isPaused = true;
  closedWith: Array<number | undefined> = [];
  terminated = false;
  get bufferedAmount(): number {
    return this._socket.writableLength;
  }
  send(data: Uint8Array, cb?: (error?: Error) => void): void {
    this.sent.push(Buffer.from(data));
    this.callbacks.push(cb);
    this._socket.writableLength += data.length;
  }
  close(code?: number): void {
    this.closedWith.push(code);
  }
  terminate(): void {
    this.terminated = true;
  }
  resume(): void {
    this.isPaused = false;
  }
  /** The socket wrote out everything it held. */
  drainSocket(): void {
    this._socket.writableLength = 0;
    this._socket.emit('drain');
  }
  /** The connection closed: ws emits 'close'. */
  closeNow(): void {
    this.readyState = WebSocket.CLOSED;
    this.emit('close', 1000, Buffer.alloc(0));
  }
}

function transport(): { ws: FakeWebSocket; t: WsMuxTransport; texts: Error[] } {
  const ws = new FakeWebSocket();
  const texts: Error[] = [];
  const t = new WsMuxTransport(ws as unknown as WebSocket, (e) => texts.push(e));
  return { ws, t, texts };
}

const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('WsMuxTransport', () => {
  it('resumes a paused WebSocket and passes binary messages on as data', () => {
    const { ws, t } = transport();
    assert.equal(ws.isPaused, false);
    assert.equal(ws.binaryType, 'nodebuffer');
    const got: Buffer[] = [];
    t.on('data', (b: Buffer) => got.push(b));
    ws.emit('message', Buffer.from('abc'), true);
    assert.deepEqual(got.map(String), ['abc']);
  });

  it('closes with 1003 on a text message, tells its owner, and passes nothing on', () => {
    const { ws, t, texts } = transport();
    const got: Buffer[] = [];
    t.on('data', (b: Buffer) => got.push(b));
    ws.emit('message', Buffer.from('text'), false);
    assert.deepEqual(ws.closedWith, [1003]);
    assert.equal(texts.length, 1);
    assert.match(texts[0]!.message, /binary messages only/);
    assert.equal(got.length, 0);
  });

  it('sends the small chunks written in one tick as one message, in order', async () => {
    const { ws, t } = transport();
    assert.equal(t.write(Buffer.from('head')), true);
    assert.equal(t.write(Buffer.from('-body')), true);
    assert.equal(ws.sent.length, 0);
    await tick();
    assert.deepEqual(ws.sent.map(String), ['head-body']);
  });

  it('sends a large chunk alone and uncopied, after the small ones written before it', async () => {
    const { ws, t } = transport();
    const big = Buffer.alloc(BATCH_MAX_CHUNK, 7);
    let flushed: Error | null | undefined = null;
    t.write(Buffer.from('hdr'));
    t.write(big, (e) => (flushed = e));
    assert.deepEqual(ws.sent.map((b) => b.length), [3, BATCH_MAX_CHUNK]);
    assert.equal(flushed, null, 'not before the socket flushed it');
    ws.callbacks[1]!();
    assert.equal(flushed, undefined);
  });

  it('runs the callbacks of batched chunks when their message is flushed', async () => {
    const { ws, t } = transport();
    const done: number[] = [];
    t.write(Buffer.from('a'), () => done.push(1));
    t.write(Buffer.from('b'), () => done.push(2));
    await tick();
    assert.equal(ws.sent.length, 1);
    assert.deepEqual(done, []);
    ws.callbacks[0]!();
    assert.deepEqual(done, [1, 2]);
  });

  it('reports backpressure above the high-water mark and emits drain only after the socket drained, never inside write', async () => {
    const { ws, t } = transport();
    let drains = 0;
    t.on('drain', () => drains++);
    ws._socket.writableLength = WS_TRANSPORT_HIGH_WATER;
    assert.equal(t.write(Buffer.from('x')), false);
    assert.equal(drains, 0);
    await tick();
    assert.equal(drains, 0, 'the socket still holds more than the mark');
    ws.drainSocket();
    assert.equal(drains, 1);
    ws.drainSocket();
    assert.equal(drains, 1, 'one drain per episode of backpressure');
  });

  it('counts the batch itself towards the high-water mark', async () => {
    const { ws, t } = transport();
    let drains = 0;
    t.on('drain', () => drains++);
    let accepted = 0;
    while (t.write(Buffer.alloc(1024))) accepted++;
    assert.equal(accepted, WS_TRANSPORT_HIGH_WATER / 1024);
    await tick();
    assert.equal(drains, 0, 'the batch is with the socket, above the mark');
    ws.drainSocket();
    assert.equal(drains, 1);
  });

  it('flushes the batch before closing gracefully, and emits finish, end and close when the WebSocket closed', async () => {
    const { ws, t } = transport();
    const events: string[] = [];
    for (const e of ['finish', 'end', 'close']) t.on(e, () => events.push(e));
    t.write(Buffer.from('go-away'));
    t.end();
    assert.deepEqual(ws.sent.map(String), ['go-away']);
    assert.deepEqual(ws.closedWith, [undefined]);
    assert.equal(t.writable, false);
    ws.closeNow();
    assert.deepEqual(events, ['finish', 'end', 'close']);
    assert.equal(t.destroyed, true);
    assert.equal(t.readableEnded, true);
  });

  it('hands what was written to the socket before terminating on destroy', () => {
    const { ws, t } = transport();
    t.write(Buffer.from('last words'));
    t.destroy();
    assert.deepEqual(ws.sent.map(String), ['last words']);
    assert.equal(ws.terminated, true);
  });

  it('does not terminate after a ws error: ws closes the connection itself, with the status the error calls for', () => {
    const { ws, t } = transport();
    const errors: Error[] = [];
    t.on('error', (e: Error) => errors.push(e));
    ws.emit('error', new Error('Max payload size exceeded'));
    t.destroy();
    assert.equal(errors.length, 1);
    assert.equal(ws.terminated, false);
  });

  it('fails the callbacks of what never went out when the connection closes, and of writes after it', async () => {
    const { ws, t } = transport();
    const results: Array<Error | null | undefined> = [];
    t.write(Buffer.from('a'), (e) => results.push(e));
    ws.closeNow();
    t.write(Buffer.from('b'), (e) => results.push(e));
    await tick();
    assert.equal(results.length, 2);
    assert.ok(results.every((e) => e instanceof Error));
    assert.equal(ws.sent.length, 0);
  });
});
