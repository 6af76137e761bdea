import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, messageSize, type CodecOptions } from '../../../../../../src/adapters/server/cluster/gossip/protocol/codec.js';
import { GossipCodecError } from '../../../../../../src/adapters/server/cluster/gossip/protocol/errors.js';
import type { MemberUpdate, Message, StateChunk, StateEntry } from '../../../../../../src/adapters/server/cluster/gossip/protocol/messages.js';

/*
 * Property tests and a bounded fuzz run of the gossip codec: decoding untrusted bytes must never throw anything
 * but a GossipCodecError, and every message the format allows must round-trip. Seeds are fixed, so a failure
 * replays; more than 10^5 inputs are tried in total. `FUZZ_SCALE=<n>` multiplies every run count (`npm run
 * fuzz`), and `FUZZ_SEED` (or `PIKO_FUZZ_SEED`) replaces the seeds to replay a reported failure.
 */

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);
const SEED = process.env.FUZZ_SEED ?? process.env.PIKO_FUZZ_SEED;
/** fast-check parameters: `runs` times the scale, and the fixed seed unless one is given. */
const params = (runs: number, seed: number) => ({
  numRuns: runs * SCALE,
  seed: SEED !== undefined && SEED !== '' ? Number(SEED) : seed,
});

const big: CodecOptions = { maxPacketSize: 65_507 };
const keyed: CodecOptions = { maxPacketSize: 65_507, hmac: (d) => createHmac('sha256', 'k').update(d).digest() };

/** Records with an ordinary prototype, so they compare equal to decoded messages. */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(model, { noNullPrototype: true });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = (min: number, max: number) => fc.string({ unit: 'binary', minLength: min, maxLength: max });
const id = text(1, 16);
const addr = text(1, 24);
const status = fc.constantFrom('alive', 'suspect', 'dead', 'left' as const);

const sender = rec({ id, incarnation: u32, addr, stateEpoch: u32, stateVersion: u32 });

const update: fc.Arbitrary<MemberUpdate> = fc.oneof(
  rec({ status: fc.constant('alive' as const), id, incarnation: u32, addr }),
  rec({ status: fc.constant('suspect' as const), id, incarnation: u32, from: id }),
  rec({ status: fc.constant('dead' as const), id, incarnation: u32 }),
  rec({ status: fc.constant('left' as const), id, incarnation: u32 }),
);

const chunk: fc.Arbitrary<StateChunk> = fc
  .record({
    nodeId: id,
    epoch: u32,
    base: fc.integer({ min: 0, max: 1_000_000 }),
    steps: fc.array(rec({ step: fc.integer({ min: 1, max: 1000 }), key: text(1, 20), value: fc.option(text(0, 20), { nil: undefined }) }), { maxLength: 6 }),
    extraTo: fc.integer({ min: 0, max: 1000 }),
    extraLatest: fc.integer({ min: 0, max: 1000 }),
    floor: fc.integer({ min: 0, max: 1000 }),
    extraRestamp: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ nodeId, epoch, base, steps, extraTo, extraLatest, floor, extraRestamp }) => {
    let v = base;
    const entries: StateEntry[] = steps.map((s) => {
      v += s.step;
      return { key: s.key, version: v, value: s.value };
    });
    const to = v + extraTo;
    return { nodeId, epoch, base, to, latest: to + extraLatest, floor, restampedTo: floor + extraRestamp, entries };
  });

const piggy = { updates: fc.array(update, { maxLength: 5 }), chunks: fc.array(chunk, { maxLength: 3 }) };

