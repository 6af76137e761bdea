import { createConnection } from 'node:net';
import { SkipError, isSinkReport, type SinkReport, type Upstream } from '../lib/fixtures.js';
import { nextMessage, runTool, which } from '../lib/proc.js';
import { measured, ownCpuUs, type Watched } from '../lib/sampler.js';
import { outcome, type Scenario } from '../lib/types.js';

const CHUNK = Buffer.alloc(256 * 1024, 'z');
/** A stream below this many bytes is a readiness probe, not a measurement. */
const MIN_MEASURED = 1 << 20;

/** What one stream measured: bytes written by the client and read by the sink, and the span in seconds. */
export interface StreamResult {
  readonly written: number;
  readonly read: number;
  /** From the client's first write to the sink's last read, on the machine's wall clock. */
  readonly seconds: number;
  readonly gbps: number;
}

/** Asks the sink how many bytes its open connections have read so far. */
async function sinkOpen(up: Upstream): Promise<string> {
  const isOpen = (m: unknown): m is { type: 'sink-open'; bytes: number[] } =>
    typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'sink-open';
  const reply = nextMessage(up.proc, isOpen, 2000, 'sink-open');
  up.proc.child.send({ type: 'sink-open' });
  try {
    const r = await reply;
    return r.bytes.length === 0 ? 'none (no connection open)' : r.bytes.join(', ');
  } catch {
    return 'unknown';
  }
}

const wallMs = (): number => performance.timeOrigin + performance.now();

/**
 * Writes to host:port for `durationS` seconds as fast as the connection takes it, then ends the stream. The
 * rate is what the sink read divided by the time from the client's first write to the sink's last read, so
 * bytes still in buffers when the client stops neither count nor shorten the time. Throws if the sink did not
 * read everything that was written (a stall or a lost tail), or after `durationS` + 20 s in all.
 */
export async function streamThrough(up: Upstream, host: string, port: number, durationS: number): Promise<StreamResult> {
  let onReport: (r: SinkReport) => void = () => {};
  const report = new Promise<SinkReport>((ok) => (onReport = ok));
  const listener = (m: unknown): void => {
    if (isSinkReport(m) && m.bytes >= MIN_MEASURED) onReport(m);
  };
  up.proc.child.on('message', listener);
  const sock = createConnection({ host, port });
  sock.setNoDelay(true);
  let failure: Error | undefined;
  sock.on('error', (err) => (failure ??= err));
  const timers: NodeJS.Timeout[] = [];
  try {
    await new Promise<void>((ok, fail) => {
      sock.once('connect', ok);
      sock.once('error', fail);
    });
    const startedAt = wallMs();
    const until = performance.now() + durationS * 1000;
    let written = 0;
    let stalled = false;
    await new Promise<void>((ok) => {
      // Bounded even when the stream stops taking data: a drain that never comes must not hang the bench.
      timers.push(setTimeout(() => ((stalled = true), ok()), durationS * 1000 + 1000));
      const pump = (): void => {
        while (performance.now() < until && !sock.destroyed) {
          written += CHUNK.length;
          if (!sock.write(CHUNK)) {
            sock.once('drain', pump);
            return;
          }
        }
        ok();
      };
      sock.once('close', () => ok());
      pump();
    });
    sock.end();
    // A tunnel without half-close still closes the sink's side once the client's socket is gone.
    timers.push(setTimeout(() => sock.destroy(), 5000));
    const limit = new Promise<never>((_, fail) =>
      timers.push(
        setTimeout(() => {
          void sinkOpen(up).then((open) =>
            fail(failure ?? new Error(`the stream did not finish within 20 s: ${written} bytes written, open sink connections have read ${open}`)),
          );
        }, 20_000),
      ),
    );
    const r = await Promise.race([report, limit]);
    const seconds = Math.max(1e-3, (r.lastAt - startedAt) / 1000);
    if (r.bytes < written) {
      throw new Error(`stream ${stalled ? 'stalled' : 'lost its tail'}: the sink read ${r.bytes} of ${written} bytes written`);
    }
    return { written, read: r.bytes, seconds, gbps: (r.bytes * 8) / seconds / 1e9 };
  } finally {
    for (const t of timers) clearTimeout(t);
    up.proc.child.off('message', listener);
    sock.destroy();
  }
}

