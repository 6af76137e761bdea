import type { Fixtures } from './fixtures.js';
import type { LoadGenerator } from './load.js';
import type { ProcUsage } from './sampler.js';

/** Command-line options, after parsing and defaults. */
export interface Options {
  readonly scenarios: readonly string[];
  readonly durationS: number;
  readonly connections: number;
  readonly repetitions: number;
  readonly warmupS: number;
  readonly idleUpstreams: number;
  readonly idleHoldS: number;
  readonly bulkCount: number;
  readonly bulkMiB: number;
  readonly loadGen: 'auto' | 'wrk' | 'autocannon';
  /** Propagation trials per cluster size (cluster scenario). */
  readonly clusterTrials: number;
  /** kill -9 trials of the detection phase (cluster scenario); 0 for none. */
  readonly clusterKills: number;
  /** Cluster sizes the propagation is measured at (cluster scenario). */
  readonly clusterSizes: readonly number[];
  readonly outDir: string;
  /** Directory of the product's entry points. */
  readonly productDir: string;
  /**
   * Node flags of an experiment (such as `--max-semi-space-size=32`): when set, `tunnel-http` and
   * `forward-http` also run as `<id>+flags` (`<id>+variant` with {@link variantDir}) on a second server, agent
   * and forward started with them.
   */
  readonly variantFlags: readonly string[];
  /**
   * Another build's entry points (`--variant-dist`) for the variant's server, agent and forward, such as a
   * baseline to compare the working build with; the twins are then named `<id>+variant`.
   */
  readonly variantDir?: string;
}

/** What a scenario gets to run one repetition. */
export interface Ctx {
  readonly opts: Options;
  readonly fixtures: Fixtures;
  readonly load: LoadGenerator;
  /** Shows what runs now on the progress line. */
  readonly progress: (what: string) => void;
}

/** One scenario's result in one round. `metrics` are plain numbers; units are in the metric names. */
export interface Outcome {
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  metrics: Record<string, number>;
  /** CPU and peak RSS per process, per phase of the scenario (such as `c50`, `c1`, `tunnel`). */
  usage: Record<string, ProcUsage[]>;
  notes: string[];
}

/** A benchmark scenario. It runs once per round; rounds are interleaved. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: Ctx): Promise<Outcome>;
}

/** A fresh `ok` outcome with nothing measured yet. */
export function outcome(): Outcome {
  return { status: 'ok', metrics: {}, usage: {}, notes: [] };
}
