import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InMemoryLogger } from '../../../../support/fakes/in-memory-logger.js';

describe('InMemoryLogger', () => {
  it('records every level with its subsystem and fields, children sharing one array', () => {
    const root = new InMemoryLogger();
    const proxy = root.child('proxy');
    root.debug('root debug');
    proxy.info('proxy info', { 'endpoint-id': 'e1' });
    proxy.child('proxy.access').log('warn', 'request');
    proxy.error('proxy error');

    assert.deepEqual(root.entries, [
      { level: 'debug', subsystem: '', message: 'root debug', fields: {} },
      { level: 'info', subsystem: 'proxy', message: 'proxy info', fields: { 'endpoint-id': 'e1' } },
      { level: 'warn', subsystem: 'proxy.access', message: 'request', fields: {} },
      { level: 'error', subsystem: 'proxy', message: 'proxy error', fields: {} },
    ]);
    assert.equal(proxy.entries, root.entries);
  });

  it('filters by level, subsystem and message, and clears for every related logger', () => {
    const root = new InMemoryLogger('server');
    const upstream = root.child('upstream');
    upstream.info('connected');
    upstream.warn('disconnected');
    root.warn('draining');

    assert.deepEqual(root.messages('warn'), ['disconnected', 'draining']);
    assert.equal(root.filter({ subsystem: 'upstream', level: 'warn' }).length, 1);
    assert.equal(root.filter({ message: 'connected' })[0]?.subsystem, 'upstream');

    upstream.clear();
    assert.deepEqual(root.messages(), []);
  });
});
