#!/usr/bin/env node
import { Container } from 'inversify';
import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import { loadForwardConfig } from '../adapters/platform/config/load-config.js';
import type { ForwardConfig } from '../adapters/platform/config/types.js';
import { ForwardRuntime } from './forward-runtime.js';
import { platformModule, type PlatformOverrides } from './modules/platform.module.js';
import { failStartup, isMain, loadOrExit, onReloadSignal, onShutdownSignal } from './run.js';
import { TOKENS } from './tokens.js';

/** Builds the forward program's container from `config`. */
export function buildForwardContainer(config: ForwardConfig, overrides: PlatformOverrides = {}): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(TOKENS.ForwardConfig).toConstantValue(config);
  container.load(platformModule(config.log, overrides));
  container
    .bind(TOKENS.ForwardRuntime)
    .toResolvedValue((cfg: ForwardConfig, logger: Logger, clock: Clock) => new ForwardRuntime(cfg, logger, clock), [TOKENS.ForwardConfig, TOKENS.Logger, TOKENS.Clock])
    .inSingletonScope();
  return container;
}

/** The forward program's composition root: resolves the runtime (the only `get`) and starts it. */
export async function startForward(config: ForwardConfig, overrides: PlatformOverrides = {}): Promise<ForwardRuntime> {
  const fwd = buildForwardContainer(config, overrides).get(TOKENS.ForwardRuntime);
  await fwd.start();
  return fwd;
}

/** `piko-ts forward` / `node dist/main/forward.js`: `tcp <addr> <endpoint>` or `start`. */
export async function runForward(argv: readonly string[]): Promise<void> {
  const loaded = loadOrExit(() => loadForwardConfig(argv, process.env), 'main');
  if (loaded === undefined) return;
  const { config, logger } = loaded;
  try {
    const fwd = await startForward(config, { logger });
    onShutdownSignal(() => fwd.stop(), logger.child('main'));
    onReloadSignal(() => fwd.reloadTls('SIGHUP'), logger.child('tls'));
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runForward(process.argv.slice(2));
