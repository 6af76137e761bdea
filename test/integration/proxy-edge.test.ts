import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { SystemClock } from '../../src/adapters/platform/clock/system-clock.js';
import { declareProxyMetrics } from '../../src/adapters/server/proxy/proxy-metrics.js';
import { ProxyServer } from '../../src/adapters/server/proxy/proxy-server.js';
import type { ForwardTarget } from '../../src/application/ports/forwarder.port.js';
import { UpstreamGoneError } from '../../src/application/ports/upstream-transport.port.js';
import { DispatchRequest } from '../../src/application/use-cases/dispatch-request.use-case.js';
import { FakeForwarder } from '../support/fakes/fake-forwarder.js';
import { FakeUpstreamConnection } from '../support/fakes/fake-upstream-connection.js';
import { InMemoryMetrics } from '../support/fakes/in-memory-metrics.js';
import { EndpointFixtures } from '../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../support/fixtures/node.fixtures.js';
import { harness, type UseCaseHarness } from '../unit/application/use-cases/harness.js';

/*
 * The HTTP edge of the proxy port on its own: a ProxyServer on 127.0.0.1 built directly with the real dispatch
 * and routing use cases over an UpstreamDirectory and a FakeClusterMembership, and a FakeForwarder in place of
 * http-proxy-3, so each test says which targets the edge asked for and what the client got.
 */

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Edge {
  readonly h: UseCaseHarness;
  readonly forwarder: FakeForwarder;
  readonly proxy: ProxyServer;
  readonly port: number;
  /** What the forwarder saw of each request it was called for. */
  readonly seen: IncomingHttpHeaders[];
}

let edge: Edge;

beforeEach(async () => {
  const h = harness();
  const forwarder = new FakeForwarder();
  const seen: IncomingHttpHeaders[] = [];
  // By default every target answers 200 naming itself.
  forwarder.decide = (target, req, res) => {
    seen.push({ ...req.headers });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(describeTarget(target));
    return { kind: 'ok', status: 200 };
  };
  const clock = new SystemClock();
  const proxy = new ProxyServer(
    { timeoutMs: 5_000, readHeaderTimeoutMs: 10_000, idleTimeoutMs: 5_000, maxHeaderBytes: 16_384 },
    { dispatch: new DispatchRequest(h.route, h.unregister, h.log), forwarder, metrics: declareProxyMetrics(new InMemoryMetrics()), clock },
  );
  await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
  edge = { h, forwarder, proxy, port: (proxy.server.address() as AddressInfo).port, seen };
});

afterEach(async () => {
  edge.proxy.server.closeAllConnections();
  await new Promise<void>((resolve) => edge.proxy.server.close(() => resolve()));
});

