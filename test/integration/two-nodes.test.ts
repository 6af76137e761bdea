import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dial, listen, serveHttp, type EndpointListener } from '../../src/adapters/client/sdk/sdk.js';
import type { ServerNode } from '../../src/main/create-server.js';
import { hostPort, startInProcessNode } from '../support/cluster/in-process-node.js';
import { FakeClusterMembership, mirrorMemberships } from '../support/fakes/fake-cluster-membership.js';
import { asNodeId } from '../../src/domain/node/node.js';
import { fetchRaw } from '../support/http.js';
import { spawnNode, CLI_JS } from '../support/processes.js';

describe('two in-process nodes sharing a fake membership (one hop at most)', () => {
  const memA = new FakeClusterMembership(asNodeId('node-a'));
  const memB = new FakeClusterMembership(asNodeId('node-b'));
  let a: ServerNode;
  let b: ServerNode;
  const listeners: EndpointListener[] = [];
  const seen: Array<Record<string, string | string[] | undefined>> = [];

  before(async () => {
    mirrorMemberships(memA, memB);
    a = (await startInProcessNode('node-a', { membership: memA })).node;
    b = (await startInProcessNode('node-b', { membership: memB })).node;
    listeners.push(
      await serveHttp(
        'on-a',
        (req, res) => {
          seen.push({ ...req.headers });
          res.end(`served on a: ${req.url}`);
        },
        { url: `http://${hostPort(a.addresses.upstream)}` },
      ),
    );
    const echo = await listen('tcp-on-a', { url: `http://${hostPort(a.addresses.upstream)}` });
    echo.on('connection', (socket) => socket.pipe(socket));
    listeners.push(echo);
  });

  after(async () => {
    for (const l of listeners) l.shutdown();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('serves a request through the node without the upstream, forwarded once to the node that has it', async () => {
    const res = await fetchRaw(hostPort(b.addresses.proxy), { path: '/via-b', headers: { 'x-piko-endpoint': 'on-a' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'served on a: /via-b');
    const headers = seen.at(-1) ?? {};
    assert.equal(headers['x-piko-forward'], undefined, 'the hop marker never reaches the service');
    assert.equal(headers['x-piko-endpoint'], undefined);
    assert.match(String(headers['x-forwarded-for']), /^127\.0\.0\.1/, 'the client address set by the first node is kept');
    assert.equal(memB.snapshot().remoteCandidates('on-a' as never).length, 1);
  });

  it('never forwards a request that already carries the hop marker (a client cannot bounce it around)', async () => {
    const res = await fetchRaw(hostPort(b.addresses.proxy), { headers: { 'x-piko-endpoint': 'on-a', 'x-piko-forward': 'true' } });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'no available upstreams' });
  });

  it('does not loop when both nodes wrongly believe the other holds the endpoint', async () => {
    const ghost = 'ghost-endpoint' as never;
    memA.setLocalEndpoint(ghost, 0);
    // Each node is told the other holds `ghost`; neither does.
    memB.remoteNodes = [{ ...memA.localNode, endpoints: new Map([[ghost, 1]]) }];
    memA.remoteNodes = [{ ...memB.localNode, endpoints: new Map([[ghost, 1]]) }];
    const res = await fetchRaw(hostPort(b.addresses.proxy), { headers: { 'x-piko-endpoint': 'ghost-endpoint' } });
    assert.equal(res.status, 502, 'b forwards to a, which serves locally or not at all');
    memB.remoteNodes = [memA.localNode];
    memA.remoteNodes = [memB.localNode];
  });

  it('answers ?forward=<node> on the admin port by asking that node (Piko status CLI --forward)', async () => {
    const res = await fetchRaw(hostPort(b.addresses.admin), { path: '/status/cluster/nodes/local?forward=node-a' });
    assert.equal(res.status, 200);
    assert.equal(res.json<{ id: string }>().id, 'node-a', 'node a answered about itself');
    const here = await fetchRaw(hostPort(b.addresses.admin), { path: '/status/cluster/nodes/local' });
    assert.equal(here.json<{ id: string }>().id, 'node-b');
    memB.remoteNodes = [memA.localNode, { ...memA.localNode, id: asNodeId('node-gone'), adminAddr: '127.0.0.1:1', endpoints: new Map() }];
    try {
      const gone = await fetchRaw(hostPort(b.addresses.admin), { path: '/status/cluster/nodes?forward=node-gone' });
      assert.equal(gone.status, 502);
      assert.match(gone.json<{ error: string }>().error, /node-gone did not answer/);
    } finally {
      memB.remoteNodes = [memA.localNode];
    }
  });

  it('piko-ts status cluster nodes prints both nodes as a table, and as JSON with --output json', async () => {
    const admin = `http://${hostPort(b.addresses.admin)}`;
    const tableRun = spawnNode(CLI_JS, ['status', 'cluster', 'nodes', '--server.url', admin]);
    assert.equal(await tableRun.exited, 0, tableRun.stderrText.join('\n'));
    const text = tableRun.stdoutText.join('');
    assert.match(text, /^ID\s+STATUS/);
    assert.match(text, /node-a\s+active/);
    assert.match(text, /node-b\s+active/);
    const jsonRun = spawnNode(CLI_JS, ['status', 'cluster', 'node', 'local', '--server.url', admin, '--forward', 'node-a', '--output', 'json']);
    assert.equal(await jsonRun.exited, 0);
    assert.equal((JSON.parse(jsonRun.stdoutText.join('')) as { id: string }).id, 'node-a');
  });

  it('carries a TCP tunnel through the other node', async () => {
    const conn = await dial('tcp-on-a', { url: `http://${hostPort(b.addresses.proxy)}` });
    conn.end('across two nodes');
    let got = '';
    for await (const chunk of conn) got += String(chunk);
    assert.equal(got, 'across two nodes');
  });

  it('retries on the other holder when the chosen node refuses the connection (nothing was sent)', async () => {
    const dead = { ...memA.localNode, id: asNodeId('node-dead'), proxyAddr: '127.0.0.1:1' };
    memB.remoteNodes = [dead, memA.localNode];
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetchRaw(hostPort(b.addresses.proxy), { headers: { 'x-piko-endpoint': 'on-a' } });
        assert.equal(res.status, 200, `request ${i}`);
      }
    } finally {
      memB.remoteNodes = [memA.localNode];
    }
  });
});
