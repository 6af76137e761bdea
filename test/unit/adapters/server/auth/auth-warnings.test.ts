import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, unauthenticatedPortWarnings } from '../../../../../src/adapters/server/auth/auth-warnings.js';

describe('isLoopbackHost', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) it(`${host} is loopback`, () => assert.equal(isLoopbackHost(host), true));
  for (const host of ['0.0.0.0', '::', '', '10.0.0.1', '::ffff:10.0.0.1', 'example.com']) it(`${host} is not`, () => assert.equal(isLoopbackHost(host), false));
});

describe('unauthenticatedPortWarnings', () => {
  it('warns once per port other machines reach without auth, naming the port and its setting', () => {
    const warnings = unauthenticatedPortWarnings([
      { name: 'proxy', host: '0.0.0.0', port: 8000, authOn: false },
      { name: 'upstream', host: '::', port: 8001, authOn: false },
      { name: 'admin', host: '10.0.0.5', port: 8002, authOn: true },
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /^proxy port 0\.0\.0\.0:8000 accepts connections from other machines without authentication: .*set proxy\.auth/);
    assert.match(warnings[1] ?? '', /^upstream port \[::\]:8001 .*register any endpoint.*set upstream\.auth/);
  });

  it('says nothing for loopback ports', () => {
    assert.deepEqual(unauthenticatedPortWarnings([{ name: 'admin', host: '127.0.0.1', port: 8002, authOn: false }]), []);
  });
});
