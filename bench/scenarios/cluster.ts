import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { SkipError, firstLine, type Fixtures } from '../lib/fixtures.js';
import { pollGet } from '../lib/http.js';
import type { LoadResult } from '../lib/load.js';
import { type ClusterNode, startCluster, startClusterAgent, startClusterNode, stopNodes, waitAllActive } from '../lib/cluster-nodes.js';
import { detectionTrial, loadSdk, percentile, propagationTrial } from '../lib/cluster-probe.js';
import { Managed, sleep } from '../lib/proc.js';
import { measured, ownCpuUs, type Watched } from '../lib/sampler.js';
import { outcome, type Ctx, type Outcome, type Scenario } from '../lib/types.js';

/** The endpoint the throughput runs load: an agent on node A in front of the shared upstream. */
export const EP_CLUSTER = 'bench-cluster';
/** Pause between two requests to the same node while a new endpoint is awaited. */
const POLL_MS = 5;
/** Per propagation trial, from registration. */
const PROPAGATION_DEADLINE_MS = 10_000;
/** Pause between two status reads of one survivor after a kill. */
const DETECT_POLL_MS = 10;
/** Per detection trial, from the kill. */
const DETECT_DEADLINE_MS = 15_000;
/** Settling after a restarted node is active everywhere, so that every trial starts from a steady ring. */
const SETTLE_MS = 1_000;
/** Upper bound on each sampled phase (propagation at one size, detection), whatever the trial counts. */
const PHASE_LIMIT_MS = 300_000;
/** Responses that were not 2xx, or socket errors, above this share make a throughput run invalid. */
const MAX_FAILED_SHARE = 0.01;

/**
 * What the cluster scenario keeps between rounds of one bench run: the three-node cluster with its agent (the
 * throughput runs use it every round), and whether the sampled phases ran. Mutated only on the event loop.
 */
interface State {
  runs: number;
  sampled: boolean;
  nodes?: ClusterNode[];
  agent?: Managed;
  /** Restarts under a new ID so far (the detection phase). */
  restarts: number;
  /** Why the cluster could not be started; later rounds report it instead of trying again. */
  failed?: string;
}

const states = new WeakMap<Fixtures, State>();

/** Runs one phase; an error in it becomes a note, so that the other phases of the round still run. */
async function phase(o: Outcome, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SkipError) throw err;
    o.notes.push(`${name} failed: ${firstLine(err)}`);
  }
}

/** ≥`trials` trials at one cluster size: an SDK listener registers a fresh endpoint on node 1, every other node polls. */
async function propagation(ctx: Ctx, o: Outcome, nodes: readonly ClusterNode[]): Promise<void> {
  const n = nodes.length;
  const sdk = await loadSdk(ctx.fixtures.productDir);
  const [origin, ...others] = nodes as [ClusterNode, ...ClusterNode[]];
  const agents = new Map(others.map((x) => [x.id, new Agent({ keepAlive: true, maxSockets: 1 })]));
  const all: number[] = [];
  const register: number[] = [];
  let missed = 0;
  const started = Date.now();
  const tag = Math.random().toString(36).slice(2, 8);
  try {
    for (let t = 0; t < ctx.opts.clusterTrials; t++) {
      if (Date.now() - started > PHASE_LIMIT_MS) {
        o.notes.push(`propagation at ${n} nodes stopped after ${t} trials (phase limit ${PHASE_LIMIT_MS / 1000} s)`);
        break;
      }
      ctx.progress(`cluster: propagation at ${n} nodes, trial ${t + 1}/${ctx.opts.clusterTrials}`);
      const r = await propagationTrial(sdk, origin, others, `bench-prop-${tag}-${n}-${t}`, { pollMs: POLL_MS, deadlineMs: PROPAGATION_DEADLINE_MS }, agents);
      register.push(r.registerMs);
      if (r.perNode.some((x) => x === undefined)) missed++;
      else all.push(Math.max(...(r.perNode as number[])));
      await sleep(10);
    }
  } finally {
    for (const a of agents.values()) a.destroy();
  }
  const m = o.metrics;
  m[`prop${n}Trials`] = all.length;
  m[`prop${n}Missed`] = missed;
  m[`prop${n}RegisterP50Ms`] = percentile(register, 50);
  if (all.length > 0) {
    m[`prop${n}P50Ms`] = percentile(all, 50);
    m[`prop${n}P90Ms`] = percentile(all, 90);
    m[`prop${n}P99Ms`] = percentile(all, 99);
    m[`prop${n}MaxMs`] = Math.max(...all);
  }
  if (missed > 0) o.notes.push(`propagation at ${n} nodes: ${missed} trials where some node did not serve the endpoint within ${PROPAGATION_DEADLINE_MS / 1000} s (left out of the percentiles)`);
}

