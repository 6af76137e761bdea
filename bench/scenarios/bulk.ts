import { EP_HTTP, SkipError } from '../lib/fixtures.js';
import { get } from '../lib/http.js';
import { measured } from '../lib/sampler.js';
import { outcome, type Ctx, type Scenario } from '../lib/types.js';

/**
 * Downloads `count` bodies of `bytes` one after the other; returns MiB/s over the whole (bytes / summed time).
 * Stops early, with a note, once `budgetMs` is spent, so that a slow tunnel cannot stretch the run.
 */
async function downloads(
  ctx: Ctx,
  notes: string[],
  label: string,
  url: string,
  headers: Record<string, string>,
  bytes: number,
): Promise<{ mibps: number; bytes: number }> {
  const budgetMs = Math.max(30_000, ctx.opts.durationS * 6_000);
  let totalMs = 0;
  let totalBytes = 0;
  let done = 0;
  while (done < ctx.opts.bulkCount && totalMs < budgetMs) {
    ctx.progress(`bulk: ${label} download ${done + 1}/${ctx.opts.bulkCount} (${ctx.opts.bulkMiB} MiB)`);
    // Bounded at 60 s or 5 MiB/s, whichever is longer.
    const r = await get(url, headers, Math.max(60_000, (bytes / (5 << 20)) * 1000));
    if (r.status !== 200 || r.bytes !== bytes) throw new Error(`${label}: status ${r.status}, ${r.bytes} of ${bytes} bytes`);
    totalMs += r.ms;
    totalBytes += r.bytes;
    done++;
  }
  if (done < ctx.opts.bulkCount) notes.push(`${label}: stopped after ${done} of ${ctx.opts.bulkCount} downloads (${Math.round(budgetMs / 1000)} s budget)`);
  return { mibps: totalBytes / (1 << 20) / (totalMs / 1000), bytes: totalBytes };
}

/** Large bodies direct and through the tunnel: the flow-control and copy cost, apart from per-request cost. */
export const bulk: Scenario = {
  id: 'bulk',
  title: 'Bulk HTTP downloads, direct and through the tunnel',
  async run(ctx) {
    const o = outcome();
    const bytes = ctx.opts.bulkMiB * (1 << 20);
    const up = await ctx.fixtures.upstream();
    o.metrics.directMiBps = (await downloads(ctx, o.notes, 'direct', `http://127.0.0.1:${up.httpPort}/bulk/${bytes}`, {}, bytes)).mibps;
    let t;
    try {
      t = await ctx.fixtures.httpTunnel();
    } catch (err) {
      if (!(err instanceof SkipError)) throw err;
      // The direct figure stays in the results; only the tunnel part is skipped.
      return { ...o, status: 'skipped', reason: err.message };
    }
    const watched = [
      { name: 'upstream', pid: up.proc.pid, own: false },
      { name: 'server', pid: t.server.proc.pid, own: true },
      { name: 'agent', pid: t.agent.pid, own: true },
    ];
    const { value: tunnel, usage } = await measured(watched, () =>
      downloads(ctx, o.notes, 'tunnel', `http://${t.server.proxyAddr}/bulk/${bytes}`, { 'x-piko-endpoint': EP_HTTP }, bytes),
    );
    o.usage.tunnel = usage;
    o.metrics.tunnelMiBps = tunnel.mibps;
    o.metrics.ratio = o.metrics.tunnelMiBps / o.metrics.directMiBps;
    const own = o.usage.tunnel.filter((u) => u.own).reduce((s, u) => s + u.cpuUs, 0);
    o.metrics.cpuUsPerMiB = own / (tunnel.bytes / (1 << 20));
    return o;
  },
};
