import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';

import { endpointFromRequest } from '../../../../../../src/adapters/server/proxy/passes/endpoint-from-request.js';

describe('endpointFromRequest', () => {
  describe('having an x-piko-endpoint header', () => {
    it('uses the header, which wins over Host', () => {
      assert.deepEqual(endpointFromRequest({ 'x-piko-endpoint': 'from-header', host: 'from-host.example.com' }), {
        ok: true,
        endpointId: 'from-header',
      });
    });

    it('accepts an ID with dots, which Host could not address', () => {
      assert.deepEqual(endpointFromRequest({ 'x-piko-endpoint': 'a.b.c', host: 'localhost:8000' }), {
        ok: true,
        endpointId: 'a.b.c',
      });
    });

    it('uses the first value when the header is repeated', () => {
      const headers = { 'x-piko-endpoint': ['first', 'second'] } as unknown as IncomingHttpHeaders;
      assert.deepEqual(endpointFromRequest(headers), { ok: true, endpointId: 'first' });
    });

    it('reports an invalid header as invalid instead of falling back to Host', () => {
      const result = endpointFromRequest({ 'x-piko-endpoint': 'bad/id', host: 'good.example.com' });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'invalid');
      assert.match((!result.ok && result.detail) || '', /may contain only/);
    });

    it('ignores an empty header and falls back to Host', () => {
      assert.deepEqual(endpointFromRequest({ 'x-piko-endpoint': '', host: 'foo.example.com:8000' }), {
        ok: true,
        endpointId: 'foo',
      });
    });
  });

  describe('having only a Host header', () => {
    it('takes the first label of a domain name', () => {
      assert.deepEqual(endpointFromRequest({ host: 'foo.example.com:8000' }), { ok: true, endpointId: 'foo' });
    });

    for (const host of ['localhost:8000', '1.2.3.4:8000', '[::1]:8000', '-bad.example.com']) {
      it(`reports ${host} as naming no endpoint`, () => {
        assert.deepEqual(endpointFromRequest({ host }), { ok: false, reason: 'missing' });
      });
    }
  });

  describe('having neither header', () => {
    it('reports the endpoint as missing', () => {
      assert.deepEqual(endpointFromRequest({}), { ok: false, reason: 'missing' });
    });
  });
});
