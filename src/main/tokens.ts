import type { ServiceIdentifier } from 'inversify';
import type { Clock } from '../application/ports/clock.port.js';
import type { ClusterMembership } from '../application/ports/cluster-membership.port.js';
import type { Forwarder } from '../application/ports/forwarder.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { UpstreamDirectory } from '../application/services/upstream-directory.js';
import type { UpstreamMetrics } from '../application/services/upstream-metrics.js';
import type { RegisterUpstream } from '../application/use-cases/register-upstream.use-case.js';
import type { DispatchRequest } from '../application/use-cases/dispatch-request.use-case.js';
import type { RouteRequest } from '../application/use-cases/route-request.use-case.js';
import type { UnregisterUpstream } from '../application/use-cases/unregister-upstream.use-case.js';
import type { ServerConfig } from '../adapters/platform/config/types.js';
import type { ProxyServer } from '../adapters/server/proxy/proxy-server.js';
import type { PromMetrics } from '../adapters/platform/metrics/prom-metrics.adapter.js';
import type { WsUpstreamServer } from '../adapters/server/upstream/ws-upstream-server.js';

/** Typed service identifiers of the server's container. Only src/main uses them. */
export const TOKENS = {
  Config: Symbol('Config') as ServiceIdentifier<ServerConfig>,
  Clock: Symbol('Clock') as ServiceIdentifier<Clock>,
  Logger: Symbol('Logger') as ServiceIdentifier<Logger>,
  Metrics: Symbol('Metrics') as ServiceIdentifier<PromMetrics>,
  Random: Symbol('Random') as ServiceIdentifier<() => number>,
  ClusterMembership: Symbol('ClusterMembership') as ServiceIdentifier<ClusterMembership>,
  UpstreamDirectory: Symbol('UpstreamDirectory') as ServiceIdentifier<UpstreamDirectory>,
  UpstreamMetrics: Symbol('UpstreamMetrics') as ServiceIdentifier<UpstreamMetrics>,
  RegisterUpstream: Symbol('RegisterUpstream') as ServiceIdentifier<RegisterUpstream>,
  UnregisterUpstream: Symbol('UnregisterUpstream') as ServiceIdentifier<UnregisterUpstream>,
  RouteRequest: Symbol('RouteRequest') as ServiceIdentifier<RouteRequest>,
  DispatchRequest: Symbol('DispatchRequest') as ServiceIdentifier<DispatchRequest>,
  Forwarder: Symbol('Forwarder') as ServiceIdentifier<Forwarder & { close(): void }>,
  ProxyServer: Symbol('ProxyServer') as ServiceIdentifier<ProxyServer>,
  UpstreamServer: Symbol('UpstreamServer') as ServiceIdentifier<WsUpstreamServer>,
} as const;