const message: fc.Arbitrary<Message> = fc.oneof(
  rec({ type: fc.constant('ping' as const), sender, seq: u32, targetId: id, ...piggy }),
  rec({ type: fc.constant('ack' as const), sender, seq: u32, ...piggy }),
  rec({ type: fc.constant('nack' as const), sender, seq: u32, ...piggy }),
  rec({ type: fc.constant('ping-req' as const), sender, seq: u32, targetId: id, targetAddr: addr, ...piggy }),
  rec({
    type: fc.constant('sync' as const),
    sender,
    request: fc.boolean(),
    digest: fc.array(rec({ id, addr, incarnation: u32, status, stateEpoch: u32, stateVersion: u32 }), { maxLength: 6 }),
    ...piggy,
  }),
  rec({ type: fc.constant('gossip' as const), sender, ...piggy }),
  rec({
    type: fc.constant('state-request' as const),
    sender,
    wants: fc.array(rec({ nodeId: id, epoch: u32, known: u32 }), { maxLength: 4 }),
    ...piggy,
  }),
);

let inputs = 0;

/** Decodes and returns the message, or undefined when the codec rejected it; any other throw fails the test. */
function decodeOrReject(bytes: Uint8Array, options: CodecOptions): Message | undefined {
  inputs += 1;
  try {
    return decodeMessage(bytes, options);
  } catch (err) {
    if (err instanceof GossipCodecError) return undefined;
    throw err;
  }
}

describe('gossip codec (properties and fuzzing)', () => {
  it('round-trips every message the format allows, in messageSize bytes, with and without a key', () => {
    fc.assert(
      fc.property(message, (m) => {
        for (const options of [big, keyed]) {
          const bytes = encodeMessage(m, options);
          assert.equal(bytes.length, messageSize(m, options.hmac !== undefined));
          assert.deepEqual(decodeOrReject(bytes, options), m);
        }
      }),
      params(3000, 1),
    );
  });

  it('never throws anything but a GossipCodecError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        decodeOrReject(bytes, big);
      }),
      params(40_000, 2),
    );
  });

  it('never throws anything but a GossipCodecError on random bodies behind a valid header', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.uint8Array({ maxLength: 400 }), (type, body) => {
        decodeOrReject(Uint8Array.from([0x50, 0x47, 1, type, 0, ...body]), big);
      }),
      params(30_000, 3),
    );
  });

  it('never throws anything but a GossipCodecError on mutated valid datagrams, and what it accepts re-encodes', () => {
    const mutation = fc.array(
      rec({ at: fc.nat(), op: fc.constantFrom('flip', 'set', 'cut', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) }),
      { minLength: 1, maxLength: 4 },
    );
    // Ten mutants of each generated message: generating messages costs far more than decoding them.
    fc.assert(
      fc.property(message, fc.array(mutation, { minLength: 10, maxLength: 10 }), (m, mutants) => {
        const original = Array.from(encodeMessage(m, big));
        for (const ops of mutants) {
          let bytes = [...original];
          for (const { at, op, byte } of ops) {
            const i = bytes.length === 0 ? 0 : at % bytes.length;
            if (op === 'flip') bytes[i] = (bytes[i] ?? 0) ^ (1 << byte % 8);
            else if (op === 'set') bytes[i] = byte;
            else if (op === 'cut') bytes = bytes.slice(0, i);
            else if (op === 'insert') bytes.splice(i, 0, byte);
            else bytes.splice(i, 1);
          }
          const decoded = decodeOrReject(Uint8Array.from(bytes), big);
          if (decoded !== undefined) assert.deepEqual(decodeOrReject(encodeMessage(decoded, big), big), decoded);
        }
      }),
      params(3000, 4),
    );
  });

  it('never accepts a tagged datagram whose bytes were changed', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, x) => {
        const bytes = encodeMessage(m, keyed);
        const i = at % bytes.length;
        const changed = Uint8Array.from(bytes);
        changed[i] = (changed[i] as number) ^ x;
        assert.equal(decodeOrReject(changed, keyed), undefined);
      }),
      params(3000, 5),
    );
  });

  it('tried more than 10^5 inputs in total', () => {
    assert.ok(inputs > 100_000, `only ${inputs} inputs`);
  });
});
