#!/usr/bin/env node
import { loadForwardConfig } from '../adapters/platform/config/load-config.js';
import type { ForwardConfig } from '../adapters/platform/config/types.js';
import { TcpPortForwarder } from '../adapters/client/forward/tcp-port-forwarder.js';
import { formatAddress } from '../adapters/platform/net/listen.js';
import type { Logger } from '../application/ports/logger.port.js';
import { failStartup, isMain, loadOrExit, onShutdownSignal } from './run.js';

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
  const loaded = loadOrExit(() => loadForwardConfig(argv, process.env), 'main');
  if (loaded === undefined) return;
  const { config, logger } = loaded;
  try {
    const fwd = await startForward(config, logger);
    onShutdownSignal(() => fwd.stop(), logger.child('main'));
  } catch (err) {
    failStartup(err);
  }
}

if (isMain(import.meta.url)) void runForward(process.argv.slice(2));
