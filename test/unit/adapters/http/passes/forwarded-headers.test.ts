import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';

import { parseTrustedProxy, setForwardedHeaders, TrustedProxies } from '../../../../../src/adapters/http/passes/forwarded-headers.js';

const CLIENT = { peer: '198.51.100.7', localPort: 8000, encrypted: false };
const FORGED: IncomingHttpHeaders = {
  host: 'app.example.com',
  'x-forwarded-for': '203.0.113.1',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '1',
};

describe('setForwardedHeaders', () => {
  describe('having a peer that is not a trusted proxy', () => {
    it('appends the peer to X-Forwarded-For and overwrites Host/Proto/Port', () => {
      const headers = { ...FORGED };
      setForwardedHeaders(headers, CLIENT, new TrustedProxies([]));
      assert.deepEqual(headers, {
        host: 'app.example.com',
        'x-forwarded-for': '203.0.113.1, 198.51.100.7',
        'x-forwarded-host': 'app.example.com',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '8000',
      });
    });

    it('starts X-Forwarded-For with the peer when there is none, and says https on TLS', () => {
      const headers: IncomingHttpHeaders = { host: 'a' };
      setForwardedHeaders(headers, { ...CLIENT, encrypted: true }, new TrustedProxies(['10.0.0.0/8']));
      assert.equal(headers['x-forwarded-for'], '198.51.100.7');
      assert.equal(headers['x-forwarded-proto'], 'https');
    });

    it('writes an IPv4-mapped IPv6 peer as IPv4', () => {
      const headers: IncomingHttpHeaders = { host: 'a' };
      setForwardedHeaders(headers, { ...CLIENT, peer: '::ffff:192.0.2.5' }, new TrustedProxies([]));
      assert.equal(headers['x-forwarded-for'], '192.0.2.5');
    });

    it('drops X-Forwarded-Host without Host and -Port without a local port; leaves -For as it is without a peer', () => {
      const headers: IncomingHttpHeaders = { 'x-forwarded-host': 'evil', 'x-forwarded-port': '1', 'x-forwarded-for': '203.0.113.1' };
      setForwardedHeaders(headers, { peer: undefined, localPort: undefined, encrypted: false }, new TrustedProxies([]));
      assert.deepEqual(headers, { 'x-forwarded-for': '203.0.113.1', 'x-forwarded-proto': 'http' });
    });
  });

  describe('having a trusted proxy as the peer', () => {
    it('keeps the incoming Host/Proto/Port and appends the peer to X-Forwarded-For', () => {
      const headers = { ...FORGED };
      setForwardedHeaders(headers, CLIENT, new TrustedProxies(['198.51.100.0/24']));
      assert.deepEqual(headers, {
        host: 'app.example.com',
        'x-forwarded-for': '203.0.113.1, 198.51.100.7',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '1',
      });
    });

    it('fills in the ones the proxy did not send', () => {
      const headers: IncomingHttpHeaders = { host: 'a', 'x-forwarded-proto': 'https' };
      setForwardedHeaders(headers, CLIENT, new TrustedProxies(['198.51.100.7']));
      assert.equal(headers['x-forwarded-proto'], 'https');
      assert.equal(headers['x-forwarded-host'], 'a');
      assert.equal(headers['x-forwarded-port'], '8000');
    });
  });
});

describe('TrustedProxies', () => {
  it('matches addresses and CIDR blocks of both families', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '192.0.2.1', 'fd00::/8', '::1']);
    assert.equal(trusted.has('10.1.2.3'), true);
    assert.equal(trusted.has('::ffff:10.1.2.3'), true);
    assert.equal(trusted.has('192.0.2.1'), true);
    assert.equal(trusted.has('192.0.2.2'), false);
    assert.equal(trusted.has('fd12::1'), true);
    assert.equal(trusted.has('::1'), true);
    assert.equal(trusted.has('2001:db8::1'), false);
    assert.equal(trusted.has(undefined), false);
    assert.equal(trusted.has('not-an-ip'), false);
  });

  it('trusts nobody when empty', () => {
    assert.equal(new TrustedProxies([]).has('127.0.0.1'), false);
  });

  it('refuses an entry that is not an IP address or CIDR block, naming it', () => {
    assert.throws(() => new TrustedProxies(['lb.internal']), /trusted proxy "lb.internal": must be an IP address/);
    assert.throws(() => new TrustedProxies(['10.0.0.0/33']), /prefix length must be 0 to 32/);
  });
});

describe('parseTrustedProxy', () => {
  it('parses addresses and blocks', () => {
    assert.deepEqual(parseTrustedProxy('10.0.0.1'), { address: '10.0.0.1', family: 'ipv4' });
    assert.deepEqual(parseTrustedProxy('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
    assert.equal(parseTrustedProxy('::1/129'), 'the prefix length must be 0 to 128');
    assert.equal(parseTrustedProxy('10.0.0.0/x'), 'the prefix length must be 0 to 32');
  });
});
