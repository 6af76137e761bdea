import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../../../../src/adapters/wire/mux/codec.js';
import { ControlQueue } from '../../../../../src/adapters/wire/mux/control-queue.js';
import { Flag, FrameType, MAX_UINT32 } from '../../../../../src/adapters/wire/mux/frame.js';

const decode = (bytes: Buffer) =>
  [...new FrameDecoder().push(bytes)].map((f) => ({ type: f.type, flags: f.flags, streamId: f.streamId, length: f.length }));

describe('ControlQueue', () => {
  it('holds session frames in order up to its limit and refuses the next one', () => {
    const q = new ControlQueue<{ id: number }>(2);
    assert.equal(q.empty, true);
    assert.equal(q.pushSession(FrameType.Ping, Flag.ACK, 0, 7), true);
    assert.equal(q.pushSession(FrameType.GoAway, 0, 0, 0), true);
    assert.equal(q.pushSession(FrameType.Ping, Flag.ACK, 0, 8), false);
    assert.equal(q.sessionFrames, 2);
    assert.deepEqual(decode(q.take()!.bytes), [
      { type: FrameType.Ping, flags: Flag.ACK, streamId: 0, length: 7 },
      { type: FrameType.GoAway, flags: 0, streamId: 0, length: 0 },
    ]);
    assert.equal(q.empty, true);
    assert.equal(q.take(), undefined);
  });

  it('merges the frames of a stream into one: flags combined, window deltas added (capped at 32 bits)', () => {
    const a = { id: 3 };
    const b = { id: 5 };
    const q = new ControlQueue<{ id: number }>(0);
    q.mergeStream(a, Flag.ACK, 100);
    q.mergeStream(b, 0, 1);
    q.mergeStream(a, 0, 200);
    q.mergeStream(a, Flag.FIN, 0);
    q.mergeStream(b, 0, MAX_UINT32);
    assert.deepEqual(decode(q.take()!.bytes), [
      { type: FrameType.WindowUpdate, flags: Flag.ACK | Flag.FIN, streamId: 3, length: 300 },
      { type: FrameType.WindowUpdate, flags: 0, streamId: 5, length: MAX_UINT32 },
    ]);
  });

  it('cancels a waiting SYN with a later RST, and otherwise turns the waiting frame into a bare RST', () => {
    const opened = { id: 2 };
    const accepted = { id: 7 };
    const q = new ControlQueue<{ id: number }>(0);
    q.mergeStream(opened, Flag.SYN, 0);
    q.mergeStream(accepted, Flag.ACK, 1000);
    q.mergeStream(opened, Flag.RST, 0);
    q.mergeStream(accepted, Flag.RST, 0);
    assert.deepEqual(decode(q.take()!.bytes), [{ type: FrameType.WindowUpdate, flags: Flag.RST, streamId: 7, length: 0 }]);
  });

  it('holds back the release of a stream whose last frame waits, and hands it back once taken', () => {
    const waiting = { id: 9 };
    const idle = { id: 11 };
    const q = new ControlQueue<{ id: number }>(0);
    q.mergeStream(waiting, Flag.FIN, 0);
    assert.equal(q.holdRelease(waiting), true);
    assert.equal(q.holdRelease(idle), false);
    assert.deepEqual(q.take()!.released, [waiting]);
    q.mergeStream(waiting, Flag.FIN, 0);
    q.holdRelease(waiting);
    q.clear();
    assert.equal(q.empty, true);
  });
});