/** Runs an iperf3 client for `durationS` and returns the received bit rate in Gbit/s. */
async function iperf(bin: string, port: number, durationS: number): Promise<number> {
  const r = await runTool(bin, ['-c', '127.0.0.1', '-p', String(port), '-t', String(Math.max(1, Math.round(durationS))), '-J'], durationS * 1000 + 20_000);
  let parsed: { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`iperf3 exited ${r.code}: ${(r.stderr || r.stdout).slice(0, 200)}`);
  }
  if (parsed.error !== undefined) throw new Error(`iperf3: ${parsed.error}`);
  const bps = parsed.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error('iperf3: no end.sum_received in its JSON');
  return bps / 1e9;
}

/** TCP throughput through forward, server and agent, against the same stream sent straight to the sink. */
export const tunnelTcp: Scenario = {
  id: 'tunnel-tcp',
  title: 'Tunnel, TCP stream: forward → server → agent → sink (and iperf3)',
  async run(ctx) {
    const o = outcome();
    const up = await ctx.fixtures.upstream();
    const d = ctx.opts.durationS;

    ctx.progress(`tunnel-tcp: direct stream to the sink, ${d} s`);
    const direct = await streamThrough(up, '127.0.0.1', up.sinkPort, d);
    o.metrics.directGbps = direct.gbps;

    let t;
    try {
      t = await ctx.fixtures.tcpTunnel();
    } catch (err) {
      if (!(err instanceof SkipError)) throw err;
      // The direct figure stays in the results; only the tunnel part is skipped.
      return { ...o, status: 'skipped', reason: err.message };
    }

    ctx.progress(`tunnel-tcp: stream through forward, ${d} s`);
    const watched: Watched[] = [
      { name: 'upstream', pid: up.proc.pid, own: false },
      { name: 'server', pid: t.server.proc.pid, own: true },
      { name: 'agent', pid: t.agent.pid, own: true },
      { name: 'forward', pid: t.forward.pid, own: true },
    ];
    const { value: tunnel, usage } = await measured(watched, () => streamThrough(up, '127.0.0.1', t.forwardPort, d));
    o.usage.tunnel = usage;
    o.metrics.tunnelGbps = tunnel.gbps;
    o.metrics.ratio = o.metrics.tunnelGbps / o.metrics.directGbps;
    o.metrics.cpuUsPerMiB = ownCpuUs(usage) / (tunnel.read / (1 << 20));

    const bin = which('iperf3');
    if (t.iperf !== undefined && bin !== undefined) {
      try {
        ctx.progress(`tunnel-tcp: iperf3 direct, ${d} s`);
        o.metrics.iperfDirectGbps = await iperf(bin, t.iperf.port, d);
        ctx.progress(`tunnel-tcp: iperf3 through forward, ${d} s`);
        const ip = t.iperf;
        const r = await measured(
          [
            { name: 'server', pid: t.server.proc.pid, own: true },
            { name: 'agent-iperf', pid: ip.agent.pid, own: true },
            { name: 'forward-iperf', pid: ip.forward.pid, own: true },
          ],
          () => iperf(bin, ip.forwardPort, d),
        );
        o.metrics.iperfTunnelGbps = r.value;
        o.usage.iperf = r.usage;
        o.metrics.iperfRatio = o.metrics.iperfTunnelGbps / o.metrics.iperfDirectGbps;
      } catch (err) {
        o.notes.push(`iperf3: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      o.notes.push(t.iperfNote ?? 'iperf3 not installed (apt-get install iperf3)');
    }
    return o;
  },
};
