import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { RegisterUpstream } from '../../application/use-cases/register-upstream.use-case.js';
import type { UnregisterUpstream } from '../../application/use-cases/unregister-upstream.use-case.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { WsUpstreamServer } from '../../adapters/server/upstream/ws-upstream-server.js';
import { TOKENS } from '../tokens.js';

/** The upstream port: WebSocket + yamux sessions from agents. */
export const upstreamModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.UpstreamServer)
    .toResolvedValue(
      (cfg: ServerConfig, register: RegisterUpstream, unregister: UnregisterUpstream, clock: Clock, log: Logger) =>
        new WsUpstreamServer(
          {
            maxStreamsPerSession: cfg.upstream.maxStreamsPerSession,
            keepaliveIntervalMs: cfg.upstream.keepaliveIntervalMs,
            keepaliveTimeoutMs: cfg.upstream.keepaliveTimeoutMs,
            maxQueuedControlFrames: cfg.upstream.maxQueuedControlFrames,
            maxMessageBytes: cfg.upstream.maxMessageBytes,
          },
          { register, unregister, clock, log: log.child('upstream') },
        ),
      [TOKENS.ServerConfig, TOKENS.RegisterUpstream, TOKENS.UnregisterUpstream, TOKENS.Clock, TOKENS.Logger],
    )
    .inSingletonScope();
});
