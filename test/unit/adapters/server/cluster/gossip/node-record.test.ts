import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointKey, endpointValue, readNodeRecord } from '../../../../../../src/adapters/server/cluster/gossip/protocol/node-record.js';

describe('node record', () => {
  it('reads addresses and positive listener counts, ignoring other and malformed keys', () => {
    const record = readNodeRecord(
      new Map([
        ['proxy_addr', '10.0.0.1:8000'],
        [endpointKey('billing'), '3'],
        [endpointKey('zero'), '0'],
        [endpointKey('junk'), '1e3'],
        [endpointKey(''), '1'],
        ['something', 'else'],
      ]),
    );
    assert.deepEqual([...record.endpoints], [['billing', 3]]);
    assert.equal(record.proxyAddr, '10.0.0.1:8000');
    assert.equal(record.complete, false, 'pending until the admin address is known too');
    assert.equal(readNodeRecord(new Map([['proxy_addr', 'a:1'], ['admin_addr', 'a:2']])).complete, true);
  });

  it('publishes a count, and deletes the key at zero', () => {
    assert.equal(endpointValue(2), '2');
    assert.equal(endpointValue(0), undefined);
  });
});
