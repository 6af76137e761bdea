import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ENDPOINT_ID_MAX_LENGTH,
  endpointIdFromHost,
  endpointIdProblem,
  parseEndpointId,
} from '../../../../src/domain/endpoint/endpoint-id.js';
import { DomainError } from '../../../../src/domain/errors.js';

const VALID: ReadonlyArray<readonly [string, string]> = [
  ['a single letter', 'a'],
  ['a single digit', '7'],
  ['letters, digits and dashes', 'my-endpoint-01'],
  ['upper case', 'MyEndpoint'],
  ['inner dots and underscores', 'a.b_c-d'],
  ['exactly 128 characters', 'a'.repeat(ENDPOINT_ID_MAX_LENGTH)],
];

const INVALID: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['empty', '', /must not be empty/],
  ['129 characters', 'a'.repeat(ENDPOINT_ID_MAX_LENGTH + 1), /at most 128 characters/],
  ['a leading dash', '-foo', /start and end with a letter or digit/],
  ['a trailing dash', 'foo-', /start and end with a letter or digit/],
  ['a lone dash', '-', /start and end/],
  ['a leading dot', '.foo', /start and end/],
  ['a trailing dot', 'foo.', /start and end/],
  ['a lone dot', '.', /start and end/],
  ['a slash', 'foo/bar', /may contain only/],
  ['unicode letters', 'café', /may contain only/],
  ['an emoji', 'a😀b', /may contain only/],
  ['a space', 'foo bar', /may contain only/],
  ['a colon', 'foo:8000', /may contain only/],
  ['a trailing newline', 'foo\n', /may contain only/],
];

describe('endpoint-id', () => {
  describe('endpointIdProblem', () => {
    describe('having a valid ID', () => {
      for (const [name, raw] of VALID) {
        it(`accepts ${name}`, () => {
          assert.equal(endpointIdProblem(raw), undefined);
        });
      }
    });

    describe('having an invalid ID', () => {
      for (const [name, raw, reason] of INVALID) {
        it(`rejects ${name}`, () => {
          assert.match(endpointIdProblem(raw) ?? '<accepted>', reason);
        });
      }
    });
  });

  describe('parseEndpointId', () => {
    it('returns a valid ID unchanged', () => {
      assert.equal(parseEndpointId('my-endpoint'), 'my-endpoint');
    });

    for (const [name, raw, reason] of INVALID) {
      it(`throws INVALID_ENDPOINT_ID naming the problem for ${name}`, () => {
        assert.throws(
          () => parseEndpointId(raw),
          (err: unknown) =>
            err instanceof DomainError &&
            err.code === 'INVALID_ENDPOINT_ID' &&
            reason.test(err.message) &&
            err.message.includes(JSON.stringify(raw)),
        );
      });
    }
  });

  describe('endpointIdFromHost', () => {
    const cases: ReadonlyArray<readonly [string | undefined, string | undefined]> = [
      // Piko T5/T6: the first label of a domain name, with or without a port.
      ['foo.example.com:8000', 'foo'],
      ['foo.example.com', 'foo'],
      ['foo.piko.example.com', 'foo'],
      ['my-endpoint.localhost:8000', 'my-endpoint'],
      // IP literals and single-label hosts name no endpoint.
      ['1.2.3.4', undefined],
      ['1.2.3.4:8000', undefined],
      ['[::1]:8000', undefined],
      ['[::1]', undefined],
      ['localhost', undefined],
      ['localhost:8000', undefined],
      ['', undefined],
      [undefined, undefined],
      // A first label that is not a valid ID, or is empty.
      ['.example.com', undefined],
      ['-foo.example.com', undefined],
      ['foo-.example.com:8000', undefined],
      ['fo%o.example.com', undefined],
      [':8000', undefined],
    ];
    for (const [host, expected] of cases) {
      it(`maps ${JSON.stringify(host)} to ${expected ?? 'no endpoint'}`, () => {
        assert.equal(endpointIdFromHost(host), expected);
      });
    }
  });
});
