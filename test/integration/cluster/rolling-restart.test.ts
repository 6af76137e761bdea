import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isReady, nodePorts, poll, startClusterNginx, startClusterNode, type NodePorts } from '../../support/cluster/loopback-cluster.js';
import { nginxMissing, type NginxProc } from '../../support/cluster/nginx.js';
import { fetchRaw, startService } from '../../support/http.js';
import { startAgent, type Proc } from '../../support/processes.js';

/** Starts a node of the rolling restart: requests for an endpoint with no upstream wait up to 10 s for one. */
const startNode = (n: NodePorts, join: readonly string[]): Promise<Proc> => startClusterNode(n, join, ['--proxy.upstream-wait', '10s']);

/** One failed request of the load loop. */
interface Failure {
  readonly at: number;
  readonly kind: string;
  readonly phase: string;
}

const WORKERS = 4;
const MAX_REQUESTS_PER_WORKER = 50_000;

const skip = nginxMissing();

describe('rolling restart of 3 nodes behind nginx', { skip, timeout: 240_000 }, () => {
  const nodes: NodePorts[] = [];
  const procs = new Map<string, Proc>();
  const others: Proc[] = [];
  const lives: Array<[string, Proc]> = [];
  let nginx: NginxProc | undefined;
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    service = await startService((req, res) => res.end(`svc ${req.url}`));
    for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(await nodePorts(id));
    nginx = await startClusterNginx(nodes);
    const [a, ...rest] = nodes;
    procs.set(a!.id, await startNode(a!, []));
    lives.push([a!.id, procs.get(a!.id)!]);
    for (const n of rest) {
      procs.set(n.id, await startNode(n, [a!.gossip]));
      lives.push([n.id, procs.get(n.id)!]);
    }
    others.push(await startAgent(['http', 'web', `127.0.0.1:${service.port}`, '--connect.url', `http://${nginx.listen.piko_upstream}`]));
  });

  after(async () => {
    await Promise.all([...procs.values(), ...others].map((p) => p.stop('SIGKILL')));
    await nginx?.stop();
    await service?.close();
  });

  it(
    'serves every request through nginx while each node in turn is stopped (SIGTERM) and restarted',
    // Was a todo (1-2 of ~1000 requests lost while a restarted node rejoined with its previous life's endpoints).
    {},
    async () => {
    const proxy = nginx!.listen.piko_proxy!;
    const get = async (path: string): Promise<string | undefined> => {
      const started = Date.now();
      try {
        const res = await fetchRaw(proxy, { path, headers: { 'x-piko-endpoint': 'web' }, timeoutMs: 30_000 });
        const via = `via ${String(res.headers['x-upstream-addr'])} after ${Date.now() - started} ms`;
        if (res.status !== 200) return `status ${res.status} ${res.body.toString().trim().slice(0, 80)} (${via})`;
        if (res.body.toString() !== `svc ${path}`) return `wrong body ${JSON.stringify(res.body.toString().slice(0, 80))}`;
        return undefined;
      } catch (err) {
        return `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
    };
    await poll(async () => (await get('/warm-up')) === undefined, 20_000, 'a first request through nginx to succeed');

    let phase = 'before restarts';
    let done = false;
    let sent = 0;
    const failures: Failure[] = [];
    const t0 = Date.now();
    console.log(`# load starts at ${new Date(t0).toISOString()}`);
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < MAX_REQUESTS_PER_WORKER && !done; i++) {
        const kind = await get(`/w${w}/r${i}`);
        sent++;
        if (kind !== undefined) failures.push({ at: Date.now() - t0, kind, phase });
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    try {
      await new Promise((r) => setTimeout(r, 1_000));
      for (const n of nodes) {
        phase = `stopping ${n.id}`;
        const stoppedAt = Date.now();
        const code = await procs.get(n.id)!.stop('SIGTERM');
        const stopMs = Date.now() - stoppedAt;
        assert.equal(code, 0, `${n.id} exits 0 after SIGTERM`);
        phase = `restarting ${n.id}`;
        const join = nodes.filter((o) => o !== n).map((o) => o.gossip);
        procs.set(n.id, await startNode(n, join));
        lives.push([n.id, procs.get(n.id)!]);
        await poll(() => isReady(n.admin), 30_000, `${n.id} /ready`);
        console.log(`# ${n.id}: stopped in ${stopMs} ms, ready again ${Date.now() - stoppedAt} ms after SIGTERM`);
        phase = `after restart of ${n.id}`;
        await new Promise((r) => setTimeout(r, 1_500));
      }
    } finally {
      done = true;
      await load;
    }
    const kinds = new Map<string, number>();
    for (const f of failures) kinds.set(`${f.phase}: ${f.kind}`, (kinds.get(`${f.phase}: ${f.kind}`) ?? 0) + 1);
    console.log(`# rolling restart: ${sent} requests, ${failures.length} failed in ${Date.now() - t0} ms`);
    for (const [k, count] of kinds) console.log(`#   ${count} x ${k}`);
    for (const f of failures.slice(0, 10)) console.log(`#   at ${f.at} ms: ${f.phase}: ${f.kind}`);
    if (failures.length > 0) {
      for (const n of nodes) console.log(`#   ${n.id}: proxy ${n.proxy}, upstream ${n.upstream}, gossip ${n.gossip}`);
      for (const l of others[0]!.lines.filter((x) => x.subsystem !== 'proxy.http.access')) console.log(`#   agent: ${JSON.stringify(l)}`);
      for (const [id, p] of lives) for (const l of p.lines.filter((x) => x.level !== 'info' || /gossip member|upstream|endpoint|stop|shut|leav/.test(String(x.message)))) console.log(`#   ${id}: ${JSON.stringify(l).slice(0, 300)}`);
    }
    assert.ok(sent > 0);
    assert.deepEqual(failures, [], 'no request fails during the rolling restart');
    },
  );
});
