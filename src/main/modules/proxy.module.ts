import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ClusterMembership } from '../../application/ports/cluster-membership.port.js';
import type { Forwarder } from '../../application/ports/forwarder.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { Metrics } from '../../application/ports/metrics.port.js';
import type { DispatchRequest } from '../../application/use-cases/dispatch-request.use-case.js';
import { createAccessLogSink } from '../../adapters/http/access-log-sink.js';
import { parseHostPort } from '../../adapters/platform/config/addresses.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import type { ServerTls } from '../../adapters/platform/tls/server-tls.js';
import { HttpProxyForwarder } from '../../adapters/server/proxy/http-proxy-forwarder.adapter.js';
import { declareProxyMetrics } from '../../adapters/server/proxy/proxy-metrics.js';
import { ProxyServer } from '../../adapters/server/proxy/proxy-server.js';
import { declareTcpRouteMetrics } from '../../adapters/server/proxy/tcp-route-metrics.js';
import { createTcpTunnelRoute } from '../../adapters/server/proxy/tcp-tunnel-route.js';
import { TOKENS } from '../tokens.js';
import { SERVER_AUTH, type ServerAuth } from './auth.module.js';

/**
 * The IP addresses of the cluster's other nodes, read from the membership's current snapshot: requests they
 * forward keep the X-Forwarded-* values they set for the real client.
 */
export function clusterPeerIps(membership: ClusterMembership): (ip: string) => boolean {
  let version = -1;
  let ips = new Set<string>();
  return (ip) => {
    const snapshot = membership.snapshot();
    if (snapshot.version !== version) {
      version = snapshot.version;
      ips = new Set();
      for (const n of snapshot.nodes) {
        const host = n.id === snapshot.localNodeId ? undefined : parseHostPort(n.proxyAddr)?.host;
        if (host !== undefined) ips.add(host);
      }
    }
    return ips.has(ip);
  };
}

/** The proxy port and its forwarder. */
export const proxyModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.Forwarder)
    .toResolvedValue(
      (clock: Clock, cfg: ServerConfig, membership: ClusterMembership, tls: ServerTls) =>
        new HttpProxyForwarder(clock, {
          trustedProxies: cfg.proxy.http.trustedProxies,
          isClusterPeer: clusterPeerIps(membership),
          ...(tls.peer !== undefined && { peerTls: tls.peer }),
        }),
      [TOKENS.Clock, TOKENS.ServerConfig, TOKENS.ClusterMembership, TOKENS.ServerTls],
    )
    .inSingletonScope();
  bind(TOKENS.ProxyServer)
    .toResolvedValue(
      (cfg: ServerConfig, dispatch: DispatchRequest, forwarder: Forwarder, metrics: Metrics, log: Logger, clock: Clock, tls: ServerTls, auth: ServerAuth) => {
        const accessLog = createAccessLogSink(cfg.proxy.accessLog, log.child('proxy.access'));
        const pikoUpgrade = createTcpTunnelRoute(
          { maxMessageBytes: cfg.proxy.tcp.maxMessageBytes },
          { dispatch, forwarder, log: log.child('proxy.tcp'), metrics: declareTcpRouteMetrics(metrics), ...(auth.proxy !== undefined && { auth: auth.proxy }) },
        );
        return new ProxyServer(
          {
            timeoutMs: cfg.proxy.timeoutMs,
            readHeaderTimeoutMs: cfg.proxy.http.readHeaderTimeoutMs,
            idleTimeoutMs: cfg.proxy.http.idleTimeoutMs,
            maxHeaderBytes: cfg.proxy.http.maxHeaderBytes,
            maxConnectionsPerIp: cfg.proxy.http.maxConnectionsPerIp,
          },
          {
            dispatch,
            forwarder,
            metrics: declareProxyMetrics(metrics),
            clock,
            pikoUpgrade,
            ...(accessLog !== undefined ? { accessLog } : {}),
            ...(tls.proxy !== undefined && { tls: tls.proxy }),
            ...(auth.proxy !== undefined && { auth: auth.proxy }),
          },
        );
      },
      [TOKENS.ServerConfig, TOKENS.DispatchRequest, TOKENS.Forwarder, TOKENS.Metrics, TOKENS.Logger, TOKENS.Clock, TOKENS.ServerTls, SERVER_AUTH],
    )
    .inSingletonScope();
});
