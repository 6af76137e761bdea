import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackBind, plaintextPortWarnings } from '../../../../../src/adapters/platform/tls/plaintext-ports.js';

const NO_TLS = { cert: '', key: '', clientCas: '' };
const TLS = { cert: '/c.pem', key: '/k.pem', clientCas: '' };

describe('isLoopbackBind', () => {
  const table: readonly [string, boolean][] = [
    ['127.0.0.1:8000', true],
    ['127.1.2.3:8000', true],
    ['[::1]:8000', true],
    ['localhost:8000', true],
    ['[::ffff:127.0.0.1]:8000', true],
    [':8000', false],
    ['0.0.0.0:8000', false],
    ['[::]:8000', false],
    ['10.0.0.5:8000', false],
    ['piko.internal:8000', false],
  ];
  for (const [addr, loopback] of table) it(`${addr} → ${loopback}`, () => assert.equal(isLoopbackBind(addr), loopback));
});

describe('plaintextPortWarnings', () => {
  it('names each non-loopback port without TLS, once, with its address', () => {
    const warnings = plaintextPortWarnings([
      { port: 'proxy', bindAddr: ':8000', tls: NO_TLS },
      { port: 'upstream', bindAddr: '0.0.0.0:8001', tls: TLS },
      { port: 'admin', bindAddr: '10.0.0.5:8002', tls: NO_TLS },
    ]);
    assert.deepEqual(warnings, ['proxy port on :8000 has no TLS', 'admin port on 10.0.0.5:8002 has no TLS']);
  });

  it('says nothing for loopback ports', () => {
    assert.deepEqual(plaintextPortWarnings([{ port: 'proxy', bindAddr: '127.0.0.1:8000', tls: NO_TLS }]), []);
  });
});
