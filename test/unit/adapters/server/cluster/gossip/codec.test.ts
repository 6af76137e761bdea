import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeMessage, encodeMessage, messageSize, type CodecOptions } from '../../../../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import { GossipCodecError, type GossipCodecErrorReason } from '../../../../../../src/adapters/server/cluster/gossip/protocol/errors.js';
import { TAG_LENGTH, type Message, type Sender } from '../../../../../../src/adapters/server/cluster/gossip/protocol/messages.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const opts: CodecOptions = { maxPacketSize: 1400 };
const hmacWith = (key: string) => (data: Uint8Array) => createHmac('sha256', key).update(data).digest();
const sender: Sender = { id: 'a', incarnation: 1, addr: 'b:1', stateEpoch: 0, stateVersion: 2 };
const none = { updates: [], chunks: [] } as const;

function rejects(bytes: Uint8Array, reason: GossipCodecErrorReason, options: CodecOptions = opts): void {
  assert.throws(
    () => decodeMessage(bytes, options),
    (err: unknown) => err instanceof GossipCodecError && err.reason === reason && err.code === 'TUN_ERR_GOSSIP_CODEC',
  );
}

const samples: Array<[string, Message]> = [
  ['ping', { type: 'ping', sender, seq: 7, targetId: 'c', ...none }],
  ['ack', { type: 'ack', sender, seq: 0xffffffff, ...none }],
  ['nack', { type: 'nack', sender, seq: 3, ...none }],
  ['ping-req', { type: 'ping-req', sender, seq: 9, targetId: 'n-é', targetAddr: '[::1]:7946', ...none }],
  [
    'sync with a digest',
    {
      type: 'sync',
      sender,
      request: true,
      digest: [
        { id: 'x', addr: 'x:1', incarnation: 4, status: 'suspect', stateEpoch: 4, stateVersion: 10 },
        { id: 'y', addr: 'y:1', incarnation: 0, status: 'left', stateEpoch: 0, stateVersion: 0 },
      ],
      ...none,
    },
  ],
  ['gossip, empty', { type: 'gossip', sender, ...none }],
  [
    'state-request',
    { type: 'state-request', sender, wants: [{ nodeId: 'z', epoch: 2, known: 5 }], ...none },
  ],
  [
    'gossip with every update kind and a chunk',
    {
      type: 'gossip',
      sender,
      updates: [
        { status: 'alive', id: 'p', incarnation: 1, addr: 'p:1' },
        { status: 'suspect', id: 'q', incarnation: 2, from: 'a' },
        { status: 'dead', id: 'r', incarnation: 3 },
        { status: 'left', id: 's', incarnation: 4 },
      ],
      chunks: [
        {
          nodeId: 'p',
          epoch: 1,
          base: 3,
          to: 9,
          latest: 12,
          floor: 2,
          restampedTo: 3,
          entries: [
            { key: 'proxy_addr', version: 4, value: '10.0.0.1:8000' },
            { key: 'endpoint:gone', version: 7, value: undefined },
            { key: 'endpoint:empty', version: 9, value: '' },
          ],
        },
      ],
    },
  ],
];

