import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { requestTargetProblem } from '../../../../../src/adapters/http/passes/request-target.js';

describe('requestTargetProblem', () => {
  it('refuses the asterisk form (OPTIONS *), naming it', () => {
    assert.match(requestTargetProblem('OPTIONS', '*', { host: 'a' }) ?? '', /^OPTIONS \* .*not supported/);
  });

  it('refuses a request without Host, or with an empty one', () => {
    assert.equal(requestTargetProblem('GET', '/', {}), 'missing Host header');
    assert.equal(requestTargetProblem('GET', '/', { host: '' }), 'missing Host header');
  });

  it('accepts origin-form and absolute-form targets with a Host, and OPTIONS on a path', () => {
    assert.equal(requestTargetProblem('GET', '/a?b', { host: 'a' }), undefined);
    assert.equal(requestTargetProblem('GET', 'http://a/b', { host: 'a' }), undefined);
    assert.equal(requestTargetProblem('OPTIONS', '/*', { host: 'a' }), undefined);
  });
});
