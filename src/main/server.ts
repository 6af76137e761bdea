#!/usr/bin/env node
import { loadServerConfig } from '../adapters/config/load-config.js';
import { createWinstonLogger } from '../adapters/logging/winston-logger.adapter.js';
import { startServerNode } from './create-server.js';
import { failStartup, isMain, onShutdownSignal } from './run.js';

/**
 * `piko-ts server` / `node dist/main/server.js`: loads the configuration (flags > env > file > defaults),
 * starts a node, and stops it gracefully on SIGTERM/SIGINT. A bad configuration exits 1 with one line.
 */
export async function runServer(argv: readonly string[]): Promise<void> {
  let loaded;
  try {
    loaded = loadServerConfig(argv, process.env);
  } catch (err) {
    failStartup(err);
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`);
    return;
  }
  const { config, warnings } = loaded;
  const logger = createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  for (const w of warnings) logger.child('server').warn(w);
  try {
    const node = await startServerNode(config, { logger });
    onShutdownSignal(() => node.stop(), logger.child('server'));
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runServer(process.argv.slice(2));
