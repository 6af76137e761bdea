import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { splitAddr } from '../../support/http.js';
import { SKIP_INTEROP, startGoAgent, startGoForward, startGoServer, waitForEndpoint, type GoServer } from '../../support/piko-binary.js';
import { startAgent, startForward, startServer, type Proc, type ServerProc } from '../../support/processes.js';

type Impl = 'Piko' | 'piko-ts';

/**
 * An echo service on 127.0.0.1:0. A connection whose first bytes are `tag:<name>;` is remembered under that
 * name, and `endedTags` collects the names of those whose client side has ended (FIN or close).
 */
async function echoService(): Promise<{ port: number; endedTags: Set<string>; close(): void }> {
  const sockets = new Set<Socket>();
  const endedTags = new Set<string>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    let tag: string | undefined;
    s.once('data', (first: Buffer) => (tag = /^tag:([^;]+);/.exec(first.toString('latin1'))?.[1]));
    const ended = (): void => {
      if (tag !== undefined) endedTags.add(tag);
    };
    s.on('end', ended);
    s.on('close', () => {
      ended();
      sockets.delete(s);
    });
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    endedTags,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Sends `payload` on a new connection to `addr` and resolves with what comes back once as many bytes have
 * arrived; the client then resets the connection, which every path tears down at once (how an orderly close
 * travels is tested apart).
 */
async function echoRoundTrip(addr: string, payload: Buffer): Promise<Buffer> {
  const [host, port] = splitAddr(addr);
  const socket = connect({ host, port });
  try {
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        if (received >= payload.length) resolve();
      });
      socket.once('close', () => reject(new Error(`closed after ${received} of ${payload.length} bytes`)));
      socket.once('error', reject);
    });
    socket.write(payload);
    await done;
    return Buffer.concat(chunks);
  } finally {
    socket.resetAndDestroy();
  }
}

/**
 * TCP through `agent tcp` and `forward tcp` in every pairing of the two implementations: for each server, an
 * agent of each kind registers its own endpoint, and a forward of each kind dials each endpoint.
 */
describe('interop TCP: forward → server → agent tcp → service, every mix of Piko and piko-ts', { skip: SKIP_INTEROP }, () => {
  let echo: Awaited<ReturnType<typeof echoService>>;
  let goServer: GoServer;
  let tsServer: ServerProc;
  const procs: Proc[] = [];
  /** `<server>/<agent>/<forward>` → the forward's local address. */
  const forwards = new Map<string, string>();

  before(async () => {
    echo = await echoService();
    goServer = await startGoServer();
    tsServer = await startServer();
    const servers: Array<[Impl, { proxy: string; upstream: string; admin: string }]> = [
      ['Piko', goServer.addrs],
      ['piko-ts', tsServer.addrs],
    ];
    for (const [serverImpl, addrs] of servers) {
      procs.push(await startGoAgent('tcp', 'tcp-by-piko', `127.0.0.1:${echo.port}`, addrs));
      procs.push(await startAgent(['tcp', 'tcp-by-ts', `127.0.0.1:${echo.port}`, '--connect.url', `http://${addrs.upstream}`]));
      await waitForEndpoint(addrs.admin, 'tcp-by-ts');
      for (const [agentImpl, endpoint] of [['Piko', 'tcp-by-piko'], ['piko-ts', 'tcp-by-ts']] as const) {
        const goForward = await startGoForward(endpoint, addrs.proxy);
        procs.push(goForward);
        forwards.set(`${serverImpl}/${agentImpl}/Piko`, goForward.addr);
        const tsForward = await startForward(endpoint, addrs.proxy);
        procs.push(tsForward);
        forwards.set(`${serverImpl}/${agentImpl}/piko-ts`, tsForward.addr);
      }
    }
  });

  after(async () => {
    // Forwards first: their tunnels close, so the agents have nothing left to drain.
    for (const proc of [...procs].reverse()) await proc.stop();
    await goServer?.stop();
    await tsServer?.stop();
    echo?.close();
  });

  for (const server of ['Piko', 'piko-ts'] as const) {
    for (const agent of ['Piko', 'piko-ts'] as const) {
      for (const forward of ['Piko', 'piko-ts'] as const) {
        it(`${forward} forward → ${server} server → ${agent} agent: 1 MiB echoed intact, then 20 connections at once`, { timeout: 30_000 }, async () => {
          const addr = forwards.get(`${server}/${agent}/${forward}`);
          assert.ok(addr);
          const big = randomBytes(1024 * 1024);

          assert.ok((await echoRoundTrip(addr, big)).equals(big));
          const small = Array.from({ length: 20 }, (_, i) => Buffer.from(`connection ${i} `.repeat(100)));
          const echoed = await Promise.all(small.map((p) => echoRoundTrip(addr, p)));
          echoed.forEach((got, i) => assert.ok(got.equals(small[i]!), `connection ${i}`));
        });

        // piko-ts marks the end of one direction with an empty binary message and keeps the other open
        // (half-close) where the server says it can (a piko-ts server's upgrade answer); Piko's server drops
        // that marker, so behind it the piko-ts forward closes both directions as Piko's forward does.
        it(`${forward} forward → ${server} server → ${agent} agent: the service sees the client's orderly close (FIN)`, {
          timeout: 30_000,
        }, async () => {
          const addr = forwards.get(`${server}/${agent}/${forward}`);
          assert.ok(addr);
          const tag = `${server}-${agent}-${forward}`;
          const [host, port] = splitAddr(addr);
          const socket = connect({ host, port, allowHalfOpen: true });
          socket.on('error', () => {});
          try {
            await once(socket, 'connect');
            socket.write(`tag:${tag};`);
            await once(socket, 'data');
            socket.end();
            // A deadlock guard, not a speed bound.
            const deadline = Date.now() + 10_000;
            while (!echo.endedTags.has(tag) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            assert.ok(echo.endedTags.has(tag), 'the service saw the end of the client\'s stream');
          } finally {
            socket.resetAndDestroy();
          }
        });
      }
    }
  }
});
