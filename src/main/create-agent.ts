import { Container } from 'inversify';
import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { AgentConfig } from '../adapters/platform/config/types.js';
import { AgentRuntime } from './agent-runtime.js';
import { platformModule, type PlatformOverrides } from './modules/platform.module.js';
import { TOKENS, type MetricsRegistry } from './tokens.js';

/** Adapters a test may swap. */
export type AgentOverrides = PlatformOverrides;

/** Builds the agent's container from `config`. */
export function buildAgentContainer(config: AgentConfig, overrides: AgentOverrides = {}): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(TOKENS.AgentConfig).toConstantValue(config);
  container.load(platformModule(config.log, overrides));
  container
    .bind(TOKENS.AgentRuntime)
    .toResolvedValue(
      (cfg: AgentConfig, logger: Logger, clock: Clock, metrics: MetricsRegistry) => new AgentRuntime({ config: cfg, logger, clock, metrics }),
      [TOKENS.AgentConfig, TOKENS.Logger, TOKENS.Clock, TOKENS.Metrics],
    )
    .inSingletonScope();
  return container;
}

/** The agent's composition root: builds the container, resolves the runtime (the only `get`) and starts it. */
export async function startAgent(config: AgentConfig, overrides: AgentOverrides = {}): Promise<AgentRuntime> {
  const agent = buildAgentContainer(config, overrides).get(TOKENS.AgentRuntime);
  await agent.start();
  return agent;
}

/** A running agent, as the entry point sees it. */
export type AgentProcess = AgentRuntime;
