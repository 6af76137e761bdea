import { resolve } from 'node:path';
import { ROOT } from './proc.js';
import type { Options } from './types.js';

/** Every scenario, in the order a round starts from before rotation. */
export const SCENARIO_IDS = ['direct', 'nginx', 'node-proxy', 'tunnel-http', 'forward-http', 'tunnel-tcp', 'bulk', 'idle', 'cluster'] as const;

/** Names that stand for several scenarios. */
export const GROUPS: Record<string, readonly string[]> = {
  all: SCENARIO_IDS,
  'one-hop': ['nginx', 'node-proxy'],
  http: ['direct', 'nginx', 'node-proxy', 'tunnel-http', 'forward-http'],
  tunnel: ['tunnel-http', 'forward-http', 'tunnel-tcp', 'bulk', 'idle'],
  tcp: ['tunnel-tcp', 'forward-http'],
};

/** The --help text. */
export const USAGE = `Usage: piko-ts bench [options]   (from a checkout: npm run bench -- [options])

  --scenarios LIST      comma-separated scenarios or groups (default: all); --scenario is the same
                          scenarios: ${SCENARIO_IDS.join(', ')}
                          groups: ${Object.entries(GROUPS).map(([k, v]) => `${k} = ${v.join('+')}`).join('; ')}
  --duration T          measured time of each load run, e.g. 5s, 500ms, 1m (default 5s)
  --connections N       concurrent connections of the throughput runs (default 50)
  --repetitions N       rounds; each round runs every scenario once, starting point rotating (default 3)
  --warmup T            load before each measured HTTP run (default 1s; 0 for none)
  --idle-upstreams N    idle upstream connections of the idle scenario (default 10000)
  --idle-hold T         how long the idle connections are held before RSS is read (default 5s)
  --bulk-count N        downloads per bulk measurement (default 5)
  --bulk-size MIB       size of each bulk download in MiB (default 100)
  --load-gen G          auto | wrk | autocannon (default auto: wrk when installed)
  --cluster-trials N    propagation trials per cluster size (default 100)
  --cluster-kills N     kill -9 trials of the failure detection, at 3 nodes (default 10; 0 for none)
  --cluster-sizes LIST  cluster sizes the propagation is measured at, 2 to 20 nodes (default 3,10)
  --variant-flags F     Node flags of an experiment, e.g. --variant-flags=--max-semi-space-size=32: tunnel-http and
                          forward-http also run as <id>+flags on processes started with them, in the same rounds
  --variant-dist DIR    another build (server.js, agent.js, forward.js) for the experiment's processes, e.g. a
                          baseline: the twins are then named <id>+variant (with or without --variant-flags)
  --out DIR             where results go (default bench/results)
  --dist DIR            where server.js, agent.js and forward.js are (default dist/main)
  -h, --help            this text
`;

/** Parses `5s`, `500ms`, `1m` or a bare number of seconds into seconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new Error(`not a duration: ${s} (use 5s, 500ms or 1m)`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v / 1000 : m[2] === 'm' ? v * 60 : v;
}

function positiveInt(name: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${s}`);
  return n;
}

/** Parses `--cluster-sizes`: distinct integers from 2 to 20. */
function clusterSizes(s: string): number[] {
  const sizes = s.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 20)) {
    throw new Error(`--cluster-sizes must list cluster sizes from 2 to 20, such as 3,10; not ${s}`);
  }
  return [...new Set(sizes)];
}

/** Expands groups and checks names; keeps the canonical order. */
export function expandScenarios(list: string): string[] {
  const wanted = new Set<string>();
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const group = GROUPS[raw];
    if (group !== undefined) group.forEach((g) => wanted.add(g));
    else if ((SCENARIO_IDS as readonly string[]).includes(raw)) wanted.add(raw);
    else throw new Error(`unknown scenario "${raw}"; known: ${SCENARIO_IDS.join(', ')}, or groups ${Object.keys(GROUPS).join(', ')}`);
  }
  return SCENARIO_IDS.filter((id) => wanted.has(id));
}

/** The scenarios that get a twin when there is a variant (--variant-flags or --variant-dist). */
export const VARIANT_OF = ['tunnel-http', 'forward-http'] as const;

/** Suffixes of the twins: `+flags` when only Node flags differ, `+variant` when another build runs them. */
export const VARIANT_SUFFIXES = ['+flags', '+variant'] as const;

/**
 * The suffix of the variant's scenarios: `+flags` when the variant differs only by Node flags, `+variant` when it
 * runs another build (--variant-dist), or undefined when there is no variant.
 */
export function variantSuffix(variantFlags: readonly string[], variantDir: string | undefined): '+flags' | '+variant' | undefined {
  if (variantDir !== undefined) return '+variant';
  return variantFlags.length > 0 ? '+flags' : undefined;
}

