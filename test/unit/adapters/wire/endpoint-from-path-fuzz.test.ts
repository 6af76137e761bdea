import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { endpointFromPath } from '../../../../src/adapters/wire/endpoint-from-path.js';
import { endpointFromRequest } from '../../../../src/adapters/server/proxy/passes/endpoint-from-request.js';
import { TCP_PATH } from '../../../../src/adapters/wire/routes.js';
import { endpointIdProblem } from '../../../../src/domain/endpoint/endpoint-id.js';
import { fuzzParameters, validEndpointId } from '../../../support/fuzz.js';

const UPSTREAM_PATH = '/piko/v1/upstream/';
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 }));
/** Paths that look like ours, to reach the decoding branches: a route, then anything (percent signs included). */
const routeLike = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(TCP_PATH, UPSTREAM_PATH), fc.string({ unit: fc.constantFrom('%', 'a', '2', 'F', 'z', '/', '?', '.', '-', 'é', '\u0000'), maxLength: 40 }))
  .map(([base, route, rest]) => base + route + rest);

describe('endpoint-from-path and endpoint-from-request (fuzz)', () => {
  it('endpointFromPath never throws and yields only valid IDs', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, routeLike), fc.constantFrom(TCP_PATH, UPSTREAM_PATH), (url, route) => {
        const result = endpointFromPath(url, route);
        if (result.kind === 'ok') assert.equal(endpointIdProblem(result.endpointId), undefined);
        if (result.kind === 'invalid') assert.ok(result.problem.length > 0);
        if (!(url.split('?', 1)[0] ?? '').includes(route)) assert.equal(result.kind, 'other');
      }),
      fuzzParameters(),
    );
  });

  it('finds a valid ID after any base path, percent-encoded or not, whatever the query (round trip)', () => {
    const base = fc.webPath().filter((p) => !p.includes(TCP_PATH) && !p.includes('?'));
    fc.assert(
      fc.property(base, validEndpointId, fc.boolean(), fc.option(fc.webQueryParameters()), (prefix, id, encode, query) => {
        const url = `${prefix.replace(/\/$/, '')}${TCP_PATH}${encode ? encodeURIComponent(id).replace(/[.\-_]/g, (c) => `%${c.charCodeAt(0).toString(16)}`) : id}${query === null ? '' : `?${query}`}`;
        assert.deepEqual(endpointFromPath(url, TCP_PATH), { kind: 'ok', endpointId: id });
      }),
      fuzzParameters(),
    );
  });

  it('endpointFromRequest never throws, yields only valid IDs, and an explicit valid header wins over Host', () => {
    const header = fc.oneof(anyText, validEndpointId, fc.array(anyText, { maxLength: 3 }));
    fc.assert(
      fc.property(fc.option(header), fc.option(anyText), (explicit, host) => {
        const headers: IncomingHttpHeaders = {};
        if (explicit !== null) (headers as Record<string, unknown>)['x-piko-endpoint'] = explicit;
        if (host !== null) headers.host = host;
        const result = endpointFromRequest(headers);
        if (result.ok) assert.equal(endpointIdProblem(result.endpointId), undefined);
        const first = Array.isArray(explicit) ? explicit[0] : explicit;
        if (typeof first === 'string' && first.length > 0 && endpointIdProblem(first) === undefined) {
          assert.deepEqual(result, { ok: true, endpointId: first });
        }
      }),
      fuzzParameters(),
    );
  });
});
