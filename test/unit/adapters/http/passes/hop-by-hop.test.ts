import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';

import {
  connectionTokens,
  hasChunkedBody,
  HOP_BY_HOP_HEADERS,
  isWebSocketUpgrade,
  stripHopByHopRequestHeaders,
  stripHopByHopResponseHeaders,
} from '../../../../../src/adapters/http/passes/hop-by-hop.js';

describe('hop-by-hop headers', () => {
  it('lists RFC 9110 §7.6.1 headers and the proxy credentials', () => {
    assert.deepEqual(
      [...HOP_BY_HOP_HEADERS].sort(),
      ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'],
    );
  });

  describe('connectionTokens', () => {
    it('splits, trims and lower-cases, across repeated values', () => {
      assert.deepEqual(connectionTokens(' Keep-Alive , X-Foo,,x-bar '), ['keep-alive', 'x-foo', 'x-bar']);
      assert.deepEqual(connectionTokens(['close', 'X-A']), ['close', 'x-a']);
      assert.deepEqual(connectionTokens(undefined), []);
    });
  });

  describe('stripHopByHopRequestHeaders', () => {
    describe('having an ordinary request', () => {
      it('removes Connection, every header it names, and the fixed list; keeps the rest', () => {
        const headers: IncomingHttpHeaders = {
          host: 'a.example.com',
          connection: 'keep-alive, X-Secret',
          'x-secret': '1',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          trailer: 'x-t',
          'transfer-encoding': 'chunked',
          upgrade: 'h2c',
          'proxy-connection': 'keep-alive',
          'proxy-authorization': 'Basic eA==',
          'proxy-authenticate': 'Basic',
          authorization: 'Bearer app',
          'x-end': 'kept',
        };
        stripHopByHopRequestHeaders(headers);
        assert.deepEqual(headers, { host: 'a.example.com', authorization: 'Bearer app', 'x-end': 'kept' });
      });

      it('never removes Host or Content-Length, even when Connection names them', () => {
        const headers: IncomingHttpHeaders = { host: 'a', 'content-length': '5', connection: 'host, content-length, x-a', 'x-a': '1' };
        stripHopByHopRequestHeaders(headers);
        assert.deepEqual(headers, { host: 'a', 'content-length': '5' });
      });
    });

    describe('having a WebSocket upgrade', () => {
      it('keeps Upgrade: websocket and Connection: Upgrade, and removes the other named headers', () => {
        const headers: IncomingHttpHeaders = {
          host: 'a',
          connection: 'keep-alive, Upgrade, X-Secret',
          upgrade: 'WebSocket',
          'x-secret': '1',
          'sec-websocket-key': 'k',
          'keep-alive': 'timeout=5',
        };
        stripHopByHopRequestHeaders(headers);
        assert.deepEqual(headers, { host: 'a', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
      });
    });

    describe('having headers without a prototype, as Node builds them', () => {
      it('still removes them', () => {
        const headers = Object.assign(Object.create(null) as IncomingHttpHeaders, { connection: 'x-a', 'x-a': '1', accept: '*/*' });
        stripHopByHopRequestHeaders(headers);
        assert.deepEqual(Object.keys(headers), ['accept']);
      });
    });
  });

  describe('stripHopByHopResponseHeaders', () => {
    it('removes Connection, the headers it names, and the fixed list', () => {
      const headers: IncomingHttpHeaders = {
        connection: 'x-resp',
        'x-resp': '1',
        'keep-alive': 'timeout=1',
        'transfer-encoding': 'chunked',
        upgrade: 'foo',
        'content-type': 'text/plain',
      };
      stripHopByHopResponseHeaders(headers);
      assert.deepEqual(headers, { 'content-type': 'text/plain' });
    });
  });

  describe('isWebSocketUpgrade', () => {
    it('is true for Upgrade: websocket in any case only', () => {
      assert.equal(isWebSocketUpgrade({ upgrade: 'websocket' }), true);
      assert.equal(isWebSocketUpgrade({ upgrade: ' WebSocket ' }), true);
      assert.equal(isWebSocketUpgrade({ upgrade: 'h2c' }), false);
      assert.equal(isWebSocketUpgrade({}), false);
    });
  });

  describe('hasChunkedBody', () => {
    it('is true when Transfer-Encoding is present', () => {
      assert.equal(hasChunkedBody({ 'transfer-encoding': 'chunked' }), true);
      assert.equal(hasChunkedBody({ 'content-length': '3' }), false);
    });
  });
});
