import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MetricDeclarations } from '../../../../../src/adapters/platform/metrics/metric-declarations.js';

describe('MetricDeclarations', () => {
  describe('.declare', () => {
    it('creates a metric once and returns it for every later declaration of the name', () => {
      const declarations = new MetricDeclarations<{ id: number }>();
      let created = 0;
      const create = () => ({ id: (created += 1) });
      const first = declarations.declare({ kind: 'counter', name: 'c', help: 'h' }, create);
      const second = declarations.declare({ kind: 'counter', name: 'c', help: 'other help' }, create);

      assert.equal(second, first);
      assert.equal(created, 1);
    });

    it('compares label names as a set', () => {
      const declarations = new MetricDeclarations<object>();
      const first = declarations.declare({ kind: 'gauge', name: 'g', help: 'h', labelNames: ['a', 'b'] }, () => ({}));

      assert.equal(
        declarations.declare({ kind: 'gauge', name: 'g', help: 'h', labelNames: ['b', 'a', 'a'] }, () => ({})),
        first,
      );
    });

    it('rejects another kind', () => {
      const declarations = new MetricDeclarations<object>();
      declarations.declare({ kind: 'counter', name: 'x', help: 'h' }, () => ({}));

      assert.throws(
        () => declarations.declare({ kind: 'gauge', name: 'x', help: 'h' }, () => ({})),
        { message: 'metric "x" is already declared as a counter; cannot declare it again as a gauge' },
      );
    });

    it('rejects other label names', () => {
      const declarations = new MetricDeclarations<object>();
      declarations.declare({ kind: 'counter', name: 'x', help: 'h', labelNames: ['method', 'status'] }, () => ({}));

      assert.throws(
        () => declarations.declare({ kind: 'counter', name: 'x', help: 'h', labelNames: ['status'] }, () => ({})),
        {
          message:
            'metric "x" is already declared with labels [method, status]; cannot declare it again with labels [status]',
        },
      );
    });

    it('rejects other buckets, but accepts a declaration that gives none', () => {
      const declarations = new MetricDeclarations<object>();
      const first = declarations.declare({ kind: 'histogram', name: 'h', help: 'h', buckets: [1, 2] }, () => ({}));

      assert.equal(declarations.declare({ kind: 'histogram', name: 'h', help: 'h' }, () => ({})), first);
      assert.throws(
        () => declarations.declare({ kind: 'histogram', name: 'h', help: 'h', buckets: [1, 3] }, () => ({})),
        /already declared with buckets \[1, 2\]/,
      );
    });

    it('remembers nothing when creation throws', () => {
      const declarations = new MetricDeclarations<object>();
      assert.throws(() =>
        declarations.declare({ kind: 'counter', name: 'x', help: 'h' }, () => {
          throw new Error('bad name');
        }),
      );

      assert.equal(declarations.get('x'), undefined);
    });
  });
});
