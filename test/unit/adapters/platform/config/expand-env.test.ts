import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandEnv } from '../../../../../src/adapters/platform/config/expand-env.js';

const ENV = { HOST: 'node-a', PORT: '9000', EMPTY: '', SECRET: 'p$ss' };

describe('expandEnv', () => {
  const table: readonly [string, string][] = [
    ['bind_addr: ${HOST}:${PORT}', 'bind_addr: node-a:9000'],
    ['bind_addr: $HOST:$PORT', 'bind_addr: node-a:9000'],
    ['x: ${UNSET}', 'x: '],
    ['x: $UNSET', 'x: '],
    ['x: ${UNSET:fallback}', 'x: fallback'],
    ['x: ${EMPTY:fallback}', 'x: fallback'], // empty counts as unset for defaults
    ['x: ${PORT:8000}', 'x: 9000'],
    ['x: ${UNSET::8000}', 'x: :8000'], // the default is everything after the first colon
    ['x: ${UNSET:-a}', 'x: -a'], // no shell :- operator, as in Piko
    ['x: ${UNSET:}', 'x: '],
    ['x: $$HOST', 'x: $HOST'],
    ['x: a$', 'x: a$'],
    ['x: $1', 'x: $1'],
    ['x: ${SECRET}', 'x: p$ss'], // values are not expanded again
    ['x: $HOST_SUFFIX', 'x: '], // the longest name is taken
    ['no references', 'no references'],
  ];
  for (const [input, output] of table) {
    it(`${input} → ${output}`, () => assert.equal(expandEnv(input, ENV), output));
  }

  it('names the line of an unterminated ${', () => {
    assert.throws(() => expandEnv('a: 1\nb: ${HOST\n', ENV), /unterminated \$\{ on line 2/);
  });

  it('rejects an invalid name', () => {
    assert.throws(() => expandEnv('x: ${a b}', ENV), /invalid variable name "a b" on line 1/);
  });
});
