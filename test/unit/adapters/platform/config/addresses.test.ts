import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bindAddrsOverlap,
  formatForwardAddr,
  joinHostPort,
  normaliseListenerAddr,
  parseForwardAddr,
  parseHostPort,
  parseListenerAddr,
} from '../../../../../src/adapters/platform/config/addresses.js';

describe('parseHostPort', () => {
  const valid: readonly [string, string, number][] = [
    [':8000', '', 8000],
    ['127.0.0.1:8000', '127.0.0.1', 8000],
    ['[::1]:8000', '::1', 8000],
    ['[::]:0', '::', 0],
    ['localhost:0', 'localhost', 0],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
    ['piko-0.piko.default.svc:8001', 'piko-0.piko.default.svc', 8001],
    ['my_service:80', 'my_service', 80],
  ];
  for (const [raw, host, port] of valid) {
    it(`parses ${raw}`, () => assert.deepEqual(parseHostPort(raw), { host, port }));
  }
  const invalid = ['8000', ':', 'localhost', ':65536', ':-1', ':80a', '::1:8000', '[::1]8000', '[::1', '[nope]:80', 'a b:80', '-x:80', '1.2.3.999:80', 'host:'];
  for (const raw of invalid) {
    it(`rejects ${JSON.stringify(raw)}`, () => assert.equal(parseHostPort(raw), undefined));
  }
});

describe('joinHostPort', () => {
  it('brackets IPv6 hosts only', () => {
    assert.equal(joinHostPort('::1', 80), '[::1]:80');
    assert.equal(joinHostPort('10.0.0.1', 80), '10.0.0.1:80');
  });
});

describe('bindAddrsOverlap', () => {
  const table: readonly [string, string, boolean][] = [
    [':8000', ':8000', true],
    [':8000', '127.0.0.1:8000', true],
    ['0.0.0.0:8000', '10.0.0.1:8000', true],
    ['[::]:8000', '127.0.0.1:8000', true],
    ['127.0.0.1:8000', '10.0.0.1:8000', false],
    [':8000', ':8001', false],
    [':0', ':0', false],
  ];
  for (const [a, b, overlap] of table) {
    it(`${a} and ${b}: ${overlap ? 'overlap' : 'do not overlap'}`, () => {
      const pa = parseHostPort(a);
      const pb = parseHostPort(b);
      assert.ok(pa !== undefined && pb !== undefined);
      assert.equal(bindAddrsOverlap(pa, pb), overlap);
    });
  }
});

describe('listener addresses', () => {
  describe('having a valid address', () => {
    // §1.3: a port, host:port or (http only) a URL with an optional path, kept as written.
    const table: readonly [unknown, string, string | undefined][] = [
      ['3000', 'http://localhost:3000', 'localhost:3000'],
      [3000, 'http://localhost:3000', 'localhost:3000'],
      ['host:3000', 'http://host:3000', 'host:3000'],
      ['10.0.0.5:3000', 'http://10.0.0.5:3000', '10.0.0.5:3000'],
      ['[::1]:3000', 'http://[::1]:3000', '[::1]:3000'],
      ['https://10.0.0.5:3000', 'https://10.0.0.5:3000', undefined],
      ['http://localhost:3000/api/v1', 'http://localhost:3000/api/v1', undefined],
      ['http://service', 'http://service', undefined],
    ];
    for (const [raw, http, tcp] of table) {
      it(`normalises ${JSON.stringify(raw)} to ${http} (http) and ${tcp ?? 'an error'} (tcp)`, () => {
        const parsed = parseListenerAddr(raw);
        assert.ok(typeof parsed !== 'string', String(parsed));
        assert.equal(normaliseListenerAddr(parsed, 'http'), http);
        const forTcp = normaliseListenerAddr(parsed, 'tcp');
        if (tcp === undefined) assert.deepEqual(forTcp, { reason: 'must be a port or host:port for a tcp listener' });
        else assert.equal(forTcp, tcp);
      });
    }
  });

  describe('having an invalid address', () => {
    const table: readonly [unknown, string][] = [
      ['0', 'must be a port between 1 and 65535'],
      ['70000', 'must be a port between 1 and 65535'],
      ['host:0', 'must be a port between 1 and 65535'],
      ['localhost', 'must be a port, host:port or http(s) URL'],
      [':3000', 'must be a port, host:port or http(s) URL'],
      ['ftp://host:21', 'URL scheme must be http or https'],
      ['http://user:pw@host:3000', 'URL must not contain credentials'],
      ['http://host:3000/?q=1', 'URL must not have a query or fragment'],
      ['http://', 'must be a port, host:port or http(s) URL'],
      [true, 'must be a port, host:port or http(s) URL'],
      [30.5, 'must be a port, host:port or http(s) URL'],
    ];
    for (const [raw, reason] of table) {
      it(`rejects ${JSON.stringify(raw)}: ${reason}`, () => assert.equal(parseListenerAddr(raw), reason));
    }
  });
});

describe('forward addresses', () => {
  // §1.4: a bare port listens on loopback only; host:port is kept as net.Listen takes it.
  const valid: readonly [unknown, string][] = [
    ['3000', '127.0.0.1:3000'],
    [3000, '127.0.0.1:3000'],
    ['0', '127.0.0.1:0'],
    ['65535', '127.0.0.1:65535'],
    ['localhost:3000', 'localhost:3000'],
    ['0.0.0.0:3000', '0.0.0.0:3000'],
    [':3000', ':3000'],
    ['[::1]:3000', '[::1]:3000'],
    ['127.0.0.1:0', '127.0.0.1:0'],
  ];
  for (const [raw, normalised] of valid) {
    it(`normalises ${JSON.stringify(raw)} to ${normalised}`, () => {
      const parsed = parseForwardAddr(raw);
      assert.ok(typeof parsed !== 'string', String(parsed));
      assert.equal(formatForwardAddr(parsed), normalised);
    });
  }

  const invalid: readonly [unknown, string][] = [
    ['70000', 'must be a port between 0 and 65535'],
    ['localhost', 'must be a port or host:port'],
    ['host:70000', 'must be a port or host:port'],
    ['::1:3000', 'must be a port or host:port'],
    ['tcp://localhost:3000', 'must be a port or host:port'],
    ['-1', 'must be a port or host:port'],
    [30.5, 'must be a port or host:port'],
    [null, 'must be a port or host:port'],
  ];
  for (const [raw, reason] of invalid) {
    it(`rejects ${JSON.stringify(raw)}: ${reason}`, () => assert.equal(parseForwardAddr(raw), reason));
  }
});
