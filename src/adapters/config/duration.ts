/** Milliseconds per Go duration unit. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign, as Go accepts
  'μs': 1e-3, // U+03BC Greek mu, as Go accepts
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const WHOLE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Longest duration accepted, in milliseconds: Node timers overflow above 2^31-1 ms (about 24.8 days) and
 * then fire after 1 ms, which would turn a long timeout into an immediate one.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a Go-style duration (`100ms`, `30s`, `5m`, `1h`, `1m30s`, `1.5s`) into milliseconds. `'0'` and
 * the number `0` mean zero. A bare number other than 0 has no unit and is rejected, because guessing the
 * unit is how Piko once made a 1 s timeout effectively infinite (T4). Negative values are rejected.
 * Returns undefined when `value` is not a valid duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string' || !WHOLE.test(value)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(PART)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** Formats milliseconds the way Go prints durations (`1m30s`, `100ms`, `0s`), for messages and help. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1_000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1_000;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}
