/** Prometheus' default latency buckets, in seconds, as Piko uses for its proxy and agent histograms. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Piko's request and response size buckets, in bytes. */
export const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304] as const;
