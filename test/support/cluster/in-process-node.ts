import { loadServerConfig } from '../../../src/adapters/platform/config/load-config.js';
import type { ServerConfig } from '../../../src/adapters/platform/config/types.js';
import { startServerNode, type ServerNode, type ServerOverrides } from '../../../src/main/create-server.js';
import { InMemoryLogger } from '../fakes/in-memory-logger.js';

/** A server configuration on 127.0.0.1 with kernel-chosen ports, as the loader builds it from flags. */
export function loopbackServerConfig(nodeId: string, extra: readonly string[] = []): ServerConfig {
  const loaded = loadServerConfig(
    [
      '--cluster.node-id',
      nodeId,
      '--proxy.bind-addr',
      '127.0.0.1:0',
      '--upstream.bind-addr',
      '127.0.0.1:0',
      '--admin.bind-addr',
      '127.0.0.1:0',
      '--cluster.gossip.bind-addr',
      '127.0.0.1:0',
      '--grace-period',
      '2s',
      ...extra,
    ],
    {},
  );
  if (loaded.kind !== 'config') throw new Error('unexpected help');
  return loaded.config;
}

/** A node started in this process, with an in-memory logger unless one is given. */
export async function startInProcessNode(
  nodeId: string,
  overrides: ServerOverrides = {},
  extra: readonly string[] = [],
): Promise<{ node: ServerNode; log: InMemoryLogger }> {
  const log = new InMemoryLogger();
  const node = await startServerNode(loopbackServerConfig(nodeId, extra), { logger: log, ...overrides });
  return { node, log };
}

/** `host:port` of a bound address. */
export const hostPort = (a: { host: string; port: number }): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
