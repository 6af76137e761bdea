import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import express from 'express';

import { createAdminApp, type AdminDeps } from '../../src/adapters/server/admin/admin-router.js';
import { startAdminServer, type AdminServer } from '../../src/adapters/server/admin/admin-server.js';
import { PromMetrics } from '../../src/adapters/platform/metrics/prom-metrics.adapter.js';
import { SingleNodeClusterStatus } from '../../src/adapters/server/admin/cluster-status.js';
import { asNodeId } from '../../src/domain/node/node.js';
import { FakeClusterMembership } from '../support/fakes/fake-cluster-membership.js';
import { InMemoryLogger } from '../support/fakes/in-memory-logger.js';
import { EndpointFixtures } from '../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../support/fixtures/node.fixtures.js';

/** Starts an admin app on 127.0.0.1:0 for the duration of one suite. */
function adminServer(deps: () => AdminDeps): { url: (path: string) => string } {
  let server: AdminServer | undefined;
  before(async () => {
    server = await startAdminServer(createAdminApp(deps()), '127.0.0.1', 0);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    url: (path) => {
      assert.ok(server, 'server started');
      return `http://127.0.0.1:${server.address.port}${path}`;
    },
  };
}

describe('createAdminApp', () => {
  describe('having the built-in routes', () => {
    let ready = false;
    const metrics = new PromMetrics();
    metrics.counter({ name: 'piko_proxy_requests_total', help: 'Requests.', labelNames: ['status', 'method'] }).inc({
      status: '200',
      method: 'GET',
    });
    const endpoints: Record<string, number> = { 'my-endpoint': 2, other: 1 };
    const { url } = adminServer(() => ({
      isReady: () => ready,
      metrics,
      upstreamEndpoints: () => endpoints,
    }));

    it('answers GET /health with 200 and an empty body', async () => {
      const response = await fetch(url('/health'));

      assert.equal(response.status, 200);
      assert.equal(await response.text(), '');
      assert.equal(response.headers.get('x-powered-by'), null);
    });

    it('answers GET /ready with 503, then 200, then 503 as readiness changes', async () => {
      const statuses: number[] = [];
      const bodies: string[] = [];
      for (const value of [false, true, false]) {
        ready = value;
        const response = await fetch(url('/ready'));
        statuses.push(response.status);
        bodies.push(await response.text());
      }

      assert.deepEqual(statuses, [503, 200, 503]);
      assert.deepEqual(bodies, ['', '', '']);
    });

    it('serves the metrics registry at GET /metrics', async () => {
      const response = await fetch(url('/metrics'));
      const text = await response.text();

      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), metrics.contentType);
      assert.match(text, /^piko_proxy_requests_total\{status="200",method="GET"\} 1$/m);
    });

    it('serves local endpoint connection counts at GET /status/upstream/endpoints', async () => {
      endpoints.late = 5;
      const response = await fetch(url('/status/upstream/endpoints'));

      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await response.json(), { 'my-endpoint': 2, other: 1, late: 5 });
    });

    it('answers unknown routes and methods with 404 JSON', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/status/cluster/nodes'],
        ['POST', '/health'],
      ] as const) {
        const response = await fetch(url(path), { method });

        assert.equal(response.status, 404, `${method} ${path}`);
        assert.deepEqual(await response.json(), { error: 'not found' });
      }
    });
  });

  describe('having a failing dependency', () => {
    const logger = new InMemoryLogger().child('admin');
    const { url } = adminServer(() => ({
      isReady: () => {
        throw new Error('readiness exploded');
      },
      metrics: { contentType: 'text/plain', text: () => Promise.reject(new Error('scrape failed')) },
      upstreamEndpoints: () => ({}),
      logger,
    }));

    it('answers 500 JSON for a rejected promise and a throw, and logs both', async () => {
      for (const path of ['/metrics', '/ready']) {
        const response = await fetch(url(path));

        assert.equal(response.status, 500, path);
        assert.deepEqual(await response.json(), { error: 'internal server error' });
      }
      assert.deepEqual(
        logger.entries.map((entry) => [entry.level, entry.subsystem, entry.message, entry.fields.path]),
        [
          ['error', 'admin', 'admin request failed', '/metrics'],
          ['error', 'admin', 'admin request failed', '/ready'],
        ],
      );
    });
  });

  describe('having middleware and extra routers', () => {
    const status = express.Router();
    status.get('/status/cluster/nodes', (_req, res) => {
      res.json([]);
    });
    status.get('/status/teapot', () => {
      throw Object.assign(new Error('short and stout'), { status: 418 });
    });
    const { url } = adminServer(() => ({
      isReady: () => true,
      metrics: new PromMetrics(),
      upstreamEndpoints: () => ({}),
      middleware: [
        (req, res, next) => {
          if (req.headers.authorization === 'Bearer admin') next();
          else res.status(401).json({ error: 'missing token' });
        },
      ],
      routers: [status],
    }));

    it('runs the middleware before every route, the 404 included', async () => {
      for (const path of ['/health', '/nope']) {
        assert.equal((await fetch(url(path))).status, 401, path);
      }
    });

    it('serves the extra routes and keeps the 404 after them', async () => {
      const headers = { authorization: 'Bearer admin' };

      assert.deepEqual(await (await fetch(url('/status/cluster/nodes'), { headers })).json(), []);
      assert.equal((await fetch(url('/health'), { headers })).status, 200);
      assert.equal((await fetch(url('/nope'), { headers })).status, 404);
    });

    it('answers an error carrying a 4xx status with that status', async () => {
      const response = await fetch(url('/status/teapot'), { headers: { authorization: 'Bearer admin' } });

      assert.equal(response.status, 418);
      assert.deepEqual(await response.json(), { error: 'short and stout' });
    });
  });
});

