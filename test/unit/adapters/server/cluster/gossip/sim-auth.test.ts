import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeMessage } from '../../../../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import { membershipConverged, startCluster } from '../../../../../support/sim/sim-cluster.js';
import { SimNetwork } from '../../../../../support/sim/sim-network.js';

/* With a secret key, every datagram is authenticated; others are dropped and reported (counted by the shell). */

const hmac = (key: string) => (d: Uint8Array) => createHmac('sha256', key).update(d).digest();

function rejections(net: SimNetwork, id: string): string[] {
  return net.node(id).events.flatMap((e) => (e.event.type === 'message-rejected' ? [e.event.reason] : []));
}

describe('simulated gossip cluster: authentication', () => {
  it('forms a keyed cluster, and keeps out a node with the wrong key or none', () => {
    const net = new SimNetwork({ seed: 71, hmac: hmac('cluster-secret') });
    startCluster(net, 4);
    assert.ok(net.runUntil(() => membershipConverged(net), 10_000, 10) !== undefined);
    net.addNode('wrong', { hmac: hmac('guess') });
    net.addNode('none', { hmac: null });
    net.join('wrong', ['n00']);
    net.join('none', ['n01']);
    net.run(10_000);
    for (const id of ['n00', 'n01', 'n02', 'n03']) {
      assert.equal(net.statusOf(id, 'wrong'), undefined);
      assert.equal(net.statusOf(id, 'none'), undefined);
    }
    assert.ok(rejections(net, 'n00').includes('bad-tag'));
    assert.ok(rejections(net, 'n01').includes('missing-tag'));
    assert.deepEqual(net.node('wrong').machine.members().map((m) => m.id), ['wrong']);
    assert.deepEqual(net.node('none').machine.members().map((m) => m.id), ['none']);
  });

  it('drops a forged datagram that claims a member is dead, and reports it', () => {
    const net = new SimNetwork({ seed: 72, hmac: hmac('cluster-secret') });
    startCluster(net, 3);
    assert.ok(net.runUntil(() => membershipConverged(net), 10_000, 10) !== undefined);
    const forged = encodeMessage(
      {
        type: 'gossip',
        sender: { id: 'n01', incarnation: 0, addr: 'n01:7946', stateEpoch: 0, stateVersion: 0 },
        updates: [{ status: 'dead', id: 'n02', incarnation: 5 }],
        chunks: [],
      },
      { maxPacketSize: 1400, hmac: hmac('not-the-key') },
    );
    net.inject('n00', 'n01:7946', forged);
    assert.equal(net.statusOf('n00', 'n02'), 'alive');
    assert.deepEqual(rejections(net, 'n00'), ['bad-tag']);
  });
});
