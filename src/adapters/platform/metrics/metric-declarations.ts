import type { MetricOptions } from '../../../application/ports/metrics.port.js';

/** The three metric kinds of the `Metrics` port. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

/** What a declaration is compared on when the same name is declared again. */
export interface MetricDeclaration extends MetricOptions {
  readonly kind: MetricKind;
  readonly buckets?: readonly number[];
}

interface Entry<T> {
  readonly kind: MetricKind;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[] | undefined;
  readonly metric: T;
}

/**
 * The idempotent-declaration rule of the `Metrics` port, shared by `PromMetrics` and the in-memory fake so that
 * both behave the same: declaring a name again returns the metric declared first, provided the kind and the
 * label names (compared as a set, since labels are passed as records) are the same. Histogram buckets must
 * match too when both declarations give them. The help text of the first declaration wins.
 *
 * Owned by one metrics object and used on the event loop only.
 */
export class MetricDeclarations<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * Returns the metric already declared under `declaration.name`, or the one `create` makes (and remembers).
   *
   * @throws Error when the name is declared with another kind, other label names or other buckets.
   */
  declare(declaration: MetricDeclaration, create: () => T): T {
    const labelNames = normaliseLabelNames(declaration.labelNames);
    const existing = this.entries.get(declaration.name);
    if (existing === undefined) {
      const metric = create();
      this.entries.set(declaration.name, {
        kind: declaration.kind,
        labelNames,
        buckets: declaration.buckets,
        metric,
      });
      return metric;
    }
    const name = declaration.name;
    if (existing.kind !== declaration.kind) {
      throw new Error(
        `metric "${name}" is already declared as a ${existing.kind}; cannot declare it again as a ${declaration.kind}`,
      );
    }
    if (!sameList(existing.labelNames, labelNames)) {
      throw new Error(
        `metric "${name}" is already declared with labels [${existing.labelNames.join(', ')}]; ` +
          `cannot declare it again with labels [${labelNames.join(', ')}]`,
      );
    }
    if (existing.buckets !== undefined && declaration.buckets !== undefined) {
      if (!sameList(existing.buckets, declaration.buckets)) {
        throw new Error(
          `metric "${name}" is already declared with buckets [${existing.buckets.join(', ')}]; ` +
            `cannot declare it again with buckets [${declaration.buckets.join(', ')}]`,
        );
      }
    }
    return existing.metric;
  }

  /** The metric declared under `name` and its kind, or `undefined`. */
  get(name: string): { readonly kind: MetricKind; readonly labelNames: readonly string[]; readonly metric: T } | undefined {
    return this.entries.get(name);
  }
}

function normaliseLabelNames(labelNames: readonly string[] | undefined): readonly string[] {
  return [...new Set(labelNames ?? [])].sort();
}

function sameList<V>(a: readonly V[], b: readonly V[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