function describeTarget(target: ForwardTarget): string {
  return target.kind === 'upstream' ? `upstream ${target.upstream.id}` : `node ${target.nodeId}`;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: edge.port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function register(id: string, endpointId = EndpointFixtures.any): FakeUpstreamConnection {
  const upstream = new FakeUpstreamConnection(id, endpointId);
  edge.h.register.execute(upstream);
  return upstream;
}

const errorOf = (a: Answer): unknown => (JSON.parse(a.body) as { error?: unknown }).error;

describe('ProxyServer edge with a fake forwarder', () => {
  describe('the endpoint', () => {
    it('a request naming no endpoint (no header, an IP Host) is answered 400 missing endpoint id', async () => {
      const answer = await get('/', { host: `127.0.0.1:${edge.port}` });
      assert.equal(answer.status, 400);
      assert.equal(errorOf(answer), 'missing endpoint id');
      assert.equal(edge.forwarder.calls.length, 0);
    });

    it('an invalid x-piko-endpoint is answered 400 naming the problem, not routed by Host', async () => {
      register('u1');
      const answer = await get('/', { 'x-piko-endpoint': 'not valid!', host: 'my-endpoint.example.com' });
      assert.equal(answer.status, 400);
      assert.match(String(errorOf(answer)), /^invalid endpoint id: .+/);
      assert.equal(edge.forwarder.calls.length, 0);
    });

    it('takes the endpoint from the first label of Host when no header names it', async () => {
      register('u-other', EndpointFixtures.other);
      register('u-mine', EndpointFixtures.any);
      const answer = await get('/path', { host: 'my-endpoint.example.com:8000' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'upstream u-mine');
      assert.equal(edge.forwarder.calls.length, 1);
    });

    it('strips x-piko-endpoint and x-piko-forward before the forwarder sees the request', async () => {
      register('u1');
      await get('/', { 'x-piko-endpoint': 'my-endpoint', 'x-piko-forward': 'true' });
      assert.equal(edge.seen[0]?.['x-piko-endpoint'], undefined);
      assert.equal(edge.seen[0]?.['x-piko-forward'], undefined);
    });
  });

  describe('routing', () => {
    it('an endpoint with no upstream is answered 502 no available upstreams and the forwarder is never called', async () => {
      const answer = await get('/', { 'x-piko-endpoint': 'nobody-here' });
      assert.equal(answer.status, 502);
      assert.equal(errorOf(answer), 'no available upstreams');
      assert.equal(edge.forwarder.calls.length, 0);
    });

    it('when the first upstream takes nothing (not-sent), the second one is called and answers', async () => {
      register('u1');
      register('u2');
      const answered = edge.forwarder.decide;
      assert.ok(answered !== undefined);
      let first = true;
      edge.forwarder.decide = (target, req, res) => {
        if (first) {
          first = false;
          return { kind: 'not-sent', error: new UpstreamGoneError('gone') };
        }
        return answered(target, req, res);
      };
      const answer = await get('/', { 'x-piko-endpoint': 'my-endpoint' });
      assert.equal(answer.status, 200);
      const [a, b] = edge.forwarder.calls;
      assert.equal(edge.forwarder.calls.length, 2);
      assert.ok(a !== undefined && b !== undefined);
      assert.equal(a.target.kind, 'upstream');
      assert.equal(b.target.kind, 'upstream');
      assert.notEqual(describeTarget(a.target), describeTarget(b.target), 'a different upstream the second time');
      assert.equal(answer.body, describeTarget(b.target));
      assert.equal(edge.h.directory.connectionCount(), 1, 'the gone upstream was unregistered');
    });

    it('every target taking nothing ends in 502 no available upstreams, written once', async () => {
      register('u1');
      register('u2');
      edge.forwarder.decide = () => ({ kind: 'not-sent', error: new UpstreamGoneError('gone') });
      const answer = await get('/', { 'x-piko-endpoint': 'my-endpoint' });
      assert.equal(answer.status, 502);
      assert.equal(errorOf(answer), 'no available upstreams');
      assert.equal(edge.forwarder.calls.length, 2);
    });

    it('a request not forwarded by a node may go to a peer node holding the endpoint', async () => {
      edge.h.membership.remoteNodes = [NodeFixtures.holding('node-b', EndpointFixtures.any, 1)];
      const answer = await get('/', { 'x-piko-endpoint': 'my-endpoint' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'node node-b');
      const target = edge.forwarder.calls[0]?.target;
      assert.equal(target?.kind === 'node' ? target.endpointId : '', 'my-endpoint');
    });

    it('x-piko-forward: true from the client is served only by a local upstream, never a node', async () => {
      edge.h.membership.remoteNodes = [NodeFixtures.holding('node-b', EndpointFixtures.any, 1)];
      const refused = await get('/', { 'x-piko-endpoint': 'my-endpoint', 'x-piko-forward': 'true' });
      assert.equal(refused.status, 502);
      assert.equal(errorOf(refused), 'no available upstreams');
      assert.equal(edge.forwarder.calls.length, 0, 'no node target was tried');

      register('u-local');
      const served = await get('/', { 'x-piko-endpoint': 'my-endpoint', 'x-piko-forward': 'true' });
      assert.equal(served.status, 200);
      assert.deepEqual(edge.forwarder.calls.map((c) => c.target.kind), ['upstream']);
    });
  });

  describe('the TCP route', () => {
    it('a plain GET of the TCP route without an upgrade is answered 426', async () => {
      register('u1');
      const answer = await get('/_piko/v1/tcp/my-endpoint');
      assert.equal(answer.status, 426);
      assert.equal(errorOf(answer), 'websocket upgrade required');
      assert.equal(answer.headers.upgrade, 'websocket');
      assert.equal(edge.forwarder.calls.length, 0);
    });

    it('a plain GET of the TCP route with an invalid endpoint is answered 400', async () => {
      const answer = await get('/_piko/v1/tcp/not%20valid!');
      assert.equal(answer.status, 400);
      assert.match(String(errorOf(answer)), /^invalid endpoint id: /);
    });
  });
});
