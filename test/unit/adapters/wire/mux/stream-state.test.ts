import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterAckReceived,
  afterAckSent,
  afterLocalFin,
  afterRemoteFin,
  isFinished,
  isLocalOpen,
  isRemoteOpen,
  owesAck,
  type MuxStreamState,
} from '../../../../../src/adapters/wire/mux/stream-state.js';

/** What each state allows, as the table in stream-state.ts documents it. */
const TABLE: Readonly<Record<MuxStreamState, { ack: boolean; local: boolean; remote: boolean; finished: boolean }>> = {
  'syn-sent': { ack: false, local: true, remote: true, finished: false },
  'syn-received': { ack: true, local: false, remote: true, finished: false },
  'syn-received-remote-closed': { ack: true, local: false, remote: false, finished: false },
  established: { ack: false, local: true, remote: true, finished: false },
  'local-closed': { ack: false, local: false, remote: true, finished: false },
  'remote-closed': { ack: false, local: true, remote: false, finished: false },
  closed: { ack: false, local: false, remote: false, finished: true },
  reset: { ack: false, local: false, remote: false, finished: true },
};
const STATES = Object.keys(TABLE) as MuxStreamState[];

/** Every event a live stream can see, applied where it is allowed (undefined where it is not). */
function step(state: MuxStreamState, event: string): MuxStreamState | undefined {
  if (isFinished(state)) return undefined;
  switch (event) {
    case 'send-ack':
      return owesAck(state) ? afterAckSent(state) : undefined;
    case 'receive-ack':
      return afterAckReceived(state);
    case 'send-fin':
      return isLocalOpen(state) ? afterLocalFin(state) : undefined;
    case 'receive-fin':
      return isRemoteOpen(state) ? afterRemoteFin(state) : undefined;
    default:
      return 'reset';
  }
}

describe('MuxStreamState', () => {
  for (const state of STATES) {
    it(`${state}: ${JSON.stringify(TABLE[state])}`, () => {
      const row = TABLE[state];
      assert.equal(owesAck(state), row.ack);
      assert.equal(isLocalOpen(state), row.local);
      assert.equal(isRemoteOpen(state), row.remote);
      assert.equal(isFinished(state), row.finished);
    });
  }

  it('moves through the handshake and the close as yamux does', () => {
    assert.equal(afterAckSent('syn-received'), 'established');
    assert.equal(afterAckSent('syn-received-remote-closed'), 'remote-closed');
    assert.equal(afterAckReceived('syn-sent'), 'established');
    assert.equal(afterAckReceived('local-closed'), 'local-closed');
    assert.equal(afterRemoteFin('syn-received'), 'syn-received-remote-closed');
    assert.equal(afterRemoteFin('established'), 'remote-closed');
    assert.equal(afterRemoteFin('syn-sent'), 'remote-closed');
    assert.equal(afterRemoteFin('local-closed'), 'closed');
    assert.equal(afterLocalFin('established'), 'local-closed');
    assert.equal(afterLocalFin('syn-sent'), 'local-closed');
    assert.equal(afterLocalFin('remote-closed'), 'closed');
  });

  it('reaches every state from the two starts, and only ends in closed or reset', () => {
    const seen = new Set<MuxStreamState>(['syn-sent', 'syn-received']);
    const todo = [...seen];
    const events = ['send-ack', 'receive-ack', 'send-fin', 'receive-fin', 'reset'];
    while (todo.length > 0) {
      const state = todo.pop()!;
      const next = events.map((event) => step(state, event)).filter((s) => s !== undefined);
      if (next.length === 0) assert.ok(isFinished(state), `${state} is a dead end`);
      for (const s of next) {
        if (!seen.has(s)) {
          seen.add(s);
          todo.push(s);
        }
      }
    }
    assert.deepEqual([...seen].sort(), [...STATES].sort());
  });

  it('never sends FIN while an ACK is owed: the ACK goes first, on the same frame', () => {
    for (const state of STATES) {
      if (owesAck(state)) assert.equal(isLocalOpen(state), false, state);
    }
  });
});
