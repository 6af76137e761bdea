#!/usr/bin/env node
import { loadAgentConfig } from '../adapters/platform/config/load-config.js';
import { startAgent } from './create-agent.js';
import { failStartup, isMain, loadOrExit, onReloadSignal, onShutdownSignal } from './run.js';

/**
 * `piko-ts agent` / `node dist/main/agent.js`: `http <endpoint> <addr>`, `tcp <endpoint> <addr>` or `start`.
 * Connects every listener, reconnects forever after disconnects, exits 1 with the reason on a final refusal
 * (401/403...), and finishes in-flight requests before exiting on SIGTERM/SIGINT.
 */
export async function runAgent(argv: readonly string[]): Promise<void> {
  const loaded = loadOrExit(() => loadAgentConfig(argv, process.env), 'main');
  if (loaded === undefined) return;
  const { config, logger } = loaded;
  const log = logger.child('main');
  try {
    const agent = await startAgent(config, { logger });
    onShutdownSignal(() => agent.stop(), log);
    onReloadSignal(() => agent.reloadTls('SIGHUP'), logger.child('tls'));
    void agent.fatal.then((err) => {
      log.error('listener refused by the server; exiting', { error: err.message });
      void agent.stop().finally(() => failStartup(err));
    });
  } catch (err) {
    // The logger exists by now: the reason is a JSON line like every other, then exit 1.
    log.error('agent failed to start; exiting', { error: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  }
}

if (isMain(import.meta.url)) void runAgent(process.argv.slice(2));
