import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, it } from 'node:test';

import { withSocketShape } from '../../../../src/adapters/http/socket-shape.js';
import { duplexPair } from '../../../support/duplex-pair.js';

/** Waits (event-loop turns, bounded) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

describe('withSocketShape', () => {
  describe('having a plain Duplex', () => {
    it('adds every net.Socket method node:http and http-proxy-3 call unchecked', () => {
      const s = withSocketShape(new PassThrough());
      for (const name of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref', 'destroySoon', 'address'] as const) {
        assert.equal(typeof s[name], 'function', name);
      }
      assert.equal(s.setTimeout(0), s);
      assert.equal(s.setNoDelay(true), s);
      assert.equal(s.setKeepAlive(true, 0), s);
      assert.equal(s.ref(), s);
      assert.equal(s.unref(), s);
      assert.deepEqual(s.address(), {});
    });

    it('reports localAddress/localPort through address() when the owner set them', () => {
      const s = withSocketShape(Object.assign(new PassThrough(), { localAddress: '::1', localPort: 80 }));
      assert.deepEqual(s.address(), { address: '::1', family: 'IPv6', port: 80 });
    });
  });

  describe('having a stream with its own methods', () => {
    it('keeps them', () => {
      const own = (): Duplex => stream;
      const stream = Object.assign(new PassThrough(), { setTimeout: own });
      assert.equal(withSocketShape(stream).setTimeout, own);
    });
  });

  describe('.destroySoon', () => {
    it('ends the writable side at once (the peer sees the end) and closes when the peer ends too', async () => {
      const [a, b] = duplexPair();
      const s = withSocketShape(a);
      let peerEnded = false;
      b.on('end', () => (peerEnded = true));
      b.resume();
      s.write('last words');
      s.destroySoon();
      await until(() => peerEnded, 'the peer to see the end');
      assert.equal(s.destroyed, false, 'not destroyed while the peer may still be reading');
      b.write('ignored');
      b.end();
      await until(() => s.destroyed, 'the stream to close once both sides ended');
    });

    it('does nothing on a destroyed stream', () => {
      const s = withSocketShape(new PassThrough());
      s.destroy();
      assert.doesNotThrow(() => s.destroySoon());
    });
  });
});
