import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage } from '../../../../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import type { MachineOutput } from '../../../../../../src/adapters/server/cluster/gossip/protocol/events.js';
import { GossipMachine, type GossipMachineOptions } from '../../../../../../src/adapters/server/cluster/gossip/protocol/gossip-machine.js';
import type { Message, Sender } from '../../../../../../src/adapters/server/cluster/gossip/protocol/messages.js';
import { seededRandom } from '../../../../../support/sim/seeded-random.js';

const OPTS = { maxPacketSize: 1400 };
const decode = (bytes: Uint8Array): Message => decodeMessage(bytes, OPTS);

function machine(id: string, extra: Partial<GossipMachineOptions> = {}): GossipMachine {
  return new GossipMachine({ nodeId: id, addr: `${id}:1`, random: seededRandom(id.length + 11), now: 0, ...extra });
}

/** A datagram from a node that is not a machine (a hand-written peer). */
function from(id: string, body: Partial<Message> & { type: Message['type'] }, sender: Partial<Sender> = {}): Uint8Array {
  const s: Sender = { id, incarnation: 0, addr: `${id}:1`, stateEpoch: 0, stateVersion: 0, ...sender };
  return encodeMessage({ updates: [], chunks: [], ...body, sender: s } as Message, OPTS);
}

/** Everything sent, decoded, with its destination. */
const sent = (out: MachineOutput) => out.send.map((o) => ({ to: o.to, msg: decode(o.bytes) }));

/** Makes `m` know `ids` as alive members. */
function know(m: GossipMachine, ...ids: string[]): void {
  for (const id of ids) m.receive(`${id}:1`, from(id, { type: 'gossip' }), 0);
}

