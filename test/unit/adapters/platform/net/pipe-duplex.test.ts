import assert from 'node:assert/strict';
import { duplexPair, type Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { pipeDuplex } from '../../../../../src/adapters/platform/net/pipe-duplex.js';

/** Two in-memory connections: [client end of A, pipe end of A] and [pipe end of B, service end of B]. */
function chain(): { client: Duplex; service: Duplex } {
  const [client, a] = duplexPair();
  const [b, service] = duplexPair();
  pipeDuplex(a, b);
  return { client, service };
}

const readAll = async (s: Duplex): Promise<string> => {
  let out = '';
  for await (const c of s) out += String(c);
  return out;
};

describe('pipeDuplex', () => {
  it('keeps half-close: the client ends, the service still answers after it', async () => {
    const { client, service } = chain();
    const serviceGot = readAll(service);
    client.end('question');
    assert.equal(await serviceGot, 'question');
    service.end('answer');
    assert.equal(await readAll(client), 'answer');
  });

  it('delivers everything written before a clean close, even when the closing side finishes first', async () => {
    const { client, service } = chain();
    const big = 'x'.repeat(1 << 20);
    client.end();
    service.end(big);
    service.resume();
    assert.equal((await readAll(client)).length, big.length);
  });

  it('resets the other side when one side is destroyed before its end', async () => {
    const [, a] = duplexPair();
    const [b] = duplexPair();
    pipeDuplex(a, b);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    b.destroy();
    await closed;
    assert.equal(a.destroyed, true);
  });

  it('tears both sides down when one errors', async () => {
    const [, a] = duplexPair();
    const [b] = duplexPair();
    const errors: string[] = [];
    pipeDuplex(a, b, (err) => errors.push(err.message));
    const closed = new Promise<void>((resolve) => b.once('close', () => resolve()));
    a.destroy(new Error('connection reset'));
    await closed;
    assert.deepEqual(errors, ['connection reset']);
    assert.equal(b.destroyed, true);
  });
});
