import autocannon from 'autocannon';

/**
 * Runs one autocannon load (spec as JSON in argv[2]) and sends the result over IPC. Latencies come from the
 * per-response event, which has sub-millisecond precision; autocannon's own histogram rounds to whole ms.
 */
interface Spec {
  url: string;
  connections: number;
  durationS: number;
  headers: Record<string, string>;
}

const MAX_SAMPLES = 5_000_000;

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
  const samples = new Float64Array(MAX_SAMPLES);
  let n = 0;
  const inst = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    headers: spec.headers,
    timeout: 5,
  });
  inst.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (n < MAX_SAMPLES) samples[n++] = ms;
  });
  const r = await inst;
  const sorted = samples.subarray(0, n).sort();
  const pct = (p: number): number => (n === 0 ? NaN : (sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] ?? NaN));
  const requests = r['2xx'] + r.non2xx;
  process.send?.({
    type: 'done',
    result: {
      requests,
      durationS: r.duration,
      rps: requests / r.duration,
      p50Ms: pct(50),
      p99Ms: pct(99),
      errors: r.errors,
      non2xx: r.non2xx,
    },
  });
}

process.on('disconnect', () => process.exit(0));
main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
});