/** `clusterKills` trials on the three-node cluster: kill -9 its third node, time the survivors' verdict, restart it under a new ID. */
async function detection(ctx: Ctx, o: Outcome, st: State): Promise<void> {
  const nodes = st.nodes as ClusterNode[];
  const perSurvivor: number[] = [];
  const perTrial: number[] = [];
  let missed = 0;
  const started = Date.now();
  for (let t = 0; t < ctx.opts.clusterKills; t++) {
    if (Date.now() - started > PHASE_LIMIT_MS) {
      o.notes.push(`detection stopped after ${t} trials (phase limit ${PHASE_LIMIT_MS / 1000} s)`);
      break;
    }
    const [a, b, victim] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    ctx.progress(`cluster: kill -9 ${victim.id}, trial ${t + 1}/${ctx.opts.clusterKills}`);
    const times = await detectionTrial(victim, [a, b], DETECT_POLL_MS, DETECT_DEADLINE_MS);
    for (const x of times) if (x !== undefined) perSurvivor.push(x);
    if (times.some((x) => x === undefined)) missed++;
    else perTrial.push(Math.max(...(times as number[])));
    // A restarted node takes a new ID: the old one stays unreachable, then dead, as after a real crash.
    st.restarts++;
    const id = `c3-3r${st.restarts}`;
    ctx.progress(`cluster: restarting the killed node as ${id}`);
    const fresh = await startClusterNode(ctx.fixtures.productDir, id, [a.gossipAddr, b.gossipAddr]);
    nodes[2] = fresh;
    await waitAllActive(nodes, 30_000);
    await sleep(SETTLE_MS);
  }
  const m = o.metrics;
  m.detectTrials = perTrial.length;
  m.detectMissed = missed;
  if (perSurvivor.length > 0) {
    m.detectP50Ms = percentile(perSurvivor, 50);
    m.detectMaxMs = Math.max(...perSurvivor);
  }
  if (perTrial.length > 0) {
    m.detectAllP50Ms = percentile(perTrial, 50);
    m.detectAllMaxMs = Math.max(...perTrial);
  }
  if (missed > 0) o.notes.push(`detection: ${missed} trials where a survivor did not mark the killed node unreachable within ${DETECT_DEADLINE_MS / 1000} s`);
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const total = cpu.reduce((s, x) => s + x, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

const failedShare = (r: LoadResult): number => (r.requests > 0 ? (r.non2xx + r.errors) / r.requests : 1);

/**
 * One round of throughput: the same load through node A (its own agent: local) and through node B (forwarded
 * one hop to A), in an order that alternates between rounds. Records rps, latency, CPU per request and each
 * process's CPU share of the run, which shows which one is saturated.
 */
async function throughput(ctx: Ctx, o: Outcome, st: State): Promise<void> {
  const [a, b] = st.nodes as [ClusterNode, ClusterNode];
  const up = await ctx.fixtures.upstream();
  if (st.agent === undefined || !st.agent.running) {
    st.agent = await startClusterAgent(ctx.fixtures.productDir, EP_CLUSTER, up.httpPort, a);
  }
  const headers = { 'x-piko-endpoint': EP_CLUSTER };
  for (const node of [a, b]) {
    const problem = await pollGet(`http://${node.proxyAddr}/`, headers, { status: 200, bytes: 1024 }, 15_000);
    if (problem !== undefined) throw new Error(`${EP_CLUSTER} through ${node.id} does not answer 200 with 1 KiB: ${problem}`);
  }
  const watched: Watched[] = [
    { name: 'upstream', pid: up.proc.pid, own: false },
    { name: 'nodeA', pid: a.proc.pid, own: true },
    { name: 'nodeB', pid: b.proc.pid, own: true },
    { name: 'agent', pid: st.agent.pid, own: true },
  ];
  const { opts, load } = ctx;
  const order = st.runs % 2 === 1 ? (['local', 'remote'] as const) : (['remote', 'local'] as const);
  // Other work on the machine shows in rps: the load before the runs is kept with them.
  o.notes.push(`round ${st.runs}: 1-min load average ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} CPUs before the throughput runs`);
  const rps: Partial<Record<'local' | 'remote', number>> = {};
  for (const path of order) {
    const url = `http://${(path === 'local' ? a : b).proxyAddr}/`;
    if (opts.warmupS > 0) {
      ctx.progress(`cluster: ${path} warm-up ${opts.warmupS} s`);
      await load.run({ url, connections: opts.connections, durationS: opts.warmupS, headers });
    }
    ctx.progress(`cluster: ${path} (through ${path === 'local' ? 'node A' : 'node B → node A'}), ${opts.connections} connections, ${opts.durationS} s`);
    const j0 = machineJiffies();
    const t0 = performance.now();
    const run = await measured(watched, () => load.run({ url, connections: opts.connections, durationS: opts.durationS, headers }));
    const wallUs = (performance.now() - t0) * 1000;
    const j1 = machineJiffies();
    const r = run.value;
    o.usage[path] = run.usage;
    if (failedShare(r) > MAX_FAILED_SHARE) {
      o.notes.push(`${path} throughput left out: ${r.non2xx} non-2xx and ${r.errors} socket errors in ${r.requests} responses`);
      continue;
    }
    const m = o.metrics;
    rps[path] = r.rps;
    m[`${path}Rps`] = r.rps;
    m[`${path}P50Ms`] = r.p50Ms;
    m[`${path}P99Ms`] = r.p99Ms;
    if (r.requests > 0) m[`${path}CpuUsPerReq`] = ownCpuUs(run.usage) / r.requests;
    for (const u of run.usage) m[`${path}CpuPct.${u.name}`] = (u.cpuUs / wallUs) * 100;
    if (j1.total > j0.total) m[`${path}MachineBusyPct`] = ((j1.busy - j0.busy) / (j1.total - j0.total)) * 100;
  }
  if (rps.local !== undefined && rps.remote !== undefined && rps.local > 0) o.metrics.remoteRatio = rps.remote / rps.local;
}

/**
 * Cluster measurements with real server processes on 127.0.0.1 (gossip included): how fast a new endpoint is
 * served through every node (at each of `--cluster-sizes`), how fast a kill -9 is detected (three nodes), and
 * the throughput through the node holding the upstream against one forwarded hop. The sampled phases run once,
 * in the first round, each on a cluster of its own size; the throughput runs every round on the same
 * three-node cluster, so that the bench's rounds interleave local and remote. Every node, listener and agent it
 * starts is stopped by the end of its phase, or after the last round.
 */
export const cluster: Scenario = {
  id: 'cluster',
  title: 'Cluster: propagation, failure detection, local vs forwarded throughput',
  async run(ctx) {
    let st = states.get(ctx.fixtures);
    if (st === undefined) {
      st = { runs: 0, sampled: false, restarts: 0 };
      states.set(ctx.fixtures, st);
    }
    st.runs++;
    const o = outcome();
    const productDir = ctx.fixtures.productDir;
    try {
      if (st.failed !== undefined) throw new Error(st.failed);
      if (!st.sampled) {
        st.sampled = true;
        // Larger clusters first, each started fresh and stopped after its trials.
        for (const size of ctx.opts.clusterSizes.filter((s) => s !== 3)) {
          await phase(o, `propagation at ${size} nodes`, async () => {
            ctx.progress(`cluster: starting ${size} nodes`);
            const nodes = await startCluster(productDir, `c${size}`, size, (i) => ctx.progress(`cluster: ${i}/${size} nodes started`));
            try {
              await propagation(ctx, o, nodes);
            } finally {
              await stopNodes(nodes);
            }
          });
        }
      }
      if (st.nodes === undefined) {
        ctx.progress('cluster: starting 3 nodes');
        try {
          st.nodes = await startCluster(productDir, 'c3', 3);
        } catch (err) {
          if (err instanceof SkipError) throw err;
          st.failed = `the three-node cluster did not start: ${firstLine(err)}`;
          throw new Error(st.failed);
        }
        if (ctx.opts.clusterSizes.includes(3)) await phase(o, 'propagation at 3 nodes', () => propagation(ctx, o, st.nodes as ClusterNode[]));
        if (ctx.opts.clusterKills > 0) await phase(o, 'detection', () => detection(ctx, o, st));
      }
      await phase(o, 'throughput', () => throughput(ctx, o, st));
      if (Object.keys(o.metrics).length === 0) {
        o.status = 'error';
        o.reason = o.notes[0] ?? 'nothing measured';
      }
      return o;
    } finally {
      if (st.runs >= ctx.opts.repetitions) {
        await st.agent?.stop();
        await stopNodes(st.nodes ?? []);
        st.nodes = undefined;
        st.agent = undefined;
      }
    }
  },
};