/** The plain scenario a twin is measured against (`tunnel-http` for `tunnel-http+variant`), or undefined. */
export function variantBase(id: string): string | undefined {
  const suffix = VARIANT_SUFFIXES.find((x) => id.endsWith(x));
  return suffix === undefined ? undefined : id.slice(0, -suffix.length);
}

/**
 * The line the report prints about the variant: which build and which Node flags its processes ran, against
 * which plain build; undefined when there is no variant.
 */
export function variantNote(opts: Pick<Options, 'productDir' | 'variantFlags' | 'variantDir'>): string | undefined {
  const suffix = variantSuffix(opts.variantFlags, opts.variantDir);
  if (suffix === undefined) return undefined;
  const flags = opts.variantFlags.length > 0 ? `node ${opts.variantFlags.join(' ')}` : 'no extra Node flags';
  const dir = opts.variantDir ?? opts.productDir;
  return `the ${suffix} scenarios run on a second server, agent and forward from ${dir} with ${flags}; the plain ones from ${opts.productDir}`;
}

/** Adds `<id><suffix>` right after each of {@link VARIANT_OF} when there is a variant. */
function withVariants(ids: readonly string[], suffix: string | undefined): string[] {
  if (suffix === undefined) return [...ids];
  return ids.flatMap((id) => ((VARIANT_OF as readonly string[]).includes(id) ? [id, `${id}${suffix}`] : [id]));
}

/** Parses argv (without node and the script); throws with a message on a bad option. Returns undefined for --help. */
export function parseOptions(argv: readonly string[]): Options | undefined {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') return undefined;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    // --scenario is accepted for --scenarios.
    const name = (k: string): string => (k === 'scenario' ? 'scenarios' : k);
    if (eq > 0) raw.set(name(a.slice(2, eq)), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`${a} needs a value`);
      raw.set(name(a.slice(2)), v);
      i++;
    }
  }
  const known = [
    'scenarios', 'duration', 'connections', 'repetitions', 'warmup', 'idle-upstreams', 'idle-hold', 'bulk-count', 'bulk-size', 'load-gen', 'out', 'dist',
    'cluster-trials', 'cluster-kills', 'cluster-sizes', 'variant-flags', 'variant-dist',
  ];
  for (const k of raw.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
  const durationS = parseDuration(raw.get('duration') ?? '5s');
  if (durationS < 1) throw new Error('--duration must be at least 1s');
  const loadGen = raw.get('load-gen') ?? 'auto';
  if (loadGen !== 'auto' && loadGen !== 'wrk' && loadGen !== 'autocannon') throw new Error(`--load-gen must be auto, wrk or autocannon`);
  const bulkMiB = positiveInt('--bulk-size', raw.get('bulk-size') ?? '100');
  if (bulkMiB > 1024) throw new Error('--bulk-size is at most 1024 (MiB)');
  const variantFlags = (raw.get('variant-flags') ?? '').split(/\s+/).filter(Boolean);
  const bad = variantFlags.find((f) => !/^--[a-z][a-z0-9-]*(=\S+)?$/.test(f));
  if (bad !== undefined) throw new Error(`--variant-flags takes Node flags such as --max-semi-space-size=32, not ${bad}`);
  const variantDistRaw = raw.get('variant-dist');
  if (variantDistRaw !== undefined && variantDistRaw.trim() === '') throw new Error('--variant-dist needs a directory');
  const variantDir = variantDistRaw === undefined ? undefined : resolve(variantDistRaw);
  return {
    scenarios: withVariants(expandScenarios(raw.get('scenarios') ?? 'all'), variantSuffix(variantFlags, variantDir)),
    variantFlags,
    ...(variantDir !== undefined ? { variantDir } : {}),
    durationS,
    connections: positiveInt('--connections', raw.get('connections') ?? '50'),
    repetitions: positiveInt('--repetitions', raw.get('repetitions') ?? '3'),
    warmupS: parseDuration(raw.get('warmup') ?? '1s'),
    idleUpstreams: positiveInt('--idle-upstreams', raw.get('idle-upstreams') ?? '10000'),
    idleHoldS: parseDuration(raw.get('idle-hold') ?? '5s'),
    bulkCount: positiveInt('--bulk-count', raw.get('bulk-count') ?? '5'),
    bulkMiB,
    loadGen,
    clusterTrials: positiveInt('--cluster-trials', raw.get('cluster-trials') ?? '100'),
    clusterKills: raw.get('cluster-kills') === '0' ? 0 : positiveInt('--cluster-kills', raw.get('cluster-kills') ?? '10'),
    clusterSizes: clusterSizes(raw.get('cluster-sizes') ?? '3,10'),
    outDir: resolve(raw.get('out') ?? resolve(ROOT, 'bench/results')),
    productDir: resolve(raw.get('dist') ?? resolve(ROOT, 'dist/main')),
  };
}
