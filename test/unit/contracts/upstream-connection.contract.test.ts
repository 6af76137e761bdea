import type { Duplex } from 'node:stream';

import { MuxSession } from '../../../src/adapters/wire/mux/index.js';
import { WsUpstreamConnection } from '../../../src/adapters/server/upstream/ws-upstream-connection.js';
import { turns } from '../../support/contracts/contract-case.js';
import { upstreamConnectionContract } from '../../support/contracts/upstream-connection.contract.js';
import { duplexPair } from '../../support/duplex-pair.js';
import { FakeClock } from '../../support/fakes/fake-clock.js';
import { FakeUpstreamConnection } from '../../support/fakes/fake-upstream-connection.js';
import { EndpointFixtures } from '../../support/fixtures/endpoint.fixtures.js';

/*
 * The UpstreamConnection contract against the in-memory fake (its PassThrough streams echo by nature) and the
 * real connection, a server-side yamux session over an in-memory duplex pair with an echoing client-side
 * session (the agent) on the other end: no socket, and a fake clock that never moves (keepalive off).
 */

const expected = { id: 'upstream-1', endpointId: EndpointFixtures.any, remoteAddress: '127.0.0.1:50000' };

upstreamConnectionContract('UpstreamConnection contract: FakeUpstreamConnection', () => {
  const connection = new FakeUpstreamConnection(expected.id, expected.endpointId, expected.remoteAddress);
  return {
    connection,
    expected,
    hooks: {
      peerGoAway: () => connection.stopAccepting(),
      peerToldGoAway: () => connection.goAwayCalls > 0,
      peerSawClose: () => connection.closed,
    },
  };
});

upstreamConnectionContract('UpstreamConnection contract: WsUpstreamConnection over a mux session', () => {
  const clock = new FakeClock();
  const [serverEnd, agentEnd] = duplexPair();
  const server = new MuxSession(serverEnd, { role: 'server', clock, keepAliveIntervalMs: 0 });
  const agent = new MuxSession(agentEnd, { role: 'client', clock, keepAliveIntervalMs: 0 });
  agent.on('stream', (stream: Duplex) => {
    stream.on('error', () => undefined); // a reset from the server side is part of several cases
    stream.pipe(stream);
  });
  const connection = new WsUpstreamConnection(expected.id, expected.endpointId, expected.remoteAddress, server);
  return {
    connection,
    expected,
    hooks: {
      peerGoAway: async () => {
        agent.goAway();
        await turns();
      },
      peerDisconnect: async () => {
        agent.close();
        await turns();
      },
      peerToldGoAway: () => agent.remoteGoAway,
      peerSawClose: () => agent.closed,
      close: () => {
        server.close();
        agent.close();
      },
    },
  };
});
