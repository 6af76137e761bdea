import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { Forwarder } from '../../../../../src/application/ports/forwarder.port.js';
import { DispatchRequest } from '../../../../../src/application/use-cases/dispatch-request.use-case.js';
import { declareTcpRouteMetrics } from '../../../../../src/adapters/server/proxy/tcp-route-metrics.js';
import { createTcpTunnelRoute } from '../../../../../src/adapters/server/proxy/tcp-tunnel-route.js';
import { TCP_PATH } from '../../../../../src/adapters/wire/routes.js';
import type { EndpointId } from '../../../../../src/domain/endpoint/endpoint-id.js';
import { duplexPair } from '../../../../support/duplex-pair.js';
import { FakeUpstreamConnection } from '../../../../support/fakes/fake-upstream-connection.js';
import { InMemoryMetrics } from '../../../../support/fakes/in-memory-metrics.js';
import { harness } from '../../../application/use-cases/harness.js';

const EP = 'db' as EndpointId;
const HANDSHAKE = {
  host: 'proxy',
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

function setup(withUpstream = true) {
  const h = harness();
  const upstream = new FakeUpstreamConnection('u1', EP);
  if (withUpstream) h.register.execute(upstream);
  const metrics = new InMemoryMetrics();
  const route = createTcpTunnelRoute(
    { maxMessageBytes: 1024 },
    {
      dispatch: new DispatchRequest(h.route, h.unregister, h.log),
      forwarder: {} as Forwarder,
      log: h.log,
      metrics: declareTcpRouteMetrics(metrics),
    },
  );
  const [server, client] = duplexPair();
  const request = (headers: Record<string, string | undefined>, method = 'GET', url = `${TCP_PATH}${EP}`): boolean =>
    route({ url, method, headers } as unknown as IncomingMessage, server, Buffer.alloc(0));
  const reply = async (): Promise<string> => {
    const [chunk] = (await once(client, 'data')) as [Buffer];
    return chunk.toString('latin1');
  };
  return { upstream, metrics, server, client, request, reply };
}

describe('createTcpTunnelRoute', () => {
  it('leaves other paths to the caller', () => {
    const { request } = setup();
    assert.equal(request(HANDSHAKE, 'GET', '/other'), false);
  });

  it('refuses a bad handshake before any stream is opened', async () => {
    const { upstream, metrics, request, reply } = setup();
    assert.equal(request({ ...HANDSHAKE, 'sec-websocket-key': undefined }), true);
    assert.match(await reply(), /^HTTP\/1\.1 400 [\s\S]*Sec-WebSocket-Key/);
    assert.equal(upstream.openStreamCalls, 0);
    assert.equal(metrics.value('piko_proxy_tcp_refused_total', { reason: 'bad_handshake' }), 1);
  });

  it('answers 502 when the endpoint has no upstream', async () => {
    const { metrics, request, reply } = setup(false);
    request(HANDSHAKE);
    assert.match(await reply(), /^HTTP\/1\.1 502 [\s\S]*no available upstreams/);
    assert.equal(metrics.value('piko_proxy_tcp_refused_total', { reason: 'no_upstream' }), 1);
  });

  it('opens a stream, upgrades, and counts the tunnel', async () => {
    const { upstream, metrics, request, reply } = setup();
    request(HANDSHAKE);
    assert.match(await reply(), /^HTTP\/1\.1 101 /);
    assert.equal(upstream.opened.length, 1);
    assert.equal(metrics.value('piko_proxy_tcp_connections_total'), 1);
    assert.equal(metrics.value('piko_proxy_tcp_connections_active'), 1);
  });

  it('owns a stream whose upgrade never completes: it is destroyed and its error harms nobody', async () => {
    const { upstream, server, request } = setup();
    server.end(); // the socket can no longer be written: ws gives up the upgrade and destroys it
    request(HANDSHAKE);
    const stream = upstream.opened[0];
    assert.ok(stream !== undefined);
    if (!stream.destroyed) await once(stream, 'close');
    assert.equal(stream.destroyed, true);
    assert.doesNotThrow(() => stream.emit('error', new Error('reset by the agent')));
  });
});