describe('gossip codec', () => {
  describe('encodeMessage/decodeMessage', () => {
    for (const [name, msg] of samples) {
      it(`round-trips ${name}, in exactly messageSize bytes`, () => {
        const bytes = encodeMessage(msg, opts);
        assert.equal(bytes.length, messageSize(msg, false));
        assert.deepEqual(decodeMessage(bytes, opts), msg);
      });
    }

    it('lays a ping out as the specification says', () => {
      const bytes = encodeMessage({ type: 'ping', sender, seq: 7, targetId: 'c', ...none }, opts);
      // magic "PG", version 1, type 1 (ping), flags 0 | id "a" | inc 1 | addr "b:1" | epoch 0 | version 2
      // | seq 7 | target "c" | 0 updates | 0 chunks
      assert.equal(
        hex(bytes),
        '5047010100' + '0161' + '00000001' + '03623a31' + '00000000' + '00000002' + '00000007' + '0163' + '00' + '00',
      );
    });

    it('refuses to encode a message larger than maxPacketSize', () => {
      const big: Message = {
        type: 'sync',
        sender,
        request: false,
        digest: Array.from({ length: 100 }, (_, i) => ({
          id: `node-${i}`,
          addr: `10.0.0.${i}:7946`,
          incarnation: 0,
          status: 'alive' as const,
          stateEpoch: 0,
          stateVersion: 0,
        })),
        ...none,
      };
      assert.throws(() => encodeMessage(big, opts), (e: unknown) => e instanceof GossipCodecError && e.reason === 'too-large');
    });

    it('refuses to encode fields outside the format', () => {
      const bad = (m: Message, reason: GossipCodecErrorReason): void =>
        assert.throws(() => encodeMessage(m, opts), (e: unknown) => e instanceof GossipCodecError && e.reason === reason);
      bad({ type: 'ack', sender: { ...sender, id: '' }, seq: 1, ...none }, 'invalid-field');
      bad({ type: 'ack', sender: { ...sender, id: 'x'.repeat(129) }, seq: 1, ...none }, 'invalid-field');
      bad({ type: 'ack', sender: { ...sender, id: 'bad\ud800' }, seq: 1, ...none }, 'invalid-utf8');
      bad({ type: 'ack', sender: { ...sender, incarnation: -1 }, seq: 1, ...none }, 'invalid-field');
      bad({ type: 'ack', sender, seq: 2 ** 32, ...none }, 'invalid-field');
      const chunk = { nodeId: 'p', epoch: 0, base: 5, to: 4, latest: 5, floor: 0, restampedTo: 0, entries: [] };
      bad({ type: 'gossip', sender, updates: [], chunks: [chunk] }, 'invalid-field');
      const unordered = { ...chunk, base: 0, to: 5, entries: [{ key: 'k', version: 3, value: 'v' }, { key: 'j', version: 2, value: 'v' }] };
      bad({ type: 'gossip', sender, updates: [], chunks: [unordered] }, 'invalid-field');
    });
  });

  describe('decodeMessage on bad input', () => {
    const good = encodeMessage(samples[7]?.[1] as Message, opts);

    it('rejects short, foreign, future and unknown datagrams', () => {
      rejects(new Uint8Array(0), 'truncated');
      rejects(Uint8Array.from([0x50, 0x47, 1, 1]), 'truncated');
      rejects(Uint8Array.from([0x16, 0x03, 1, 1, 0]), 'bad-magic');
      rejects(Uint8Array.from([0x50, 0x47, 2, 1, 0]), 'unsupported-version');
      rejects(Uint8Array.from([0x50, 0x47, 0, 1, 0]), 'unsupported-version');
      const unknown = Uint8Array.from(good);
      unknown[3] = 99;
      rejects(unknown, 'unknown-type');
      const flags = Uint8Array.from(good);
      flags[4] = 0x02;
      rejects(flags, 'invalid-field');
    });

    it('rejects every truncation of a valid datagram, and trailing bytes', () => {
      for (let n = 0; n < good.length; n++) {
        assert.throws(() => decodeMessage(good.subarray(0, n), opts), GossipCodecError, `prefix of ${n} bytes`);
      }
      rejects(Uint8Array.from([...good, 0]), 'trailing-bytes');
    });

    it('rejects a datagram above maxPacketSize before reading it', () => {
      rejects(new Uint8Array(1401), 'too-large');
    });

    it('rejects invalid UTF-8 and out-of-range fields', () => {
      const utf8 = encodeMessage({ type: 'ack', sender: { ...sender, id: 'é' }, seq: 1, ...none }, opts);
      utf8[7] = 0xff; // the second byte of "é"
      rejects(utf8, 'invalid-utf8');
      const status = encodeMessage({ type: 'gossip', sender, updates: [{ status: 'dead', id: 'r', incarnation: 3 }], chunks: [] }, opts);
      status[status.length - 8] = 7; // the update's status byte (7 bytes of update, then the chunk count)
      rejects(status, 'invalid-field');
      const emptyId = encodeMessage({ type: 'ack', sender, seq: 1, ...none }, opts);
      emptyId[5] = 0; // sender id length 0
      assert.throws(() => decodeMessage(emptyId, opts), GossipCodecError);
    });
  });

  describe('authentication', () => {
    const keyed: CodecOptions = { maxPacketSize: 1400, hmac: hmacWith('secret') };
    const msg = samples[0]?.[1] as Message;

    it('appends a 16-byte tag, sets the flag and verifies it', () => {
      const plain = encodeMessage(msg, opts);
      const tagged = encodeMessage(msg, keyed);
      assert.equal(tagged.length, plain.length + TAG_LENGTH);
      assert.equal(tagged[4], 0x01);
      const expected = createHmac('sha256', 'secret').update(tagged.subarray(0, plain.length)).digest().subarray(0, 16);
      assert.equal(hex(tagged.subarray(plain.length)), hex(expected));
      assert.deepEqual(decodeMessage(tagged, keyed), msg);
    });

    it('rejects a wrong key, a flipped bit, a missing tag and an unexpected tag', () => {
      const tagged = encodeMessage(msg, keyed);
      rejects(tagged, 'bad-tag', { maxPacketSize: 1400, hmac: hmacWith('other') });
      for (const at of [6, tagged.length - 1]) {
        const flipped = Uint8Array.from(tagged);
        flipped[at] = (flipped[at] as number) ^ 0x01;
        rejects(flipped, 'bad-tag', keyed);
      }
      rejects(encodeMessage(msg, opts), 'missing-tag', keyed);
      rejects(tagged, 'unexpected-tag', opts);
      rejects(tagged.subarray(0, 12), 'truncated', keyed);
    });

    it('turns a failing authenticator into a bad tag, never another error', () => {
      const tagged = encodeMessage(msg, keyed);
      rejects(tagged, 'bad-tag', {
        maxPacketSize: 1400,
        hmac: () => {
          throw new Error('boom');
        },
      });
    });
  });
});
