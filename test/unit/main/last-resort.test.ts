import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MuxStreamResetError } from '../../../src/adapters/wire/mux/errors.js';
import {
  CONNECTION_LOCAL,
  handleUnexpected,
  isConnectionLocalError,
  lastResortAction,
  UNEXPECTED_ERROR_EXIT_CODE,
  type LastResortIo,
} from '../../../src/main/last-resort.js';

const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

/** Collects what the handler writes and the exit code it asks for. */
function fakeIo(): LastResortIo & { lines: string[]; exits: number[] } {
  const lines: string[] = [];
  const exits: number[] = [];
  return { lines, exits, write: (l) => lines.push(l), exit: (c) => exits.push(c), now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) };
}

describe('isConnectionLocalError', () => {
  describe('having an error of one connection', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'HPE_INVALID_CHUNK_SIZE', 'WS_ERR_INVALID_OPCODE', 'ETIMEDOUT', 'ECONNREFUSED']) {
      it(`is true for ${code}`, () => assert.equal(isConnectionLocalError(withCode(code)), true));
    }
    it('is true for a yamux stream reset', () => assert.equal(isConnectionLocalError(new MuxStreamResetError(3)), true));
    it('is true for an error marked CONNECTION_LOCAL', () => {
      assert.equal(isConnectionLocalError(Object.assign(new Error('x'), { [CONNECTION_LOCAL]: true })), true);
    });
    it('is true when the local error is the cause', () => {
      assert.equal(isConnectionLocalError(new Error('wrapped', { cause: withCode('EPIPE') })), true);
    });
  });

  describe('having any other value', () => {
    for (const code of ['EMFILE', 'ENOMEM', 'EADDRINUSE', 'ERR_HTTP_HEADERS_SENT', 'ERR_INVALID_ARG_TYPE']) {
      it(`is false for ${code}`, () => assert.equal(isConnectionLocalError(withCode(code)), false));
    }
    it('is false for a plain TypeError', () => assert.equal(isConnectionLocalError(new TypeError('x is undefined')), false));
    it('is false for non-errors', () => {
      for (const value of [undefined, null, 'ECONNRESET', 42, { code: 7 }]) assert.equal(isConnectionLocalError(value), false);
    });
    it('stops following a cause cycle', () => {
      const a: Error & { cause?: unknown } = new Error('a');
      a.cause = a;
      assert.equal(isConnectionLocalError(a), false);
    });
  });
});

describe('handleUnexpected', () => {
  it('logs a connection-local error with its stack as one JSON line and keeps serving', () => {
    const io = fakeIo();
    const err = withCode('ECONNRESET', 'read ECONNRESET');
    assert.equal(handleUnexpected('uncaughtException', err, io), 'continue');
    assert.deepEqual(io.exits, []);
    assert.equal(io.lines.length, 1);
    assert.ok(io.lines[0]?.endsWith('\n'));
    const line = JSON.parse(io.lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line.time, '2026-01-02T03:04:05.006Z');
    assert.equal(line.level, 'error');
    assert.equal(line.message, 'uncaught exception');
    assert.equal(line.error, 'read ECONNRESET');
    assert.equal(line.code, 'ECONNRESET');
    assert.match(String(line.stack), /read ECONNRESET\n\s+at /);
    assert.match(String(line.action), /^continue/);
  });

  it('logs any other error and exits non-zero', () => {
    const io = fakeIo();
    assert.equal(handleUnexpected('unhandledRejection', new RangeError('bad state'), io), 'exit');
    assert.deepEqual(io.exits, [UNEXPECTED_ERROR_EXIT_CODE]);
    assert.notEqual(UNEXPECTED_ERROR_EXIT_CODE, 0);
    const line = JSON.parse(io.lines[0] ?? '') as Record<string, unknown>;
    assert.equal(line.message, 'unhandled promise rejection');
    assert.equal(line.error, 'bad state');
  });

  it('survives a rejection value whose toString throws', () => {
    const io = fakeIo();
    const hostile = { toString: () => { throw new Error('no'); } };
    assert.equal(handleUnexpected('unhandledRejection', hostile, io), 'exit');
    assert.equal((JSON.parse(io.lines[0] ?? '') as { error: string }).error, '[unprintable]');
  });

  it('lastResortAction agrees with the classification', () => {
    assert.equal(lastResortAction(withCode('EPIPE')), 'continue');
    assert.equal(lastResortAction(new Error('bug')), 'exit');
  });
});
