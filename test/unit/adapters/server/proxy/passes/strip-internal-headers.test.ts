import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';

import { INTERNAL_HEADERS, stripInternalHeaders } from '../../../../../../src/adapters/server/proxy/passes/strip-internal-headers.js';

describe('stripInternalHeaders', () => {
  it('lists the five internal headers', () => {
    assert.deepEqual(
      [...INTERNAL_HEADERS].sort(),
      ['x-piko-authorization', 'x-piko-endpoint', 'x-piko-forward', 'x-piko-hop-proof', 'x-piko-tenant-id'],
    );
  });

  describe('having internal and ordinary headers', () => {
    it('removes every internal header and keeps the others untouched', () => {
      const headers: IncomingHttpHeaders = {
        host: 'foo.example.com',
        authorization: 'Bearer user-token',
        'x-piko-authorization': 'Bearer tunnel-token',
        'x-piko-endpoint': 'foo',
        'x-piko-forward': 'true',
        'x-piko-tenant-id': 'tenant-1',
        'x-piko-other': 'kept',
        'x-forwarded-for': '192.0.2.1',
        'set-cookie': ['a=1', 'b=2'],
      };
      stripInternalHeaders(headers);
      assert.deepEqual(headers, {
        host: 'foo.example.com',
        authorization: 'Bearer user-token',
        'x-piko-other': 'kept',
        'x-forwarded-for': '192.0.2.1',
        'set-cookie': ['a=1', 'b=2'],
      });
    });
  });

  describe('having no internal header', () => {
    it('leaves the headers as they were', () => {
      const headers: IncomingHttpHeaders = { host: 'a.example.com', accept: '*/*' };
      stripInternalHeaders(headers);
      assert.deepEqual(headers, { host: 'a.example.com', accept: '*/*' });
    });
  });

  describe('having headers without a prototype, as Node builds them', () => {
    it('still removes the internal ones', () => {
      const headers = Object.assign(Object.create(null) as IncomingHttpHeaders, {
        'x-piko-endpoint': 'foo',
        accept: '*/*',
      });
      stripInternalHeaders(headers);
      assert.deepEqual(Object.keys(headers), ['accept']);
    });
  });
});
