#!/usr/bin/env node
import { loadServerConfig } from '../adapters/platform/config/load-config.js';
import { startServerNode } from './create-server.js';
import { failStartup, isMain, loadOrExit, onReloadSignal, onShutdownSignal } from './run.js';

/**
 * `piko-ts server` / `node dist/main/server.js`: loads the configuration (flags > env > file > defaults),
 * starts a node, and stops it gracefully on SIGTERM/SIGINT. A bad configuration exits 1 with one line.
 */
export async function runServer(argv: readonly string[]): Promise<void> {
  const loaded = loadOrExit(() => loadServerConfig(argv, process.env), 'server');
  if (loaded === undefined) return;
  const { config, logger } = loaded;
  try {
    const node = await startServerNode(config, { logger });
    onShutdownSignal(() => node.stop(), logger.child('server'));
    onReloadSignal(() => node.reloadTls('SIGHUP'), logger.child('tls'));
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runServer(process.argv.slice(2));
