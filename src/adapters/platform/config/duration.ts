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
  // Go durations are whole nanoseconds: rounding there undoes binary fractions (1.001s is 1001 ms, not
  // 1000.9999999999999), so that formatDuration and parseDuration round-trip.
  return Number.isFinite(ms) ? Math.round(ms * 1e6) / 1e6 : undefined;
}

/** Formats milliseconds the way Go prints durations (`1m30s`, `100ms`, `0s`), for messages and help. */
export function formatDuration(ms: number): string {
  // Whole nanoseconds, as Go, so that no binary fraction or exponent (1e-9s) is printed.
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  if (ns < 1e9) return `${ns / 1e6}ms`;
  const hours = Math.floor(ns / 3.6e12);
  const minutes = Math.floor((ns % 3.6e12) / 6e10);
  const secondsNs = ns % 6e10;
  const fraction = secondsNs % 1e9 === 0 ? '' : `.${String(secondsNs % 1e9).padStart(9, '0').replace(/0+$/, '')}`;
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${Math.floor(secondsNs / 1e9)}${fraction}s`;
}
