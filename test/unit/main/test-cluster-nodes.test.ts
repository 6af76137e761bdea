import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeTaggedLogger } from '../../../src/main/test-cluster-nodes.js';
import { InMemoryLogger } from '../../support/fakes/in-memory-logger.js';

describe('NodeTaggedLogger', () => {
  it('adds the logging node to every record, at every level and in children', () => {
    const inner = new InMemoryLogger();
    const log = new NodeTaggedLogger(inner, 'node-2');
    log.info('a');
    log.child('proxy').warn('b', { path: '/x' });
    log.child('gossip').child('gossip.join').log('debug', 'c');
    log.error('d');
    log.debug('e');
    assert.deepEqual(
      inner.entries.map((e) => [e.level, e.subsystem, e.message, e.fields]),
      [
        ['info', '', 'a', { node: 'node-2' }],
        ['warn', 'proxy', 'b', { node: 'node-2', path: '/x' }],
        ['debug', 'gossip.join', 'c', { node: 'node-2' }],
        ['error', '', 'd', { node: 'node-2' }],
        ['debug', '', 'e', { node: 'node-2' }],
      ],
    );
  });

  it("keeps a record's own node-id (the peer a gossip line is about)", () => {
    const inner = new InMemoryLogger();
    new NodeTaggedLogger(inner, 'node-1').info('gossip member left', { 'node-id': 'node-3' });
    assert.deepEqual(inner.entries[0]?.fields, { node: 'node-1', 'node-id': 'node-3' });
  });
});
