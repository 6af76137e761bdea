import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { websocketHandshakeProblem } from '../../../../../src/adapters/server/proxy/websocket-handshake.js';

const GOOD: IncomingHttpHeaders = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

describe('websocketHandshakeProblem', () => {
  it('accepts a well-formed handshake (any case of the Upgrade value, version 8 or 13, subprotocols)', () => {
    assert.equal(websocketHandshakeProblem('GET', GOOD), undefined);
    assert.equal(websocketHandshakeProblem('GET', { ...GOOD, upgrade: 'WebSocket', 'sec-websocket-version': '8' }), undefined);
    assert.equal(websocketHandshakeProblem('GET', { ...GOOD, 'sec-websocket-protocol': 'a, b.v2' }), undefined);
  });

  const cases: ReadonlyArray<readonly [string, string | undefined, IncomingHttpHeaders, number, RegExp]> = [
    ['a method other than GET', 'POST', GOOD, 405, /must use GET/],
    ['no Upgrade header', 'GET', { ...GOOD, upgrade: undefined }, 400, /Upgrade must be websocket/],
    ['another upgrade', 'GET', { ...GOOD, upgrade: 'h2c' }, 400, /Upgrade must be websocket/],
    ['no key', 'GET', { ...GOOD, 'sec-websocket-key': undefined }, 400, /Sec-WebSocket-Key/],
    ['a key that is not 16 bytes of base64', 'GET', { ...GOOD, 'sec-websocket-key': 'c2hvcnQ=' }, 400, /Sec-WebSocket-Key/],
    ['no version', 'GET', { ...GOOD, 'sec-websocket-version': undefined }, 400, /Version must be 13/],
    ['version 12', 'GET', { ...GOOD, 'sec-websocket-version': '12' }, 400, /Version must be 13/],
    ['an empty subprotocol', 'GET', { ...GOOD, 'sec-websocket-protocol': 'a,,b' }, 400, /Protocol/],
    ['a duplicate subprotocol', 'GET', { ...GOOD, 'sec-websocket-protocol': 'a, a' }, 400, /Protocol/],
  ];
  for (const [what, method, headers, status, message] of cases) {
    it(`refuses ${what} with ${status}`, () => {
      const problem = websocketHandshakeProblem(method, headers);
      assert.equal(problem?.status, status);
      assert.match(problem?.message ?? '', message);
    });
  }

  it('tells the client which version and method are supported', () => {
    assert.deepEqual(websocketHandshakeProblem('GET', { ...GOOD, 'sec-websocket-version': '7' })?.headers, { 'sec-websocket-version': '13, 8' });
    assert.deepEqual(websocketHandshakeProblem('PUT', GOOD)?.headers, { allow: 'GET' });
  });
});
