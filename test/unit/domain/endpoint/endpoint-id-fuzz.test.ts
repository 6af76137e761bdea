import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  endpointIdFromHost,
  endpointIdProblem,
  parseEndpointId,
} from '../../../../src/domain/endpoint/endpoint-id.js';
import { DomainError } from '../../../../src/domain/errors.js';
import { fuzzParameters, validEndpointId } from '../../../support/fuzz.js';

/** Any text: full Unicode, control characters, lone surrogates. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 }));

describe('endpoint ID decoders (fuzz)', () => {
  it('endpointIdProblem never throws, and parseEndpointId throws only its DomainError, exactly when there is a problem', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const problem = endpointIdProblem(raw);
        assert.ok(problem === undefined || (typeof problem === 'string' && problem.length > 0));
        try {
          assert.equal(parseEndpointId(raw), raw);
          assert.equal(problem, undefined);
        } catch (err) {
          assert.ok(err instanceof DomainError, String(err));
          assert.equal(err.code, 'INVALID_ENDPOINT_ID');
          assert.notEqual(problem, undefined);
        }
      }),
      fuzzParameters(),
    );
  });

  it('accepts every well-formed ID as it is (round trip)', () => {
    fc.assert(
      fc.property(validEndpointId, (id) => {
        assert.equal(endpointIdProblem(id), undefined);
        assert.equal(parseEndpointId(id), id);
      }),
      fuzzParameters(),
    );
  });

  it('endpointIdFromHost never throws and yields only valid IDs', () => {
    fc.assert(
      fc.property(anyText, (host) => {
        const id = endpointIdFromHost(host);
        if (id !== undefined) assert.equal(endpointIdProblem(id), undefined);
      }),
      fuzzParameters(),
    );
  });

  it('endpointIdFromHost takes the first label of a name with a dot, with or without a port', () => {
    const label = validEndpointId.filter((id) => !id.includes('.') && !/^[\d.]+$/.test(id));
    fc.assert(
      fc.property(label, fc.domain(), fc.option(fc.integer({ min: 0, max: 65_535 })), (first, rest, port) => {
        const host = `${first}.${rest}${port === null ? '' : `:${port}`}`;
        if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(`${first}.${rest}`)) return; // an IP literal names no endpoint
        assert.equal(endpointIdFromHost(host), first);
      }),
      fuzzParameters(),
    );
  });
});
