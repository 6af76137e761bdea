import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';

import type { LogLevel } from '../../../../../src/application/ports/logger.port.js';
import {
  createWinstonLogger,
  type WinstonLoggerOptions,
} from '../../../../../src/adapters/platform/logging/winston-logger.adapter.js';

const FIXED_TIME = Date.UTC(2026, 10, 22, 2, 17, 19, 123);

/** A logger writing into memory with a pinned clock; `lines` are the raw lines, `records` them parsed. */
function harness(options: Partial<WinstonLoggerOptions> = {}) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createWinstonLogger({ level: 'info', stream, now: () => FIXED_TIME, ...options });
  const lines = (): string[] => chunks.join('').split('\n').filter((line) => line !== '');
  const records = (): Record<string, unknown>[] => lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, chunks, lines, records };
}

describe('createWinstonLogger', () => {
  describe('having a record to write', () => {
    it('writes one JSON line with time, level, subsystem and message first, then the fields', () => {
      const { logger, chunks, lines } = harness();
      logger.child('proxy').info('upstream connected', { 'endpoint-id': 'my-endpoint', 'node-id': 'bbc5' });

      assert.equal(chunks.length, 1);
      assert.ok(chunks[0]?.endsWith('\n'));
      assert.equal(
        lines()[0],
        '{"time":"2026-11-22T02:17:19.123Z","level":"info","subsystem":"proxy","message":"upstream connected",' +
          '"endpoint-id":"my-endpoint","node-id":"bbc5"}',
      );
    });

    it('omits the subsystem key on a root logger created without one', () => {
      const { logger, records } = harness();
      logger.warn('no subsystem');

      assert.deepEqual(Object.keys(records()[0] ?? {}), ['time', 'level', 'message']);
    });

    it('uses the subsystem option for the returned logger', () => {
      const { logger, records } = harness({ subsystem: 'server' });
      logger.info('started');

      assert.equal(records()[0]?.subsystem, 'server');
    });

    it('writes an ISO 8601 UTC time with milliseconds from the real clock by default', () => {
      const { logger, records } = harness({ now: undefined });
      logger.info('now');

      assert.match(String(records()[0]?.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    });

    it('renames fields that collide with the leading keys', () => {
      const { logger, records } = harness();
      logger.child('admin').info('real message', { message: 'fake', level: 'x', time: 1, subsystem: 'y' });

      assert.deepEqual(records()[0], {
        time: '2026-11-22T02:17:19.123Z',
        level: 'info',
        subsystem: 'admin',
        message: 'real message',
        'field-message': 'fake',
        'field-level': 'x',
        'field-time': 1,
        'field-subsystem': 'y',
      });
    });
  });

  describe('.child', () => {
    it('replaces the parent subsystem rather than extending it', () => {
      const { logger, records } = harness();
      logger.child('proxy').child('proxy.access').info('request');

      assert.equal(records()[0]?.subsystem, 'proxy.access');
    });
  });

  describe('having a level filter', () => {
    const table: readonly { level: LogLevel; written: readonly LogLevel[] }[] = [
      { level: 'debug', written: ['debug', 'info', 'warn', 'error'] },
      { level: 'info', written: ['info', 'warn', 'error'] },
      { level: 'warn', written: ['warn', 'error'] },
      { level: 'error', written: ['error'] },
    ];
    for (const { level, written } of table) {
      it(`writes ${written.join(', ')} at level ${level}`, () => {
        const { logger, records } = harness({ level });
        const log = logger.child('server');
        log.debug('debug');
        log.info('info');
        log.warn('warn');
        log.error('error');

        assert.deepEqual(records().map((record) => record.level), written);
        assert.deepEqual(records().map((record) => record.message), written);
      });
    }

    it('applies the same filter to log(level, ...)', () => {
      const { logger, records } = harness({ level: 'warn' });
      for (const level of ['debug', 'info', 'warn', 'error'] as const) logger.log(level, `via log ${level}`);

      assert.deepEqual(records().map((record) => record.message), ['via log warn', 'via log error']);
    });

    it('writes log() at an unknown level as error, naming the level', () => {
      const { logger, records } = harness({ level: 'error' });
      logger.log('trace' as LogLevel, 'odd level', { a: 1 });

      assert.deepEqual(records()[0], {
        time: '2026-11-22T02:17:19.123Z',
        level: 'error',
        message: 'odd level',
        a: 1,
        'invalid-level': 'trace',
      });
    });

    it('rejects an unknown configured level', () => {
      assert.throws(() => harness({ level: 'trace' as LogLevel }), /invalid log level "trace"/);
    });
  });

  describe('having subsystems listed', () => {
    it('writes every level of a listed subsystem, whatever the level', () => {
      const { logger, records } = harness({ level: 'error', subsystems: ['proxy'] });
      logger.child('proxy').debug('proxy debug');
      logger.child('upstream').warn('upstream warn');
      logger.child('upstream').error('upstream error');

      assert.deepEqual(records().map((record) => record.message), ['proxy debug', 'upstream error']);
    });

    it('matches subsystem names exactly: proxy does not match proxy.access', () => {
      const { logger, records } = harness({ level: 'warn', subsystems: ['proxy'] });
      logger.child('proxy.access').info('access info');
      logger.child('proxy.access').warn('access warn');
      logger.child('proxy').info('proxy info');

      assert.deepEqual(records().map((record) => record.message), ['access warn', 'proxy info']);
    });

    it('does not apply to the root logger without a subsystem', () => {
      const { logger, records } = harness({ level: 'warn', subsystems: [''] });
      logger.info('root info');

      assert.equal(records().length, 0);
    });
  });

  describe('having a level turned off', () => {
    it('neither reads the fields nor the clock', () => {
      let clockReads = 0;
      let fieldReads = 0;
      const fields = new Proxy(
        {},
        {
          ownKeys() {
            fieldReads += 1;
            return [];
          },
          get() {
            fieldReads += 1;
            return undefined;
          },
        },
      );
      const { logger, chunks } = harness({ level: 'error', now: () => (clockReads += 1) });
      const log = logger.child('proxy');
      log.debug('off', fields);
      log.info('off', fields);
      log.warn('off', fields);
      log.log('info', 'off', fields);

      assert.equal(chunks.length, 0);
      assert.equal(clockReads, 0);
      assert.equal(fieldReads, 0);
    });
  });

  describe('having fields JSON cannot serialise', () => {
    it('writes an Error as its name, message and stack', () => {
      const { logger, records } = harness();
      const error = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
      logger.error('dial failed', { error });

      assert.deepEqual(records()[0]?.error, {
        name: 'Error',
        message: 'connect refused',
        stack: error.stack,
        code: 'ECONNREFUSED',
      });
    });

    it('writes a bigint as its decimal string', () => {
      const { logger, records } = harness();
      logger.info('big', { bytes: 12345678901234567890n, nested: { n: 1n } });

      assert.equal(records()[0]?.bytes, '12345678901234567890');
      assert.deepEqual(records()[0]?.nested, { n: '1' });
    });

    it('survives a cycle, a throwing getter and a throwing toJSON', () => {
      const { logger, records } = harness();
      const cycle: Record<string, unknown> = { name: 'a' };
      cycle.self = cycle;
      const getter = {
        get boom(): never {
          throw new Error('no');
        },
      };
      const badJson = {
        toJSON(): never {
          throw new Error('no');
        },
      };

      assert.doesNotThrow(() => logger.info('odd', { cycle, getter, badJson }));
      assert.deepEqual(records()[0], {
        time: '2026-11-22T02:17:19.123Z',
        level: 'info',
        message: 'odd',
        cycle: { name: 'a', self: '[Circular]' },
        getter: { boom: '[Unserialisable]' },
        badJson: '[Unserialisable]',
      });
    });

    it('never throws when the stream fails', () => {
      const stream = new Writable({
        write(_chunk, _encoding, callback) {
          callback(new Error('EPIPE'));
        },
      });
      stream.on('error', () => undefined);
      const logger = createWinstonLogger({ level: 'info', stream });

      assert.doesNotThrow(() => {
        logger.info('first');
        logger.info('second');
      });
    });
  });
});
