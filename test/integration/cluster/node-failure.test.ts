import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isReady, localEndpoints, nodePorts, poll, startClusterNginx, startClusterNode, type NodePorts } from '../../support/cluster/loopback-cluster.js';
import { nginxMissing, type NginxProc } from '../../support/cluster/nginx.js';
import { fetchRaw, startService } from '../../support/http.js';
import { startAgent, type Proc } from '../../support/processes.js';

/** How long the service takes to answer `/slow/*` requests: long enough to be in flight when a node stops. */
const SLOW_MS = 800;
const WORKERS = 3;
const MAX_REQUESTS_PER_WORKER = 20_000;

/** One failed request of a load loop. */
interface Failure {
  /** When the request was sent (epoch ms). */
  readonly sentAt: number;
  /** When it failed (epoch ms). */
  readonly at: number;
  readonly kind: string;
}

/** A bounded load loop of GETs through nginx, recording every failure until `stop()` is called. */
function startLoad(get: (path: string) => Promise<string | undefined>): { stop(): Promise<{ sent: number; failures: Failure[] }> } {
  let done = false;
  let sent = 0;
  const failures: Failure[] = [];
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; i < MAX_REQUESTS_PER_WORKER && !done; i++) {
      const sentAt = Date.now();
      const kind = await get(`/w${w}/r${i}`);
      sent++;
      if (kind !== undefined) failures.push({ sentAt, at: Date.now(), kind });
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return {
    async stop() {
      done = true;
      await load;
      return { sent, failures };
    },
  };
}

const skip = nginxMissing();

/**
 * Three nodes behind a real nginx used by the agent and the clients alike; the node holding the agent's
 * connection stops, gracefully (SIGTERM) and then abruptly (SIGKILL), while requests keep arriving.
 */
