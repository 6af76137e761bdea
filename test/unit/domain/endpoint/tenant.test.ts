import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointIdProblem, type EndpointId } from '../../../../src/domain/endpoint/endpoint-id.js';
import { endpointKey, splitEndpointKey, TENANT_SEPARATOR, tenantIdProblem, type TenantId } from '../../../../src/domain/endpoint/tenant.js';
import { endpointKey as gossipStateKey } from '../../../../src/adapters/server/cluster/gossip/protocol/node-record.js';
import { MAX_SHORT_STRING_BYTES } from '../../../../src/adapters/server/cluster/gossip/protocol/messages.js';

const e = (id: string): EndpointId => id as EndpointId;
const t = (id: string): TenantId => id as TenantId;

describe('tenant IDs', () => {
  it('follow the endpoint ID rules, at most 64 characters', () => {
    for (const ok of ['acme', 'a', 'a.b_c-d', 'x'.repeat(64)]) assert.equal(tenantIdProblem(ok), undefined, ok);
    assert.equal(tenantIdProblem(''), 'must not be empty');
    assert.equal(tenantIdProblem('x'.repeat(65)), 'must be at most 64 characters');
    for (const bad of ['a/b', '-a', 'a-', 'a b', 'é']) assert.match(tenantIdProblem(bad) ?? '', /may contain only/, bad);
  });
});

describe('endpoint keys', () => {
  it('are the endpoint ID for the default tenant, as in Piko', () => {
    assert.equal(endpointKey(undefined, e('web')), 'web');
  });

  it('differ between tenants and from the default tenant for the same endpoint ID', () => {
    const keys = [endpointKey(undefined, e('web')), endpointKey(t('a'), e('web')), endpointKey(t('b'), e('web'))];
    assert.equal(new Set(keys).size, 3);
    assert.equal(keys[1], 'a/web');
  });

  it('cannot collide: the separator is in no endpoint or tenant ID, so no (tenant, endpoint) pair makes another\'s key', () => {
    assert.notEqual(endpointIdProblem(`a${TENANT_SEPARATOR}b`), undefined);
    assert.notEqual(tenantIdProblem(`a${TENANT_SEPARATOR}b`), undefined);
    // A key with a tenant always holds the separator; a default-tenant key (a valid endpoint ID) never does.
    assert.ok(endpointKey(t('a.b'), e('c')).includes(TENANT_SEPARATOR));
    assert.notEqual(endpointKey(t('a'), e('b.c')), endpointKey(t('a.b'), e('c')));
  });

  it('split back into their tenant and endpoint ID', () => {
    assert.deepEqual(splitEndpointKey(endpointKey(t('acme'), e('web'))), { tenant: 'acme', endpointId: 'web' });
    assert.deepEqual(splitEndpointKey(e('web')), { tenant: undefined, endpointId: 'web' });
  });

  it('fit a gossip state key at the longest tenant and endpoint IDs (no change of the wire format)', () => {
    const longest = endpointKey(t('t'.repeat(64)), e('e'.repeat(128)));
    assert.ok(Buffer.byteLength(gossipStateKey(longest)) <= MAX_SHORT_STRING_BYTES);
  });
});
