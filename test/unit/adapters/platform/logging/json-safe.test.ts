import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { stringifySafe, toJsonSafe } from '../../../../../src/adapters/platform/logging/json-safe.js';

describe('stringifySafe', () => {
  const table: readonly { name: string; value: unknown; json: string }[] = [
    { name: 'a plain object', value: { a: 1, b: ['x', true, null] }, json: '{"a":1,"b":["x",true,null]}' },
    { name: 'a bigint', value: { n: 10n }, json: '{"n":"10"}' },
    { name: 'a Map', value: { m: new Map<unknown, unknown>([['k', 1], [2, 'v']]) }, json: '{"m":{"2":"v","k":1}}' },
    { name: 'a Set', value: { s: new Set([1, 2]) }, json: '{"s":[1,2]}' },
    { name: 'a Date', value: { d: new Date(0) }, json: '{"d":"1970-01-01T00:00:00.000Z"}' },
    { name: 'undefined', value: undefined, json: 'null' },
    { name: 'a shared (not circular) reference', value: ((s) => ({ a: s, b: s }))({ x: 1 }), json: '{"a":{"x":1},"b":{"x":1}}' },
  ];
  for (const { name, value, json } of table) {
    it(`serialises ${name}`, () => {
      assert.equal(stringifySafe(value), json);
    });
  }

  it('serialises an Error cause chain', () => {
    const error = new Error('outer', { cause: new Error('inner') });
    const parsed = JSON.parse(stringifySafe({ error })) as { error: { message: string; cause: { message: string } } };

    assert.equal(parsed.error.message, 'outer');
    assert.equal(parsed.error.cause.message, 'inner');
  });

  it('marks a cycle through an Error cause as circular', () => {
    const error = new Error('loop');
    error.cause = error;

    assert.equal((JSON.parse(stringifySafe(error)) as { cause: unknown }).cause, '[Circular]');
  });

  it('keeps the conversions on the slow path as well', () => {
    const cycle: Record<string, unknown> = { n: 1n, set: new Set(['a']), error: new Error('e') };
    cycle.self = cycle;
    const parsed = JSON.parse(stringifySafe(cycle)) as Record<string, unknown>;

    assert.equal(parsed.n, '1');
    assert.deepEqual(parsed.set, ['a']);
    assert.equal((parsed.error as { message: string }).message, 'e');
    assert.equal(parsed.self, '[Circular]');
  });
});

describe('toJsonSafe', () => {
  it('truncates very deep values', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i += 1) {
      const next: Record<string, unknown> = {};
      deep.next = next;
      deep = next;
    }

    assert.match(JSON.stringify(toJsonSafe(root)), /"\[Truncated\]"/);
  });

  it('writes null for unserialisable array items, as JSON does', () => {
    assert.deepEqual(toJsonSafe([() => 1, undefined, 'x']), [null, null, 'x']);
  });

  it('writes symbols as strings', () => {
    assert.equal(toJsonSafe(Symbol('s')), 'Symbol(s)');
  });
});
