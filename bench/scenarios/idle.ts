import { startServer } from '../lib/fixtures.js';
import { getJson } from '../lib/http.js';
import { Managed, fdLimits, forkService, nextMessage, sleep, statusBytes } from '../lib/proc.js';
import { UsageWindow } from '../lib/sampler.js';
import { outcome, type Scenario } from '../lib/types.js';

/** Connections per client process: each process keeps well under its own open-file limit. */
const PER_CHILD = 5000;
/** Descriptors a server needs besides one per upstream connection. */
const FD_MARGIN = 2048;

interface Done {
  type: 'done';
  opened: number;
  failed: number;
  ms: number;
  firstError?: string;
}
interface Stat {
  type: 'stat';
  open: number;
  closed: number;
  pings: number;
  failed: number;
}
const isType =
  <T>(t: string) =>
  (m: unknown): m is T =>
    typeof m === 'object' && m !== null && (m as { type?: unknown }).type === t;

/**
 * Memory of one server node holding many idle upstream connections, and how fast they connect. Runs its own
 * server so that the baseline RSS is that of an empty node.
 */
export const idle: Scenario = {
  id: 'idle',
  title: 'Idle scale: N upstream connections held on one server node',
  async run(ctx) {
    const o = outcome();
    let n = ctx.opts.idleUpstreams;
    const limits = fdLimits();
    o.metrics.fdSoftLimit = limits.soft;
    let fdLimit: number | undefined;
    if (n + FD_MARGIN > limits.soft) {
      if (n + FD_MARGIN <= limits.hard) fdLimit = n + FD_MARGIN;
      else {
        const fit = Math.max(0, limits.hard - FD_MARGIN);
        o.notes.push(`open-file limit (hard ${limits.hard}) holds ${fit} connections, not ${n}: N reduced`);
        n = fit;
      }
    }
    if (fdLimit !== undefined) o.notes.push(`server started with ulimit -n ${fdLimit} (soft limit here is ${limits.soft})`);
    const perChild = Math.max(1, Math.min(PER_CHILD, limits.soft - 256));

    // A server of its own: its RSS before the connections is the baseline.
    ctx.progress(`idle: starting a fresh server node`);
    const server = await startServer('idle-server', ctx.fixtures.productDir, fdLimit !== undefined ? { fdLimit } : {});
    const clients: Managed[] = [];
    let win: UsageWindow | undefined;
    try {
      await sleep(1000);
      const baseline = statusBytes(server.proc.pid, 'VmRSS') ?? 0;
      o.metrics.baselineRssBytes = baseline;

      for (let start = 0; start < n; start += perChild) {
        const spec = {
          base: `ws://${server.upstreamAddr}/piko/v1/upstream`,
          prefix: 'bench-idle-',
          start,
          count: Math.min(perChild, n - start),
          concurrency: 64,
        };
        clients.push(forkService(`idle-clients-${clients.length}`, 'idle-clients.js', [JSON.stringify(spec)]));
      }
      await Promise.all(clients.map((c) => nextMessage(c, isType<{ type: 'ready' }>('ready'), 10_000, 'ready')));

      ctx.progress(`idle: opening ${n} upstream connections`);
      let shown = 0;
      const opened = new Map<Managed, number>();
      const onProgress = (c: Managed) => (m: unknown) => {
        if (!isType<{ type: 'progress'; opened: number }>('progress')(m)) return;
        opened.set(c, m.opened);
        const total = [...opened.values()].reduce((a, b) => a + b, 0);
        if (total - shown >= 500) {
          shown = total;
          ctx.progress(`idle: ${total}/${n} upstream connections open`);
        }
      };
      const listeners = clients.map((c) => {
        const l = onProgress(c);
        c.child.on('message', l);
        return l;
      });
      win = new UsageWindow([{ name: 'idle-server', pid: server.proc.pid, own: true }]);
      const t0 = performance.now();
      for (const c of clients) c.child.send({ type: 'go' });
      const dones = await Promise.all(clients.map((c) => nextMessage(c, isType<Done>('done'), 120_000, 'all connections')));
      o.metrics.connectMs = performance.now() - t0;
      clients.forEach((c, i) => c.child.off('message', listeners[i] as (m: unknown) => void));
      const ok = dones.reduce((s, d) => s + d.opened, 0);
      const failed = dones.reduce((s, d) => s + d.failed, 0);
      o.metrics.requested = n;
      o.metrics.connected = ok;
      o.metrics.failed = failed;
      if (failed > 0) o.notes.push(`${failed} connections failed; first error: ${dones.find((d) => d.firstError)?.firstError ?? 'none'}`);

      ctx.progress(`idle: holding ${ok} connections for ${ctx.opts.idleHoldS} s`);
      await sleep(ctx.opts.idleHoldS * 1000);
      const rss = statusBytes(server.proc.pid, 'VmRSS') ?? 0;
      o.usage.idle = win.stop();
      o.metrics.rssBytes = rss;
      o.metrics.peakRssBytes = o.usage.idle[0]?.peakRssBytes ?? rss;
      if (ok > 0) o.metrics.rssPerConnBytes = (rss - baseline) / ok;
      // What 10,000 would take at this rate: the target is stated for 10,000.
      if (ok > 0) o.metrics.projected10kRssBytes = baseline + ((rss - baseline) / ok) * 10_000;

      const stats = await Promise.all(
        clients.map((c) => {
          const reply = nextMessage(c, isType<Stat>('stat'), 10_000, 'stat');
          c.child.send({ type: 'stat' });
          return reply;
        }),
      );
      // The server's own view: how many of the bench endpoints it lists (Piko: endpoint → upstream count).
      try {
        const listed = await getJson(`http://${server.adminAddr}/status/upstream/endpoints`, 10_000);
        const keys = Array.isArray(listed) ? listed.map(String) : typeof listed === 'object' && listed !== null ? Object.keys(listed) : [];
        o.metrics.registered = keys.filter((k) => k.startsWith('bench-idle-')).length;
        if (o.metrics.registered < ok) o.notes.push(`the server lists ${o.metrics.registered} of the ${ok} endpoints as registered`);
      } catch (err) {
        o.notes.push(`could not read /status/upstream/endpoints: ${err instanceof Error ? err.message : String(err)}`);
      }
      o.metrics.stillOpen = stats.reduce((s, x) => s + x.open, 0);
      o.metrics.pingsAnswered = stats.reduce((s, x) => s + x.pings, 0);
      if (o.metrics.stillOpen < ok) o.notes.push(`${ok - o.metrics.stillOpen} connections were closed by the server during the hold`);
      if (ok < n) {
        o.status = 'error';
        o.reason = `only ${ok} of ${n} connections opened`;
      }
      return o;
    } finally {
      win?.stop();
      for (const c of clients) if (c.running) c.child.send({ type: 'close' });
      await Promise.all(clients.map((c) => c.stop(5000)));
      await server.proc.stop();
    }
  },
};