describe('createAdminApp with the cluster status (Piko §3.3 shapes)', () => {
  const membership = new FakeClusterMembership(asNodeId('local-1'), [
    NodeFixtures.build({ id: 'remote-b', status: 'unreachable', endpoints: [[EndpointFixtures.any, 2], [EndpointFixtures.other, 3]] }),
  ]);
  before(() => membership.start({ id: asNodeId('local-1'), proxyAddr: 'local.test:8000', adminAddr: 'local.test:8002' }));
  membership.setLocalEndpoint(EndpointFixtures.any, 1);
  const cluster = new SingleNodeClusterStatus(membership, '127.0.0.1:8003');
  const { url } = adminServer(() => ({ isReady: () => true, metrics: new PromMetrics(), upstreamEndpoints: () => ({}), cluster }));

  it('lists the cluster nodes sorted by ID with endpoint and upstream counts', async () => {
    const response = await fetch(url('/status/cluster/nodes'));

    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), [
      { id: 'local-1', status: 'active', proxy_addr: 'local.test:8000', admin_addr: 'local.test:8002', endpoints: 1, upstreams: 1 },
      { id: 'remote-b', status: 'unreachable', proxy_addr: 'remote-b.test:8000', admin_addr: 'remote-b.test:8002', endpoints: 2, upstreams: 5 },
    ]);
  });

  it('answers one node, by ID or as "local", with its endpoint map, and 404 for an unknown ID', async () => {
    const local = { id: 'local-1', status: 'active', proxy_addr: 'local.test:8000', admin_addr: 'local.test:8002', endpoints: { 'my-endpoint': 1 } };
    assert.deepEqual(await (await fetch(url('/status/cluster/nodes/local'))).json(), local);
    assert.deepEqual(await (await fetch(url('/status/cluster/nodes/local-1'))).json(), local);
    assert.deepEqual(await (await fetch(url('/status/cluster/nodes/remote-b'))).json(), {
      id: 'remote-b', status: 'unreachable', proxy_addr: 'remote-b.test:8000', admin_addr: 'remote-b.test:8002',
      endpoints: { 'my-endpoint': 2, 'other-endpoint': 3 },
    });
    const unknown = await fetch(url('/status/cluster/nodes/nope'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'node not found' });
  });

  it('answers endpoints: null for a node with no endpoint, as Piko (Go\'s nil map) does', async () => {
    membership.setLocalEndpoint(EndpointFixtures.any, 0);
    try {
      assert.equal((await (await fetch(url('/status/cluster/nodes/local'))).json() as { endpoints: unknown }).endpoints, null);
    } finally {
      membership.setLocalEndpoint(EndpointFixtures.any, 1);
    }
  });

  it('lists the gossip nodes and answers one with its versioned Entries', async () => {
    const list = await fetch(url('/status/gossip/nodes'));
    assert.equal(list.status, 200);
    const [summary] = (await list.json()) as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(summary ?? {}), ['id', 'addr', 'version', 'left', 'unreachable', 'expiry']);
    assert.equal(summary?.id, 'local-1');
    assert.equal(summary?.addr, '127.0.0.1:8003');
    assert.equal(summary?.expiry, '0001-01-01T00:00:00Z');
    assert.equal(typeof summary?.version, 'number');

    const one = (await (await fetch(url('/status/gossip/nodes/local-1'))).json()) as { Entries: Array<Record<string, unknown>> };
    assert.deepEqual(
      one.Entries.map((e) => [e.key, e.value, e.internal, e.deleted]),
      [['proxy_addr', 'local.test:8000', false, false], ['admin_addr', 'local.test:8002', false, false], ['endpoint:my-endpoint', '1', false, false]],
    );
    assert.deepEqual(one.Entries.map((e) => typeof e.version), ['number', 'number', 'number']);
    assert.equal((await fetch(url('/status/gossip/nodes/nope'))).status, 404);
  });

  it('serves ?forward=<local ID> here and answers 404 for an unknown node, on any route', async () => {
    assert.equal((await fetch(url('/health?forward=local-1'))).status, 200);
    assert.equal((await fetch(url('/status/cluster/nodes?forward='))).status, 200);
    const unknown = await fetch(url('/status/upstream/endpoints?forward=elsewhere'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'node not found' });
  });
});

describe('startAdminServer', () => {
  it('reports the bound address and stops idempotently, even with a kept-alive connection', async () => {
    const server = await startAdminServer(
      createAdminApp({ isReady: () => true, metrics: new PromMetrics(), upstreamEndpoints: () => ({}) }),
      '127.0.0.1',
      0,
    );

    assert.equal(server.address.host, '127.0.0.1');
    assert.ok(server.address.port > 0);
    assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/health`)).status, 200);

    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    assert.equal(server.server.listening, false);
  });

  it('rejects with the listen error when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await assert.rejects(
        startAdminServer((_req, res) => res.end(), '127.0.0.1', port),
        { code: 'EADDRINUSE' },
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
