import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { SystemClock } from '../../adapters/platform/clock/system-clock.js';
import type { LogConfig } from '../../adapters/platform/config/types.js';
import { createWinstonLogger } from '../../adapters/platform/logging/winston-logger.adapter.js';
import { PromMetrics } from '../../adapters/platform/metrics/prom-metrics.adapter.js';
import { TOKENS, type MetricsRegistry } from '../tokens.js';

/** Adapters a test may swap for fakes when it builds a program's container. */
export interface PlatformOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly metrics?: MetricsRegistry;
  readonly random?: () => number;
}

/** Clock, logger, metrics registry (one per program or in-process node) and randomness. */
export const platformModule = (log: LogConfig, overrides: PlatformOverrides = {}) =>
  new ContainerModule(({ bind }) => {
    bind(TOKENS.Clock).toConstantValue(overrides.clock ?? new SystemClock());
    bind(TOKENS.Logger).toConstantValue(overrides.logger ?? createWinstonLogger({ level: log.level, subsystems: log.subsystems }));
    bind(TOKENS.Metrics).toConstantValue(overrides.metrics ?? new PromMetrics({ collectDefaultMetrics: true }));
    bind(TOKENS.Random).toConstantValue(overrides.random ?? Math.random);
  });
