import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serveHttp, type EndpointListener } from '../../../src/adapters/client/sdk/sdk.js';
import type { RebalanceLoop } from '../../../src/application/services/rebalance-loop.js';
import type { UpstreamDirectory } from '../../../src/application/services/upstream-directory.js';
import { buildServerContainer, type ServerNode } from '../../../src/main/create-server.js';
import { TOKENS } from '../../../src/main/tokens.js';
import { hostPort, loopbackServerConfig, startInProcessNode } from '../../support/cluster/in-process-node.js';
import { InMemoryLogger } from '../../support/fakes/in-memory-logger.js';
import { eventually, fetchRaw, type FullResponse } from '../../support/http.js';

const METRIC = 'piko_upstreams_rebalanced_sessions_total';
const ENDPOINTS = ['svc-1', 'svc-2', 'svc-3'] as const;
/** Node A rebalances eagerly; a grace period well above the test's duration lets held requests finish. */
const A_FLAGS = ['--upstream.rebalance.threshold', '0.1', '--upstream.rebalance.min-conns', '1', '--upstream.rebalance.shed-rate', '1', '--grace-period', '60s'];

/**
 * A tiny TCP load balancer in front of the upstream ports: each new connection goes to `target` as it is when
 * the connection arrives (the test points it at node A, then at node B, as a least-connections balancer would);
 * while `target` is empty, new connections wait for one.
 */
interface Front {
  readonly port: number;
  target: string;
  close(): Promise<void>;
}