describe('GossipMachine', () => {
  describe('probes', () => {
    it('acks a ping addressed to it, to the source address, and ignores one meant for another ID', () => {
      const m = machine('a');
      const out = sent(m.receive('10.0.0.9:5', from('b', { type: 'ping', seq: 42, targetId: 'a' }), 0));
      assert.equal(out.length, 1);
      assert.equal(out[0]?.to, '10.0.0.9:5');
      assert.equal(out[0]?.msg.type, 'ack');
      assert.equal((out[0]?.msg as { seq: number }).seq, 42);
      assert.deepEqual(sent(m.receive('x:1', from('b', { type: 'ping', seq: 43, targetId: 'old-id' }), 0)), []);
    });

    it('relays a ping-req: pings the target, forwards its ack under the requester seq, or nacks in time', () => {
      const m = machine('helper');
      const out = sent(m.receive('req:1', from('req', { type: 'ping-req', seq: 7, targetId: 't', targetAddr: 't:1' }), 0));
      const ping = out.find((o) => o.msg.type === 'ping');
      assert.equal(ping?.to, 't:1');
      const relaySeq = (ping?.msg as { seq: number }).seq;
      const forwarded = sent(m.receive('t:1', from('t', { type: 'ack', seq: relaySeq }), 5));
      assert.deepEqual(forwarded.map((o) => [o.to, o.msg.type, (o.msg as { seq: number }).seq]), [['req:1', 'ack', 7]]);

      m.receive('req:1', from('req', { type: 'ping-req', seq: 8, targetId: 't', targetAddr: 't:1' }), 100);
      const nack = sent(m.tick(100 + 80)).filter((o) => o.msg.type === 'nack');
      assert.deepEqual(nack.map((o) => [o.to, (o.msg as { seq: number }).seq]), [['req:1', 8]]);
    });

    it('suspects a silent member, warns it directly, and declares it dead when the suspicion times out', () => {
      const m = machine('a');
      know(m, 'b');
      let now = 0;
      let suspectedAt: number | undefined;
      const warned: string[] = [];
      while (now < 5000 && m.member('b')?.status !== 'dead') {
        now = m.nextDeadline();
        const out = m.tick(now);
        for (const o of sent(out)) {
          if (o.msg.updates.some((u) => u.id === 'b' && u.status === 'suspect')) warned.push(o.to);
        }
        if (suspectedAt === undefined && m.member('b')?.status === 'suspect') suspectedAt = now;
      }
      assert.ok(suspectedAt !== undefined && suspectedAt <= 400, `suspected at ${suspectedAt}`);
      assert.ok(warned.includes('b:1'), 'the suspect itself is told (so it can refute)');
      assert.equal(m.member('b')?.status, 'dead');
      assert.ok(now - suspectedAt <= 500 + 1, 'no confirmations expected with two nodes: the minimum timeout');
    });

    it('suspects nobody on the tick that ends a stall of its own, but does once it had time to read', () => {
      const m = machine('a');
      know(m, 'b');
      let now = 0;
      let pinged = false;
      while (!pinged) {
        now = m.nextDeadline();
        pinged = sent(m.tick(now)).some((o) => o.msg.type === 'ping');
      }
      const late = now + 3000; // the process froze with a probe out: b's ack may be waiting in the socket
      const stallTick = m.tick(late);
      assert.equal(m.member('b')?.status, 'alive');
      assert.ok(!stallTick.events.some((e) => e.type === 'member-status'));
      assert.ok(m.localHealth >= 1, 'the stall counts against our own health');
      let t = late;
      while (t < late + 3000 && m.member('b')?.status === 'alive') {
        t = m.nextDeadline();
        m.tick(t);
      }
      assert.equal(m.member('b')?.status, 'suspect', 'a silent member is still suspected afterwards');
      assert.ok(t >= late + m.config.probeTimeoutMs);
    });
  });

  describe('claims about itself', () => {
    it('refutes a suspicion at its incarnation by raising it, and spreads the refutation', () => {
      const m = machine('a');
      know(m, 'b');
      const out = m.receive('b:1', from('b', { type: 'gossip', updates: [{ status: 'suspect', id: 'a', incarnation: 0, from: 'b' }] }), 0);
      assert.equal(m.incarnation, 1);
      assert.deepEqual(out.events, [{ type: 'refuted', incarnation: 1, claim: 'suspect', newLife: false }]);
      const next = sent(m.receive('b:1', from('b', { type: 'ping', seq: 1, targetId: 'a' }), 1));
      assert.equal(next[0]?.msg.sender.incarnation, 1);
      assert.ok(next[0]?.msg.updates.some((u) => u.id === 'a' && u.status === 'alive' && u.incarnation === 1));
    });

    it('moves above a later incarnation of its ID that peers still know', () => {
      const m = machine('a');
      const out = m.receive('b:1', from('b', { type: 'gossip', updates: [{ status: 'left', id: 'a', incarnation: 9 }] }), 0);
      assert.equal(m.incarnation, 10);
      assert.equal(m.member('a')?.status, 'alive');
      assert.deepEqual(out.events.filter((e) => e.type === 'refuted'), [{ type: 'refuted', incarnation: 10, claim: 'left', newLife: true }]);
    });

    it('renews its state epoch above one a peer still holds for its ID (an earlier life\'s state)', () => {
      const m = machine('a');
      const epoch = m.member('a')?.stateEpoch ?? 0;
      const digest = [{ id: 'a', addr: 'a:1', incarnation: 0, status: 'alive' as const, stateEpoch: epoch + 5, stateVersion: 3 }];
      m.receive('b:1', from('b', { type: 'sync', request: false, digest }), 0);
      assert.equal(m.member('a')?.stateEpoch, epoch + 6);
      assert.equal(m.incarnation, 0, 'membership needs no refutation');
      const sameEpochLaterVersion = [{ ...digest[0], stateEpoch: epoch + 6, stateVersion: 1 }] as typeof digest;
      m.receive('b:1', from('b', { type: 'sync', request: false, digest: sameEpochLaterVersion }), 1);
      assert.equal(m.member('a')?.stateEpoch, epoch + 7, 'a version we never wrote in our epoch is another life too');
    });

    it('ignores claims about itself once leaving', () => {
      const m = machine('a');
      know(m, 'b', 'c');
      const out = sent(m.leave(0));
      assert.deepEqual(out.map((o) => o.to).sort(), ['b:1', 'c:1']);
      assert.ok(out.every((o) => o.msg.updates.some((u) => u.id === 'a' && u.status === 'left')));
      m.receive('b:1', from('b', { type: 'gossip', updates: [{ status: 'dead', id: 'a', incarnation: 0 }] }), 1);
      assert.equal(m.incarnation, 0);
      assert.equal(m.member('a')?.status, 'left');
      assert.equal(m.leaveSettled(1), false);
      assert.equal(m.leaveSettled(m.config.leaveTimeoutMs), true);
    });
  });

  describe('notices', () => {
    it('tells a member it holds as dead that it is dead, when the member speaks with that incarnation', () => {
      const m = machine('a');
      know(m, 'b');
      m.receive('c:1', from('c', { type: 'gossip', updates: [{ status: 'dead', id: 'b', incarnation: 0 }] }), 0);
      const out = sent(m.receive('b:1', from('b', { type: 'gossip' }), 10));
      const notice = out.find((o) => o.msg.type === 'sync');
      assert.equal(notice?.to, 'b:1');
      assert.deepEqual((notice?.msg as unknown as { digest: unknown[] }).digest, [
        { id: 'b', addr: 'b:1', incarnation: 0, status: 'dead', stateEpoch: 0, stateVersion: 0 },
      ]);
      const b = machine('b');
      b.receive('a:1', notice?.msg ? encodeMessage(notice.msg, OPTS) : new Uint8Array(), 11);
      assert.equal(b.incarnation, 1, 'the notified node refutes');
    });
  });

  describe('state', () => {
    it('validates keys and values and advertises its version in every datagram', () => {
      const m = machine('a');
      assert.throws(() => m.setLocal('', 'x', 0), RangeError);
      assert.throws(() => m.setLocal('k', 'v'.repeat(256), 0), RangeError);
      assert.throws(() => m.setLocal('k\ud800', 'v', 0), RangeError);
      m.setLocal('proxy_addr', '10.0.0.1:8000', 0);
      m.setLocal('proxy_addr', '10.0.0.1:8000', 0);
      const ack = sent(m.receive('b:1', from('b', { type: 'ping', seq: 1, targetId: 'a' }), 0))[0];
      assert.equal(ack?.msg.sender.stateVersion, 1);
      assert.deepEqual([...(m.state('a') ?? [])], [['proxy_addr', '10.0.0.1:8000']]);
    });

    it('answers a state request with the chunk after the asker\'s position', () => {
      const m = machine('a');
      for (let i = 0; i < 5; i++) m.setLocal(`endpoint:e${i}`, '1', 0);
      const epoch = m.member('a')?.stateEpoch ?? 0;
      const out = sent(m.receive('b:1', from('b', { type: 'state-request', wants: [{ nodeId: 'a', epoch, known: 2 }] }), 0));
      const chunk = out[0]?.msg.chunks[0];
      assert.deepEqual([chunk?.base, chunk?.to, chunk?.entries.map((e) => e.key)], [2, 5, ['endpoint:e2', 'endpoint:e3', 'endpoint:e4']]);
    });
  });

  describe('input it rejects', () => {
    it('reports malformed and unauthenticated datagrams as events and sends nothing', () => {
      const m = machine('a', { hmac: (d) => createHmac('sha256', 'k').update(d).digest() });
      const junk = m.receive('x:1', Uint8Array.from([1, 2, 3]), 0);
      assert.deepEqual(junk, { send: [], events: [{ type: 'message-rejected', from: 'x:1', reason: 'truncated' }] });
      const plain = m.receive('x:1', from('b', { type: 'ping', seq: 1, targetId: 'a' }), 0);
      assert.deepEqual(plain.events, [{ type: 'message-rejected', from: 'x:1', reason: 'missing-tag' }]);
      assert.equal(m.member('b'), undefined);
    });
  });

  describe('amplification', () => {
    it('answers at most syncAnswersPerSecond digests per second, whoever asks', () => {
      const m = machine('a', { config: { syncAnswersPerSecond: 10 } });
      let answered = 0;
      for (let i = 0; i < 200; i++) {
        const req = from(`forged-${i}`, { type: 'sync', request: true, digest: [] });
        if (sent(m.receive(`10.9.9.${i % 250}:1`, req, 0)).some((o) => o.msg.type === 'sync')) answered += 1;
      }
      assert.equal(answered, 10);
      const later = from('late', { type: 'sync', request: true, digest: [] });
      assert.ok(sent(m.receive('10.9.8.1:1', later, 1000)).some((o) => o.msg.type === 'sync'), 'tokens come back');
    });
  });

  describe('join', () => {
    it('sends a full digest to each seed but itself, and learns the cluster from the answer', () => {
      const a = machine('a');
      const b = machine('b');
      know(b, 'c');
      const out = a.join(['a:1', 'b:1'], 0);
      assert.deepEqual(out.send.map((o) => o.to), ['b:1']);
      const reply = b.receive('a:1', out.send[0]?.bytes as Uint8Array, 1);
      const back = reply.send.filter((o) => o.to === 'a:1').map((o) => a.receive('b:1', o.bytes, 2));
      assert.ok(back.some((o) => o.events.some((e) => e.type === 'sync-received')));
      assert.deepEqual(a.members().map((v) => [v.id, v.status]), [['a', 'alive'], ['b', 'alive'], ['c', 'alive']]);
      assert.equal(b.member('a')?.status, 'alive');
    });
  });
});
