import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServerNode } from '../../../src/main/create-server.js';
import { hostPort, startInProcessNode } from '../../support/cluster/in-process-node.js';
import { fetchRaw } from '../../support/http.js';

/**
 * A node asked by another node (the hop marker) for an endpoint it holds no upstream for: a body-less request is
 * answered at once with the unserved mark, so the asking node can try another holder or wait itself, instead of
 * being held here for `proxy.upstream_wait` (it could only be served by an agent reconnecting to this node).
 */
describe('a forwarded request reaching a node without an upstream', { timeout: 120_000 }, () => {
  let node: ServerNode;

  before(async () => {
    node = (await startInProcessNode('node-a', {}, ['--proxy.upstream-wait', '60s'])).node;
  });

  after(async () => {
    await node?.stop();
  });

  it('is answered 502 with the unserved mark at once, not after the 60 s upstream wait', async () => {
    const res = await fetchRaw(hostPort(node.addresses.proxy), {
      path: '/x',
      headers: { 'x-piko-endpoint': 'nobody', 'x-piko-forward': 'true' },
      timeoutMs: 30_000,
    });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-piko-unserved'], '1');
    assert.deepEqual(res.json(), { error: 'no available upstreams' });
  });

  it('is held for the upstream wait when it has a body (the asking node could not replay it)', async () => {
    const pending = fetchRaw(hostPort(node.addresses.proxy), {
      method: 'POST',
      path: '/x',
      headers: { 'x-piko-endpoint': 'nobody', 'x-piko-forward': 'true', 'content-length': '2' },
      body: 'hi',
      timeoutMs: 1_000,
    });
    await assert.rejects(pending, /timeout/, 'still waiting after 1 s');
  });
});