async function startFront(): Promise<Front> {
  const sockets = new Set<Socket>();
  const waiting: Array<() => void> = [];
  let target = '';
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    return s;
  };
  const server: Server = createServer((client) => {
    track(client);
    client.on('error', () => client.destroy());
    const go = (): void => {
      if (client.destroyed) return;
      const i = target.lastIndexOf(':');
      const upstream = track(connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)) }));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    };
    if (target === '') waiting.push(go);
    else go();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get target() {
      return target;
    },
    set target(t: string) {
      target = t;
      if (t !== '') for (const go of waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Sum of a node's local listener counts, from its admin port. */
async function listenersOn(admin: string): Promise<number> {
  const res = await fetchRaw(admin, { path: '/status/upstream/endpoints' });
  return Object.values(res.json<Record<string, number>>()).reduce((a, b) => a + b, 0);
}

/** The value of the unlabelled `name` sample in a node's /metrics, or undefined when absent. */
async function metricOf(admin: string, name: string): Promise<{ help: boolean; value: number | undefined }> {
  const text = (await fetchRaw(admin, { path: '/metrics' })).body.toString();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return { help: text.includes(`# HELP ${name} `), value: m ? Number(m[1]) : undefined };
}

describe('rebalancing: a node holding every agent sheds its surplus by go-away (two in-process nodes, real gossip)', { timeout: 120_000 }, () => {
  let front: Front;
  let a: ServerNode;
  let aDirectory: UpstreamDirectory;
  let aUpstreamSize: () => number;
  let aRebalancer: RebalanceLoop;
  let b: ServerNode | undefined;
  const listeners: EndpointListener[] = [];
  /** Requests held open by the services until `release` is called. */
  const held: Array<() => void> = [];
  /** Per listener: held requests in flight now, and those in flight when its session got go-away. */
  const inFlight: number[] = [];
  const inFlightAtGoAway: number[] = [];
  let goAways = 0;
  const logA = new InMemoryLogger();

  before(async () => {
    front = await startFront();
    const container = buildServerContainer(loopbackServerConfig('node-a', A_FLAGS), { logger: logA });
    a = container.get(TOKENS.ServerNode);
    await a.start();
    aDirectory = container.get(TOKENS.UpstreamDirectory);
    const upstreamServer = container.get(TOKENS.UpstreamServer);
    aUpstreamSize = () => upstreamServer.size;
    aRebalancer = container.get(TOKENS.Rebalancer);
    front.target = hostPort(a.addresses.upstream);
    // Six agents, two per endpoint, all through the front to node A (a cluster of one: nothing to rebalance).
    for (let i = 0; i < 6; i += 1) {
      const endpoint = ENDPOINTS[i % 3] as string;
      inFlight.push(0);
      const handler = (req: IncomingMessage, res: ServerResponse): void => {
        if (req.url === '/hold') {
          inFlight[i] = (inFlight[i] ?? 0) + 1;
          held.push(() => {
            inFlight[i] = (inFlight[i] ?? 0) - 1;
            res.end(`held ${endpoint}`);
          });
          return;
        }
        res.end(`${endpoint} ${req.url}`);
      };
      const l = await serveHttp(endpoint, handler, { url: `http://127.0.0.1:${front.port}`, minReconnectBackoffMs: 20, maxReconnectBackoffMs: 200 });
      l.on('disconnected', (reason: string) => {
        if (reason !== 'server sent go-away') return;
        goAways += 1;
        inFlightAtGoAway.push(inFlight[i] ?? 0);
      });
      listeners.push(l);
    }
    await eventually(() => aDirectory.connectionCount() === 6, 15_000, 'six agents on node A');
  });

  after(async () => {
    for (const release of held.splice(0)) release();
    for (const l of listeners) l.shutdown();
    await Promise.all([a?.stop(), b?.stop()]);
    await front?.close();
  });

  it('sheds 3 of 6 by go-away once node B joins; the agents reconnect to B, held requests finish, no request fails', async () => {
    // Requests that stay in flight on A's sessions while they are shed.
    const aProxy = hostPort(a.addresses.proxy);
    const holds: Array<Promise<FullResponse>> = [];
    for (const endpoint of ENDPOINTS) for (let k = 0; k < 2; k += 1) holds.push(fetchRaw(aProxy, { path: '/hold', headers: { 'x-piko-endpoint': endpoint }, timeoutMs: 90_000 }));
    let holdsSettled = 0;
    for (const h of holds) void h.then(() => (holdsSettled += 1), () => (holdsSettled += 1));
    await eventually(() => held.length === 6, 15_000, 'six held requests on the services');
    assert.equal(aRebalancer.running, true);

    // A steady request loop through A (and through B once B serves every endpoint), bounded in count and time.
    const proxies = [aProxy];
    const failures: string[] = [];
    let sent = 0;
    let stop = false;
    const loopUntil = Date.now() + 60_000;
    const loop = async (worker: number): Promise<void> => {
      for (let i = worker; !stop && sent < 6_000 && Date.now() < loopUntil; i += 2) {
        const endpoint = ENDPOINTS[i % 3] as string;
        const addr = proxies[i % proxies.length] as string;
        sent += 1;
        try {
          const res = await fetchRaw(addr, { path: `/n${i}`, headers: { 'x-piko-endpoint': endpoint }, timeoutMs: 10_000 });
          if (res.status !== 200 || res.body.toString() !== `${endpoint} /n${i}`) failures.push(`${addr} ${endpoint}: ${res.status} ${res.body.toString()}`);
        } catch (err) {
          failures.push(`${addr} ${endpoint}: ${String(err)}`);
        }
      }
    };
    const loops = Promise.all([loop(0), loop(1)]);

    // New agent connections wait for B, then go to B; B joins A's cluster (B does not rebalance: threshold 0).
    front.target = '';
    const gossipA = logA.filter({ message: 'gossip started' })[0]?.fields['bind-addr'];
    assert.equal(typeof gossipA, 'string');
    const started = await startInProcessNode('node-b', {}, ['--cluster.join', String(gossipA), '--grace-period', '60s']);
    b = started.node;
    const bNode = b;
    front.target = hostPort(bNode.addresses.upstream);
    const bAdmin = hostPort(bNode.addresses.admin);
    const bProxy = hostPort(bNode.addresses.proxy);
    // The loop also goes through B once B has learnt every endpoint (before that B rightly answers 502).
    await eventually(
      async () => {
        for (const endpoint of ENDPOINTS) {
          const res = await fetchRaw(bProxy, { path: '/probe', headers: { 'x-piko-endpoint': endpoint } }).catch(() => undefined);
          if (res?.status !== 200) return false;
        }
        return true;
      },
      15_000,
      'node B serving every endpoint',
    );
    proxies.push(bProxy);

    await eventually(async () => goAways >= 3 && aDirectory.connectionCount() === 3 && (await listenersOn(bAdmin)) === 3, 30_000, 'three agents moved from A to B');
    // The sessions were shed by go-away, not closed: the requests held on them are still in flight.
    assert.equal(holdsSettled, 0, 'no held request ended when its session was shed');
    assert.ok(inFlightAtGoAway.some((n) => n > 0), `a shed session carried a held request (in flight at go-away: ${inFlightAtGoAway.join(',')})`);
    for (const release of held.splice(0)) release();
    const responses = await Promise.all(holds);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.deepEqual(responses.map((r) => r.body.toString()).sort(), ENDPOINTS.flatMap((e) => [`held ${e}`, `held ${e}`]).sort());
    // A shed session is closed once its streams have finished.
    await eventually(() => aUpstreamSize() === 3, 15_000, 'the drained sessions closed on A');

    // Let the loop run on through the settled cluster for a bounded while, then stop it.
    const settledAt = sent;
    await eventually(() => sent >= settledAt + 100 || Date.now() >= loopUntil, 30_000, 'a hundred more requests');
    stop = true;
    await loops;
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    assert.ok(sent > 100, `the loop sent ${sent} requests`);

    // Counted on A (with its help text), exactly the go-aways the agents saw; not declared on B (rebalancing off).
    const onA = await metricOf(hostPort(a.addresses.admin), METRIC);
    assert.equal(onA.help, true);
    assert.equal(onA.value, goAways);
    assert.ok(goAways >= 3, `go-aways: ${goAways}`);
    assert.equal((await metricOf(bAdmin, METRIC)).help, false);
    assert.equal(aDirectory.connectionCount() + (await listenersOn(bAdmin)), 6, 'every agent is connected somewhere');
    assert.ok(logA.filter({ level: 'info', message: 'rebalance: shedding upstream connections (go-away)' }).length >= 1);
    console.log(`# rebalance: ${goAways} go-aways, ${sent} requests in the loop, 0 failed`);
  });

  it('stops rebalancing at shutdown', async () => {
    await a.stop();
    assert.equal(aRebalancer.running, false);
  });
});
