#!/usr/bin/env node
import { loadAgentConfig } from '../adapters/config/load-config.js';
import { createWinstonLogger } from '../adapters/logging/winston-logger.adapter.js';
import { startAgent } from './create-agent.js';
import { failStartup, isMain, onShutdownSignal } from './run.js';

/**
 * `piko-ts agent` / `node dist/main/agent.js`: `http <endpoint> <addr>`, `tcp <endpoint> <addr>` or `start`.
 * Connects every listener, reconnects forever after disconnects, exits 1 with the reason on a final refusal
 * (401/403...), and finishes in-flight requests before exiting on SIGTERM/SIGINT.
 */
export async function runAgent(argv: readonly string[]): Promise<void> {
  let loaded;
  try {
    loaded = loadAgentConfig(argv, process.env);
  } catch (err) {
    failStartup(err);
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`);
    return;
  }
  const { config, warnings } = loaded;
  const logger = createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  const log = logger.child('main');
  for (const w of warnings) log.warn(w);
  try {
    const agent = await startAgent(config, { logger });
    onShutdownSignal(() => agent.stop(), log);
    void agent.fatal.then((err) => {
      log.error('listener refused by the server; exiting', { error: err.message });
      void agent.stop().finally(() => failStartup(err));
    });
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runAgent(process.argv.slice(2));
