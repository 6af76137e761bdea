import type { RequestHandler } from 'express';
import { ContainerModule, type ServiceIdentifier } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { Metrics } from '../../application/ports/metrics.port.js';
import type { TokenVerifier, WallClock } from '../../application/ports/token-verifier.port.js';
import { AUTH_PORTS, isAuthOn, type AuthPort } from '../../adapters/platform/auth/auth-config-checks.js';
import { JoseTokenVerifier } from '../../adapters/platform/auth/jose-token-verifier.js';
import type { AuthConfig, ServerConfig } from '../../adapters/platform/config/types.js';
import { adminAuthMiddleware } from '../../adapters/server/admin/auth-admin.js';
import { AuthGate, NO_AUTH } from '../../adapters/server/auth/auth-gate.js';
import { hopKeyFrom } from '../../adapters/server/proxy/auth-hop.js';
import { ProxyAuth } from '../../adapters/server/proxy/auth-proxy.js';
import { UpstreamAuth } from '../../adapters/server/upstream/auth-upstream.js';
import { TOKENS } from '../tokens.js';

/** The authentication of a server node's three ports; a port without `<port>.auth` has none. */
export interface ServerAuth {
  readonly proxy?: ProxyAuth;
  readonly upstream?: UpstreamAuth;
  readonly admin?: RequestHandler;
  /** Which ports have auth on, for the start-up warning about open ports. */
  readonly on: Readonly<Record<AuthPort, boolean>>;
  /** Stops the verifiers' background work (JWKS refreshes). */
  close(): void;
}

/** The container's identifier of the node's {@link ServerAuth}. */
export const SERVER_AUTH = Symbol('ServerAuth') as ServiceIdentifier<ServerAuth>;

/**
 * Builds each port's verifier from `<port>.auth` (PEM keys parsed, a `file://` JWKS read, a remote JWKS fetched
 * in the background) and the checks the ports run. Throws `config: <key>: <reason>` when a key cannot be used, so
 * start-up stops with one line. Each tenant of `upstream.tenants` has its own verifier, chosen by `x-piko-tenant-id`
 * on the upstream and the proxy port (`AuthGate`'s `verifierFor`): a tenant's token registers and reaches its
 * endpoints. A request without the header is the default tenant's, verified with `<port>.auth` (no token needed when
 * that is off); one naming another tenant is refused (`unknown tenant`). With tenants, both ports check requests
 * even when their own auth is off.
 */
export function createServerAuth(config: ServerConfig, deps: { clock: Clock; logger: Logger; metrics: Metrics; wallClock?: WallClock }): ServerAuth {
  const wallClock = deps.wallClock ?? Date.now;
  const log = deps.logger.child('auth');
  const verifiers: TokenVerifier[] = [];
  const build = (configKey: string, auth: AuthConfig, port: AuthPort): TokenVerifier => {
    let verifier: TokenVerifier;
    try {
      verifier = new JoseTokenVerifier({ configKey, ...auth }, { clock: deps.clock, log, metrics: deps.metrics, port });
    } catch (err) {
      for (const v of verifiers) v.close();
      throw new Error(`config: ${err instanceof Error ? err.message : String(err)}`);
    }
    verifiers.push(verifier);
    return verifier;
  };
  const tenants = new Map(config.upstream.tenants.map((t, i) => [t.id, build(`upstream.tenants[${i}].auth`, t.auth, 'upstream')] as const));
  const gateFor = (port: AuthPort): AuthGate | undefined => {
    const auth = config[port].auth;
    const tenanted = port !== 'admin' && tenants.size > 0;
    if (!isAuthOn(auth) && !tenanted) return undefined;
    const verifier = isAuthOn(auth) ? build(`${port}.auth`, auth, port) : NO_AUTH;
    // Without tenants, a request naming one is refused (`unknown tenant`) on the upstream and proxy ports, as in Piko.
    const verifierFor = port === 'admin' ? () => verifier : (tenant: string | undefined) => (tenant === undefined ? verifier : tenants.get(tenant));
    return new AuthGate({ verifierFor, wallClock, log, metrics: deps.metrics, port });
  };
  const [proxyGate, upstreamGate, adminGate] = AUTH_PORTS.map(gateFor);
  const on = Object.fromEntries(AUTH_PORTS.map((p) => [p, isAuthOn(config[p].auth)])) as Record<AuthPort, boolean>;
  return {
    ...(proxyGate !== undefined && {
      proxy: new ProxyAuth(proxyGate, { passAuthorization: config.proxy.auth.passAuthorization, hopKey: hopKeyFrom(config.cluster.gossip.secretKey) }, wallClock),
    }),
    ...(upstreamGate !== undefined && {
      upstream: new UpstreamAuth(
        upstreamGate,
        {
          disconnectOnExpiry: !config.upstream.auth.disableDisconnectOnExpiry,
          leewayMs: config.upstream.auth.leewayMs,
          tenants: new Map(config.upstream.tenants.map((t) => [t.id, { disconnectOnExpiry: !t.auth.disableDisconnectOnExpiry, leewayMs: t.auth.leewayMs }])),
        },
        { clock: deps.clock, wallClock, log: deps.logger.child('upstream') },
      ),
    }),
    ...(adminGate !== undefined && { admin: adminAuthMiddleware(adminGate) }),
    on,
    close: () => {
      for (const v of verifiers) v.close();
    },
  };
}

/** The node's authentication, one per container. */
export const authModule = new ContainerModule(({ bind }) => {
  bind(SERVER_AUTH)
    .toResolvedValue(
      (cfg: ServerConfig, clock: Clock, logger: Logger, metrics: Metrics) => createServerAuth(cfg, { clock, logger, metrics }),
      [TOKENS.ServerConfig, TOKENS.Clock, TOKENS.Logger, TOKENS.Metrics],
    )
    .inSingletonScope();
});
