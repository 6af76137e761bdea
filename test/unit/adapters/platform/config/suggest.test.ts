import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, suggest } from '../../../../../src/adapters/platform/config/suggest.js';

const NAMES = ['bind_addr', 'advertise_addr', 'timeout', 'access_log'];

describe('suggest', () => {
  const table: readonly [string, string | undefined][] = [
    ['bindAddr', 'bind_addr'],
    ['bind-addr', 'bind_addr'],
    ['BIND_ADDR', 'bind_addr'],
    ['timout', 'timeout'],
    ['acess_log', 'access_log'],
    ['x', undefined],
    ['completely_different', undefined],
  ];
  for (const [name, expected] of table) {
    it(`${name} → ${expected ?? 'nothing'}`, () => assert.equal(suggest(name, NAMES), expected));
  }

  it('formats the hint', () => {
    assert.equal(didYouMean('timout', NAMES, (s) => `--${s}`), ' (did you mean --timeout?)');
    assert.equal(didYouMean('zzz', NAMES), '');
  });
});
