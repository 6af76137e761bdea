function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

const loose = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/**
 * The candidate a mistyped name most likely meant, for "did you mean" hints: the same name up to case,
 * `-` and `_` (`bind-addr` for `bind_addr`, `bindAddr`), else the closest within a small edit distance.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(name.length / 3));
  for (const candidate of candidates) {
    if (loose(candidate) === loose(name)) return candidate;
    const distance = editDistance(name, candidate);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `" (did you mean X?)"`, or `''` when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>, decorate = (s: string) => s): string {
  const match = suggest(name, candidates);
  return match === undefined ? '' : ` (did you mean ${decorate(match)}?)`;
}
