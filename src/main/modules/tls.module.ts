import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { loadServerTlsMaterial } from '../../adapters/platform/tls/server-tls.js';
import { TOKENS } from '../tokens.js';

/**
 * The server's TLS material (`proxy.tls`, `upstream.tls`, `admin.tls`, `proxy.tls.client`, `admin.tls.client`),
 * read from its files when first resolved: a file that is missing, not PEM or a key that does not match fails the
 * node's start-up with the key and the reason. The ports, the forwarder and the admin port's `?forward=` read it;
 * the node reloads it (SIGHUP, file changes).
 */
export const tlsModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.ServerTls)
    .toResolvedValue((cfg: ServerConfig, clock: Clock, log: Logger) => loadServerTlsMaterial(cfg, clock, log), [TOKENS.ServerConfig, TOKENS.Clock, TOKENS.Logger])
    .inSingletonScope();
});
