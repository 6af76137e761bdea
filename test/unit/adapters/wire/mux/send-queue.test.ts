import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { Flag, FrameType, HEADER_LENGTH, INITIAL_STREAM_WINDOW } from '../../../../../src/adapters/wire/mux/frame.js';
import { IdleTimer } from '../../../../../src/adapters/wire/mux/idle-timer.js';
import { SendQueue } from '../../../../../src/adapters/wire/mux/send-queue.js';
import { FakeClock } from '../../../../support/fakes/fake-clock.js';

/** A queue for stream 5 that owes one ACK, counting the frames it builds. */
function queue() {
  let ackOwed = true;
  let frames = 0;
  const q = new SendQueue(
    5,
    () => {
      const flag = ackOwed ? Flag.ACK : 0;
      ackOwed = false;
      return flag;
    },
    () => frames++,
  );
  return { q, frames: () => frames };
}

function decode(frame: Buffer) {
  const [f] = new FrameDecoder({ maxDataPayload: 1 << 30 }).push(frame);
  return f!;
}

describe('SendQueue', () => {
  it('cuts a write into frames of at most maxPayload, the ACK on the first, and completes after the last', () => {
    const { q, frames } = queue();
    const done: unknown[] = [];
    q.holdAll([Buffer.from('hello '), Buffer.from('world')], 11, (e) => done.push(e));
    const first = decode(q.pull(8)!);
    q.afterWrite();
    assert.deepEqual([first.type, first.flags, first.streamId, first.length], [FrameType.Data, Flag.ACK, 5, 8]);
    assert.deepEqual(done, []);
    const second = decode(q.pull(8)!);
    assert.equal(second.flags, 0);
    assert.equal(second.type === FrameType.Data && second.payload.toString(), 'rld');
    q.afterWrite();
    assert.deepEqual(done, [undefined]);
    assert.equal(q.pull(8), undefined);
    assert.equal(frames(), 2);
    assert.equal(q.bytesWritten, 11);
  });

  it('sends no more than the window, and says so until the peer grants more', () => {
    const { q } = queue();
    q.holdOne(Buffer.alloc(INITIAL_STREAM_WINDOW + 10), () => {});
    let sent = 0;
    for (let frame = q.pull(1 << 20); frame !== undefined; frame = q.pull(1 << 20)) {
      sent += q.takePayload()?.length ?? frame.length - HEADER_LENGTH;
      q.afterWrite();
    }
    assert.equal(sent, INITIAL_STREAM_WINDOW);
    assert.equal(q.canSend, false);
    assert.equal(q.grant(0), false);
    assert.equal(q.grant(4), true);
    assert.equal(decode(q.pull(1 << 20)!).length, 4);
  });

  it('sends a large payload as a view and completes the write only once the view is flushed', () => {
    const { q } = queue();
    const data = Buffer.alloc(64 * 1024, 1);
    const done: unknown[] = [];
    q.holdOne(data, (e) => done.push(e));
    const header = q.pull(64 * 1024)!;
    assert.equal(header.length, HEADER_LENGTH);
    const view = q.takePayload()!;
    assert.equal(view.buffer, data.buffer, 'a view of the caller buffer, not a copy');
    q.afterWrite();
    assert.deepEqual(done, [], 'the transport still holds the view');
    q.payloadFlushed();
    assert.deepEqual(done, [null]);
  });

  it('hands back the waiting callback when the stream is destroyed', () => {
    const { q } = queue();
    const callback = (): void => {};
    q.holdOne(Buffer.from('x'), callback);
    assert.equal(q.abandon(), callback);
    assert.equal(q.canSend, false);
    assert.equal(q.abandon(), undefined);
  });
});

describe('IdleTimer', () => {
  it('fires once after ms without activity, is pushed back by activity, and stops when its owner is gone', () => {
    const clock = new FakeClock();
    let live = true;
    let idle = 0;
    const timer = new IdleTimer(clock, () => idle++, () => live);
    assert.equal(timer.set(100), 100);
    clock.advance(60);
    timer.touch();
    clock.advance(60);
    assert.equal(idle, 0);
    clock.advance(40);
    assert.equal(idle, 1);
    clock.advance(500);
    assert.equal(idle, 1, 'no repeat without activity');
    timer.touch();
    live = false;
    clock.advance(500);
    assert.equal(idle, 1);
  });

  it('treats 0, negative and non-finite values as off', () => {
    const clock = new FakeClock();
    const timer = new IdleTimer(clock, () => assert.fail('fired'), () => true);
    for (const ms of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(timer.set(ms), 0);
    timer.touch();
    clock.advance(10_000);
    assert.equal(clock.pending, 0);
  });
});
