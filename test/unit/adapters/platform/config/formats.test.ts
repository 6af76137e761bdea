import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { CONFIG_FORMATS, type FormatName } from '../../../../../src/adapters/platform/config/formats.js';

function reasonOf(format: FormatName, value: unknown): string | undefined {
  try {
    CONFIG_FORMATS[format].validate(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const LONG_ID = 'a'.repeat(128);

const encodings = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;
const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 1024, ...encodings }).publicKey;
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256', ...encodings }).publicKey;
const PEM_REASON = 'must be the PEM text of an RSA public key (-----BEGIN PUBLIC KEY-----...), not a file path';
const JWKS_REASON = 'must be empty, an http or https URL with a host, or a file:// URL with an absolute path';

/** Per format: values it accepts, and values it rejects with the reason. */
const TABLE: Readonly<Record<FormatName, { ok: readonly unknown[]; bad: readonly [unknown, string][] }>> = {
  duration: { ok: ['30s', '0', 0, '1m30s'], bad: [['30', 'must be a duration like 30s'], [30, 'must be a duration like 30s'], ['597h', 'must be at most 596h (Node timers overflow beyond that)']] },
  'nonzero-duration': { ok: ['1ms', '1m'], bad: [['0', 'must be a non-zero duration like 30s'], ['0s', 'must be a non-zero duration like 30s'], ['5', 'must be a non-zero duration like 30s']] },
  'bind-addr': { ok: [':8000', '127.0.0.1:8000', '[::1]:8000', 'localhost:0'], bad: [['8000', 'must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000'], [8000, 'must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000']] },
  'advertise-addr': { ok: ['', '10.0.0.1:8000', 'node-a:8000', '[fd00::1]:8000'], bad: [[':8000', 'must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000'], ['10.0.0.1:0', 'must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000']] },
  // Enums are strict, lower case (T9).
  'log-level': { ok: ['debug', 'info', 'warn', 'error'], bad: [['INFO', 'must be one of debug, info, warn, error'], ['warning', 'must be one of debug, info, warn, error'], [1, 'must be one of debug, info, warn, error']] },
  protocol: { ok: ['http', 'tcp'], bad: [['TCP', 'must be one of http, tcp'], ['asdf', 'must be one of http, tcp'], ['', 'must be one of http, tcp']] },
  bool: { ok: [true, false], bad: [['yes', 'must be true or false'], [1, 'must be true or false']] },
  'positive-int': { ok: [1, 8192], bad: [[0, 'must be a positive integer'], [1.5, 'must be a positive integer'], ['12', 'must be a positive integer']] },
  uint: { ok: [0, 50], bad: [[-1, 'must be an integer >= 0']] },
  'idle-conns': { ok: [-1, 0, 100], bad: [[-2, 'must be an integer >= -1 (-1 = unlimited)']] },
  'packet-size': {
    ok: [1200, 1400, 65_507],
    bad: [[1199, 'must be an integer between 1200 and 65507'], [65_508, 'must be an integer between 1200 and 65507'], [1400.5, 'must be an integer between 1200 and 65507'], ['1400', 'must be an integer between 1200 and 65507']],
  },
  'non-negative-number': { ok: [0, 0.5, 3], bad: [[-0.1, 'must be a number >= 0'], ['1', 'must be a number >= 0']] },
  ratio: { ok: [0, 0.005, 1], bad: [[1.1, 'must be a number between 0 and 1']] },
  text: { ok: ['', 'anything'], bad: [[1, 'must be a string'], [null, 'must be a string']] },
  'header-list': { ok: [[], ['x-request-id', 'Authorization']], bad: [[['bad header'], 'must be a list of HTTP header names'], ['x-a', 'must be a list of HTTP header names'], [[''], 'must be a list of HTTP header names']] },
  'name-list': { ok: [[], ['proxy', 'proxy.access']], bad: [[['a b'], 'must be a list of names of [A-Za-z0-9._-]']] },
  'address-list': { ok: [[], ['10.0.0.1', 'node-b:8003']], bad: [[['a b'], 'must be a list of host or host:port']] },
  'ip-cidr-list': {
    ok: [[], ['10.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '0.0.0.0/0']],
    bad: [
      [['10.0.0.0/33'], 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'],
      [['lb.internal'], 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'],
      [['10.0.0.0/8/1'], 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'],
      [['fd00::/129'], 'must be a list of IP addresses or CIDR blocks like 10.0.0.0/8'],
    ],
  },
  'node-id': { ok: ['', 'node-1', LONG_ID], bad: [[`${LONG_ID}a`, 'must be empty (generated) or 1 to 128 characters of [A-Za-z0-9._-]'], ['a/b', 'must be empty (generated) or 1 to 128 characters of [A-Za-z0-9._-]']] },
  'node-id-prefix': { ok: ['', 'pod-0-'], bad: [['a'.repeat(122), 'must be at most 121 characters of [A-Za-z0-9._-]']] },
  'connect-url': { ok: ['http://localhost:8001', 'wss://piko.example.com/base'], bad: [['localhost:8001', 'must be an http, https, ws or wss URL with a host'], ['ftp://x', 'must be an http, https, ws or wss URL with a host']] },
  'optional-url': { ok: ['', 'http://proxy:3128'], bad: [['proxy:3128', 'must be empty or an http or https URL with a host']] },
  'endpoint-id': {
    ok: ['my-endpoint', 'a', 'a.b_c-d', LONG_ID],
    bad: [
      ['', 'is required'],
      [`${LONG_ID}a`, 'must be at most 128 characters'],
      ['-a', 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit'],
      ['a-', 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit'],
      ['a b', 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit'],
      [true, 'must be a string'],
      [123, 'must be a string'], // a YAML number is turned into text before validation
    ],
  },
  'listener-addr': { ok: ['3000', 3000, 'host:3000', 'https://host/x'], bad: [['', 'is required'], ['host', 'must be a port, host:port or http(s) URL']] },
  'forward-addr': {
    ok: ['3000', 3000, '0', '127.0.0.1:3000', ':3000', '[::1]:3000', 'localhost:0'],
    bad: [['', 'is required'], ['localhost', 'must be a port or host:port'], ['70000', 'must be a port between 0 and 65535'], ['http://x:1', 'must be a port or host:port'], [true, 'must be a port or host:port']],
  },
  listeners: { ok: [[], [{ endpoint_id: 'a' }]], bad: [[[1], 'must be a list of listener mappings'], ['x', 'must be a list of listener mappings']] },
  ports: { ok: [[], [{ addr: '3000', endpoint_id: 'a' }]], bad: [[['3000'], 'must be a list of port mappings'], [{}, 'must be a list of port mappings']] },
  tenants: { ok: [[], [{ id: 't' }]], bad: [[{}, 'must be a list of tenant mappings']] },
  'tenant-id': {
    ok: ['acme', 'a', 'a.b_c-d', 'x'.repeat(64)],
    bad: [['', 'is required'], ['x'.repeat(65), 'must be at most 64 characters'], ['a/b', 'may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit']],
  },
  'rsa-public-key': {
    ok: ['', RSA_PEM, `  ${RSA_PEM}\n`],
    bad: [['/etc/piko/rsa.pem', PEM_REASON], [EC_PEM, 'is ec key, not an RSA public key'], [1, 'must be PEM text']],
  },
  'ec-public-key': { ok: ['', EC_PEM], bad: [[RSA_PEM, 'is rsa key, not an EC (ECDSA) public key']] },
  'jwks-url': {
    ok: ['', 'https://idp.example.com/.well-known/jwks.json', 'http://127.0.0.1:9000/jwks', 'file:///etc/piko/jwks.json'],
    bad: [['idp.example.com/jwks', JWKS_REASON], ['ftp://idp/jwks', JWKS_REASON], ['file:///', JWKS_REASON]],
  },
};

describe('CONFIG_FORMATS', () => {
  for (const [name, { ok, bad }] of Object.entries(TABLE) as [FormatName, (typeof TABLE)[FormatName]][]) {
    describe(name, () => {
      for (const value of ok) it(`accepts ${JSON.stringify(value)}`, () => assert.equal(reasonOf(name, value), undefined));
      for (const [value, reason] of bad) it(`rejects ${JSON.stringify(value)}`, () => assert.equal(reasonOf(name, value), reason));
    });
  }

  it('reads YAML numbers as text only for textual formats, never for durations (T4)', () => {
    const textual = Object.entries(CONFIG_FORMATS).filter(([, format]) => format.textual === true).map(([name]) => name);
    assert.deepEqual(textual.sort(), ['endpoint-id', 'forward-addr', 'listener-addr', 'node-id', 'node-id-prefix', 'tenant-id', 'text']);
  });

  it('has a table row for every format', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(CONFIG_FORMATS).sort());
  });

  describe('coercion of text from flags and variables', () => {
    const table: readonly [FormatName, string, unknown][] = [
      ['bool', 'true', true],
      ['bool', 'TRUE', true],
      ['bool', '1', true],
      ['bool', 'f', false],
      ['bool', 'False', false],
      ['bool', 'yes', 'yes'],
      ['positive-int', '8192', 8192],
      ['positive-int', '12abc', '12abc'],
      ['idle-conns', '-1', -1],
      ['packet-size', '1500', 1500],
      ['ratio', '0.5', 0.5],
      ['ratio', '1e3', '1e3'],
      ['header-list', 'X-A, x-b,,', ['X-A', 'x-b']],
      ['header-list', '', []],
      ['listeners', '[{endpoint_id: a, addr: "3000"}]', [{ endpoint_id: 'a', addr: '3000' }]],
      ['listeners', '[{"endpoint_id": "a"}]', [{ endpoint_id: 'a' }]],
      ['listeners', '[unclosed', '[unclosed'],
      ['listeners', 'plain', 'plain'],
      ['ports', '[{addr: 3000, endpoint_id: a}]', [{ addr: 3000, endpoint_id: 'a' }]],
    ];
    for (const [name, text, value] of table) {
      it(`${name}: ${JSON.stringify(text)} → ${JSON.stringify(value)}`, () => {
        assert.deepEqual(CONFIG_FORMATS[name].coerce?.(text), value);
      });
    }

    it('leaves durations as text, so a bare number is still rejected', () => {
      assert.equal(CONFIG_FORMATS.duration.coerce, undefined);
    });
  });
});