describe('the node holding the upstream stops behind nginx', { skip, timeout: 240_000 }, () => {
  const nodes: NodePorts[] = [];
  const procs = new Map<string, Proc>();
  let agent: Proc | undefined;
  let nginx: NginxProc | undefined;
  let service: Awaited<ReturnType<typeof startService>>;
  let slowInFlight = 0;

  const startNode = async (n: NodePorts): Promise<void> => {
    const join = nodes.filter((o) => o !== n && procs.has(o.id)).map((o) => o.gossip);
    procs.set(n.id, await startClusterNode(n, join, ['--proxy.upstream-wait', '10s']));
  };
  /** The node whose admin port lists the agent's endpoint as local, once exactly one does. */
  const holder = async (except?: NodePorts): Promise<NodePorts> => {
    let found: NodePorts | undefined;
    await poll(async () => {
      const holding: NodePorts[] = [];
      for (const n of nodes) if (n !== except && procs.has(n.id) && (await localEndpoints(n.admin)).includes('web')) holding.push(n);
      found = holding.length === 1 ? holding[0] : undefined;
      return found !== undefined;
    }, 30_000, `one node${except ? ` other than ${except.id}` : ''} holding the agent's endpoint`);
    return found!;
  };
  const get = async (addr: string, path: string): Promise<string | undefined> => {
    try {
      const res = await fetchRaw(addr, { path, headers: { 'x-piko-endpoint': 'web' }, timeoutMs: 30_000 });
      if (res.status !== 200) return `status ${res.status} ${res.body.toString().trim().slice(0, 80)}`;
      if (res.body.toString() !== `svc ${path}`) return `wrong body ${JSON.stringify(res.body.toString().slice(0, 80))}`;
      return undefined;
    } catch (err) {
      return `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  };

  before(async () => {
    service = await startService((req, res) => {
      if (!req.url?.startsWith('/slow/')) return void res.end(`svc ${req.url}`);
      slowInFlight++;
      setTimeout(() => {
        slowInFlight--;
        res.end(`svc ${req.url}`);
      }, SLOW_MS);
    });
    for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(await nodePorts(id));
    nginx = await startClusterNginx(nodes);
    for (const n of nodes) await startNode(n);
    agent = await startAgent(['http', 'web', `127.0.0.1:${service.port}`, '--connect.url', `http://${nginx.listen.piko_upstream}`]);
    const proxy = nginx.listen.piko_proxy!;
    await poll(async () => (await get(proxy, '/warm-up')) === undefined, 20_000, 'a first request through nginx to succeed');
  });

  after(async () => {
    await Promise.all([...procs.values(), ...(agent ? [agent] : [])].map((p) => p.stop('SIGKILL')));
    await nginx?.stop();
    await service?.close();
  });

  it('SIGTERM: requests in flight on it finish, no request through nginx fails, the agent moves to another node', async () => {
    const proxy = nginx!.listen.piko_proxy!;
    const from = await holder();
    const load = startLoad((path) => get(proxy, path));
    // Slow requests straight to the holder, in flight at the service when the node is told to stop.
    const slow = Array.from({ length: 6 }, (_, i) => get(from.proxy, `/slow/${i}`));
    await poll(async () => slowInFlight === 6, 15_000, 'the slow requests to reach the service');
    const stoppedAt = Date.now();
    const code = await procs.get(from.id)!.stop('SIGTERM');
    procs.delete(from.id);
    const to = await holder(from);
    const moved = Date.now() - stoppedAt;
    const slowResults = await Promise.all(slow);
    await new Promise((r) => setTimeout(r, 1_000));
    const { sent, failures } = await load.stop();
    console.log(`# SIGTERM of ${from.id}: agent on ${to.id} ${moved} ms later; ${sent} requests through nginx, ${failures.length} failed`);
    for (const f of failures.slice(0, 10)) console.log(`#   ${f.at - stoppedAt} ms after SIGTERM: ${f.kind}`);
    assert.equal(code, 0, `${from.id} exits 0 after SIGTERM`);
    assert.deepEqual(slowResults, slowResults.map(() => undefined), 'every request in flight on the stopping node is answered 200');
    assert.ok(sent > 0);
    assert.deepEqual(failures, [], 'no request through nginx fails while the node stops');
    await startNode(from);
    await poll(() => isReady(from.admin), 30_000, `${from.id} /ready again`);
  });

  it('SIGKILL: the agent reconnects through nginx to a live node and every request after that succeeds', async () => {
    const proxy = nginx!.listen.piko_proxy!;
    const from = await holder();
    const connections = (): number => agent!.lines.filter((l) => l.message === 'connected').length;
    const connectedBefore = connections();
    const load = startLoad((path) => get(proxy, path));
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await procs.get(from.id)!.stop('SIGKILL');
    procs.delete(from.id);
    const to = await holder(from);
    const reconnectedMs = Date.now() - killedAt;
    // Once the agent is on a live node and the peers have dropped the dead one, nothing may fail any more.
    await poll(async () => (await get(proxy, '/after-recovery')) === undefined, 30_000, 'a request through nginx after the agent moved');
    const recoveredAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    const { sent, failures } = await load.stop();
    const late = failures.filter((f) => f.sentAt > recoveredAt);
    console.log(`# SIGKILL of ${from.id}: agent on ${to.id} after ${reconnectedMs} ms, traffic recovered after ${recoveredAt - killedAt} ms; ` +
      `${sent} requests through nginx, ${failures.length} failed`);
    for (const f of failures.slice(0, 10)) console.log(`#   sent ${f.sentAt - killedAt} ms, failed ${f.at - killedAt} ms after SIGKILL: ${f.kind}`);
    assert.ok(sent > 0);
    assert.ok(connections() > connectedBefore, 'the agent logged a new connection');
    assert.deepEqual(late, [], 'no request sent after traffic recovered fails');
    assert.deepEqual(failures.filter((f) => f.at < killedAt), [], 'no request failed before the kill');
  });
});
