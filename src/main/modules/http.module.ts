import { ContainerModule } from 'inversify';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Forwarder } from '../../application/ports/forwarder.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import type { DispatchRequest } from '../../application/use-cases/dispatch-request.use-case.js';
import type { ServerConfig } from '../../adapters/platform/config/types.js';
import { createAccessLogSink } from '../../adapters/http/access-log-sink.js';
import { HttpProxyForwarder } from '../../adapters/server/proxy/http-proxy-forwarder.adapter.js';
import { declareProxyMetrics } from '../../adapters/server/proxy/proxy-metrics.js';
import { ProxyServer } from '../../adapters/server/proxy/proxy-server.js';
import { declareTcpRouteMetrics } from '../../adapters/server/proxy/tcp-route-metrics.js';
import { createTcpTunnelRoute } from '../../adapters/server/proxy/tcp-tunnel-route.js';
import type { PromMetrics } from '../../adapters/platform/metrics/prom-metrics.adapter.js';
import { TOKENS } from '../tokens.js';

/** The proxy port and its forwarder. */
export const httpModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.Forwarder)
    .toResolvedValue(
      (clock: Clock, cfg: ServerConfig) => new HttpProxyForwarder(clock, { trustedProxies: cfg.proxy.http.trustedProxies }),
      [TOKENS.Clock, TOKENS.Config],
    )
    .inSingletonScope();
  bind(TOKENS.ProxyServer)
    .toResolvedValue(
      (
        cfg: ServerConfig,
        dispatch: DispatchRequest,
        forwarder: Forwarder,
        metrics: PromMetrics,
        log: Logger,
        clock: Clock,
      ) => {
        const accessLog = createAccessLogSink(cfg.proxy.accessLog, log.child('proxy.access'));
        const pikoUpgrade = createTcpTunnelRoute(
          { maxMessageBytes: cfg.proxy.tcp.maxMessageBytes },
          { dispatch, forwarder, log: log.child('proxy.tcp'), metrics: declareTcpRouteMetrics(metrics) },
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
          },
        );
      },
      [TOKENS.Config, TOKENS.DispatchRequest, TOKENS.Forwarder, TOKENS.Metrics, TOKENS.Logger, TOKENS.Clock],
    )
    .inSingletonScope();
});
