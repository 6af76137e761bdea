import { EP_HTTP } from '../lib/fixtures.js';
import type { LoadResult } from '../lib/load.js';
import { measured, ownCpuUs, type Watched } from '../lib/sampler.js';
import { outcome, type Ctx, type Outcome, type Scenario } from '../lib/types.js';

/** Where a 1 KiB HTTP scenario sends its load, and which processes it watches. */
interface HttpTarget {
  readonly url: string;
  readonly watched: readonly Watched[];
}

/**
 * Every HTTP scenario sends the same request, with the routing header, so that the bytes on the wire are the
 * same everywhere; the direct and one-hop targets ignore the header.
 */
const HEADERS = { 'x-piko-endpoint': EP_HTTP };

/** Responses that were not 2xx, or socket errors, above this share make a run invalid. */
const MAX_FAILED_SHARE = 0.01;

function failedShare(r: LoadResult): number {
  return r.requests > 0 ? (r.non2xx + r.errors) / r.requests : 1;
}

/**
 * Warm-up, then `connections` connections for the full duration (throughput, p50, p99, CPU per request),
 * then 1 connection for half the duration (p50 latency without queueing).
 */
async function measure(ctx: Ctx, id: string, target: HttpTarget): Promise<Outcome> {
  const o = outcome();
  const { opts, load } = ctx;
  if (opts.warmupS > 0) {
    ctx.progress(`${id}: warm-up ${opts.warmupS} s`);
    await load.run({ url: target.url, connections: opts.connections, durationS: opts.warmupS, headers: HEADERS });
  }
  ctx.progress(`${id}: ${opts.connections} connections, ${opts.durationS} s`);
  const c50 = await measured(target.watched, () =>
    load.run({ url: target.url, connections: opts.connections, durationS: opts.durationS, headers: HEADERS }),
  );
  const many = c50.value;
  o.usage.c50 = c50.usage;
  const oneS = Math.max(1, Math.round(opts.durationS / 2));
  ctx.progress(`${id}: 1 connection, ${oneS} s`);
  const c1 = await measured(target.watched, () => load.run({ url: target.url, connections: 1, durationS: oneS, headers: HEADERS }));
  const one = c1.value;
  o.usage.c1 = c1.usage;

  o.metrics.rps = many.rps;
  o.metrics.p50Ms = many.p50Ms;
  o.metrics.p99Ms = many.p99Ms;
  o.metrics.requests = many.requests;
  o.metrics.failed = many.non2xx + many.errors;
  o.metrics.p50Ms1c = one.p50Ms;
  o.metrics.rps1c = one.rps;
  const own = ownCpuUs(c50.usage);
  if (target.watched.some((w) => w.own) && many.requests > 0) o.metrics.cpuUsPerReq = own / many.requests;
  const upstreamCpu = c50.usage.filter((u) => !u.own).reduce((s, u) => s + u.cpuUs, 0);
  if (many.requests > 0) o.metrics.upstreamCpuUsPerReq = upstreamCpu / many.requests;

  for (const [label, r] of [[`${opts.connections} connections`, many], ['1 connection', one]] as const) {
    if (failedShare(r) > MAX_FAILED_SHARE) {
      o.status = 'error';
      o.reason = `${label}: ${r.non2xx} non-2xx and ${r.errors} socket errors in ${r.requests} responses`;
    }
  }
  return o;
}

/** The ceiling: the load generator against the upstream alone. */
export const direct: Scenario = {
  id: 'direct',
  title: 'Upstream alone (1 KiB)',
  async run(ctx) {
    const up = await ctx.fixtures.upstream();
    return measure(ctx, this.id, {
      url: `http://127.0.0.1:${up.httpPort}/`,
      watched: [{ name: 'upstream', pid: up.proc.pid, own: false }],
    });
  },
};

/** One native proxy hop, the cheapest a hop gets. Skipped when nginx is not installed. */
export const nginx: Scenario = {
  id: 'nginx',
  title: 'One hop: nginx, 1 worker, keep-alive upstream',
  async run(ctx) {
    const up = await ctx.fixtures.upstream();
    const ng = await ctx.fixtures.nginx();
    return measure(ctx, this.id, {
      url: `http://127.0.0.1:${ng.port}/`,
      watched: [
        { name: 'upstream', pid: up.proc.pid, own: false },
        { name: 'nginx-master', pid: ng.proc.pid, own: true },
        ...ng.workers.map((pid, i) => ({ name: `nginx-worker${ng.workers.length > 1 ? i : ''}`, pid, own: true })),
      ],
    });
  },
};

/** One Node proxy hop on http-proxy-3, the library the product's forwarder uses. */
export const nodeProxy: Scenario = {
  id: 'node-proxy',
  title: 'One hop: Node http-proxy-3, keep-alive agent',
  async run(ctx) {
    const up = await ctx.fixtures.upstream();
    const np = await ctx.fixtures.nodeProxy();
    return measure(ctx, this.id, {
      url: `http://127.0.0.1:${np.port}/`,
      watched: [
        { name: 'upstream', pid: up.proc.pid, own: false },
        { name: 'node-proxy', pid: np.proc.pid, own: true },
      ],
    });
  },
};

/** The product: proxy port → yamux stream over the agent's WebSocket → agent → upstream. */
function tunnelHttpScenario(suffix: string): Scenario {
  const variant = suffix !== '';
  return {
    id: `tunnel-http${suffix}`,
    title: `Tunnel, HTTP: client → server → agent → upstream${variant ? ' (the variant)' : ''}`,
    async run(ctx) {
      const up = await ctx.fixtures.upstream();
      const t = await ctx.fixtures.httpTunnel(variant);
      return measure(ctx, this.id, {
        url: `http://${t.server.proxyAddr}/`,
        watched: [
          { name: 'upstream', pid: up.proc.pid, own: false },
          { name: t.server.proc.name, pid: t.server.proc.pid, own: true },
          { name: t.agent.name, pid: t.agent.pid, own: true },
        ],
      });
    },
  };
}

/**
 * L4: the same HTTP load carried as raw TCP through `forward tcp` → server → agent `tcp` listener → upstream.
 * Neither the server nor the agent parses HTTP here; each client connection is one tunnel stream.
 */
function forwardHttpScenario(suffix: string): Scenario {
  const variant = suffix !== '';
  return {
    id: `forward-http${suffix}`,
    title: `L4: HTTP through forward: client → forward → server → agent tcp → upstream${variant ? ' (the variant)' : ''}`,
    async run(ctx) {
      const up = await ctx.fixtures.upstream();
      const t = await ctx.fixtures.l4HttpTunnel(variant);
      return measure(ctx, this.id, {
        url: `http://127.0.0.1:${t.forwardPort}/`,
        watched: [
          { name: 'upstream', pid: up.proc.pid, own: false },
          { name: t.server.proc.name, pid: t.server.proc.pid, own: true },
          { name: t.agent.name, pid: t.agent.pid, own: true },
          { name: t.forward.name, pid: t.forward.pid, own: true },
        ],
      });
    },
  };
}

/** The HTTP tunnel scenario. */
export const tunnelHttp = tunnelHttpScenario('');
/** The L4 HTTP-through-forward scenario. */
export const forwardHttp = forwardHttpScenario('');
/**
 * The twins on the variant's processes: `+flags` (same build, other Node flags) and `+variant` (another build,
 * `--variant-dist`). Only the one the options name is in a run.
 */
export const variantScenarios: readonly Scenario[] = ['+flags', '+variant'].flatMap((x) => [tunnelHttpScenario(x), forwardHttpScenario(x)]);
