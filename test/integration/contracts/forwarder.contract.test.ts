import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { SystemClock } from '../../../src/adapters/platform/clock/system-clock.js';
import { HttpProxyForwarder } from '../../../src/adapters/server/proxy/http-proxy-forwarder.adapter.js';
import { WsUpstreamConnection } from '../../../src/adapters/server/upstream/ws-upstream-connection.js';
import { withSocketShape } from '../../../src/adapters/http/socket-shape.js';
import { MuxSession } from '../../../src/adapters/wire/mux/index.js';
import { asNodeId } from '../../../src/domain/node/node.js';
import { forwarderContract, scriptHandler, type Received, type TargetScript } from '../../support/contracts/forwarder.contract.js';
import { duplexPair } from '../../support/duplex-pair.js';
import { FakeForwarder, type FakeTargetHandler } from '../../support/fakes/fake-forwarder.js';
import { FakeUpstreamConnection } from '../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../support/fixtures/endpoint.fixtures.js';

/*
 * The Forwarder contract against the real HttpProxyForwarder and the in-memory FakeForwarder. The real one
 * reaches an upstream through a WsUpstreamConnection whose mux session runs over an in-memory duplex pair; the
 * agent's side answers with a node:http server fed one connection per accepted tunnel stream. A node target is
 * a node:http server on 127.0.0.1 standing for a peer's proxy port; a refusing node is a port just closed.
 */

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPort(): Promise<string> {
  const server = createServer();
  const addr = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return addr;
}

let upstreamCount = 0;

forwarderContract('Forwarder contract: HttpProxyForwarder', () => {
  const clock = new SystemClock();
  const forwarder = new HttpProxyForwarder(clock);
  const cleanups: Array<() => void | Promise<void>> = [];
  return {
    forwarder,
    upstream: (script: TargetScript) => {
      const received: Received[] = [];
      const [serverEnd, agentEnd] = duplexPair();
      const session = new MuxSession(serverEnd, { role: 'server', clock, keepAliveIntervalMs: 0 });
      const agent = new MuxSession(agentEnd, { role: 'client', clock, keepAliveIntervalMs: 0 });
      const service = createServer(scriptHandler(script, received));
      agent.on('stream', (stream: Duplex) => {
        stream.on('error', () => undefined);
        service.emit('connection', withSocketShape(stream));
      });
      upstreamCount += 1;
      const upstream = new WsUpstreamConnection(`upstream-${upstreamCount}`, EndpointFixtures.any, '127.0.0.1:50000', session);
      cleanups.push(() => {
        service.closeAllConnections();
        session.close();
        agent.close();
      });
      return { target: { kind: 'upstream', upstream }, received };
    },
    node: async (script: TargetScript, endpointId: string) => {
      const received: Received[] = [];
      const server = createServer(scriptHandler(script, received));
      const proxyAddr = await listen(server);
      cleanups.push(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      return { target: { kind: 'node', nodeId: asNodeId('node-peer'), proxyAddr, endpointId }, received };
    },
    refusedNode: async (endpointId: string) => ({ kind: 'node', nodeId: asNodeId('node-gone'), proxyAddr: await closedPort(), endpointId }),
    close: async () => {
      forwarder.close();
      for (const c of cleanups) await c();
    },
  };
});

/** A {@link TargetScript} as a FakeForwarder handler, recording what it receives. */
function fakeHandler(script: TargetScript, received: Received[]): FakeTargetHandler {
  return async (request) => {
    received.push(request);
    if (script.reset === true) return { kind: 'reset' };
    if (script.headerDelayMs !== undefined) await sleep(script.headerDelayMs);
    const chunks = script.chunks ?? [];
    async function* body(): AsyncGenerator<string> {
      for (let i = 0; i < chunks.length; i += 1) {
        if (i > 0 && script.chunkGapMs !== undefined) await sleep(script.chunkGapMs);
        yield chunks[i] as string;
      }
    }
    return { kind: 'respond', status: script.status ?? 200, headers: script.headers ?? {}, body: body() };
  };
}

let fakeNodes = 0;

forwarderContract('Forwarder contract: FakeForwarder', () => {
  const forwarder = new FakeForwarder();
  return {
    forwarder,
    upstream: (script: TargetScript) => {
      const received: Received[] = [];
      upstreamCount += 1;
      const upstream = new FakeUpstreamConnection(`fake-upstream-${upstreamCount}`, EndpointFixtures.any);
      forwarder.serveUpstream(upstream, fakeHandler(script, received));
      return { target: { kind: 'upstream', upstream }, received };
    },
    node: (script: TargetScript, endpointId: string) => {
      const received: Received[] = [];
      fakeNodes += 1;
      const proxyAddr = `fake-node-${fakeNodes}.test:8000`;
      forwarder.serveNode(proxyAddr, fakeHandler(script, received));
      return { target: { kind: 'node', nodeId: asNodeId(`fake-node-${fakeNodes}`), proxyAddr, endpointId }, received };
    },
    refusedNode: (endpointId: string) => ({ kind: 'node', nodeId: asNodeId('fake-node-gone'), proxyAddr: 'refusing.test:8000', endpointId }),
  };
});
