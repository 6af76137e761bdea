#!/usr/bin/env node
import { loadForwardConfig } from '../adapters/config/load-config.js';
import type { ForwardConfig } from '../adapters/config/types.js';
import { TcpPortForwarder } from '../adapters/forward/tcp-port-forwarder.js';
import { createWinstonLogger } from '../adapters/logging/winston-logger.adapter.js';
import { formatAddress } from '../adapters/net/listen.js';
import type { Logger } from '../application/ports/logger.port.js';
import { failStartup, isMain, onShutdownSignal } from './run.js';

/** A running forward process. */
export interface ForwardProcess {
  readonly addresses: readonly string[];
  stop(): Promise<void>;
}

/** Binds every configured local port; each accepted connection gets its own tunnel to the proxy port. */
export async function startForward(config: ForwardConfig, logger: Logger): Promise<ForwardProcess> {
  const log = logger.child('forwarder');
  const forwarders = config.ports.map(
    (p) =>
      new TcpPortForwarder(
        {
          addr: p.addr,
          endpointId: p.endpointId,
          connectUrl: config.connect.url,
          dial: { ...(config.connect.token ? { token: config.connect.token } : {}), handshakeTimeoutMs: config.connect.timeoutMs },
        },
        log,
      ),
  );
  const addresses: string[] = [];
  try {
    for (const f of forwarders) addresses.push(formatAddress(await f.listen()));
  } catch (err) {
    for (const f of forwarders) f.close(true);
    throw err;
  }
  logger.child('main').info('forward started', { ports: addresses, url: config.connect.url });
  return {
    addresses,
    stop: async () => {
      for (const f of forwarders) f.close(true);
    },
  };
}

/** `piko-ts forward` / `node dist/main/forward.js`: `tcp <addr> <endpoint>` or `start`. */
export async function runForward(argv: readonly string[]): Promise<void> {
  let loaded;
  try {
    loaded = loadForwardConfig(argv, process.env);
  } catch (err) {
    failStartup(err);
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`);
    return;
  }
  const { config } = loaded;
  const logger = createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  for (const w of loaded.warnings) logger.child('main').warn(w);
  try {
    const fwd = await startForward(config, logger);
    onShutdownSignal(() => fwd.stop(), logger.child('main'));
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runForward(process.argv.slice(2));
