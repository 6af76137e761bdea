import type { ServiceIdentifier } from 'inversify';
import type { Clock } from '../application/ports/clock.port.js';
import type { ClusterMembership } from '../application/ports/cluster-membership.port.js';
import type { Forwarder } from '../application/ports/forwarder.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { Metrics } from '../application/ports/metrics.port.js';
import type { RebalanceLoop } from '../application/services/rebalance-loop.js';
import type { RouteWaiter } from '../application/services/route-waiter.js';
import type { UpstreamDirectory } from '../application/services/upstream-directory.js';
import type { UpstreamMetrics } from '../application/services/upstream-metrics.js';
import type { DispatchRequest } from '../application/use-cases/dispatch-request.use-case.js';
import type { RegisterUpstream } from '../application/use-cases/register-upstream.use-case.js';
import type { RouteRequest } from '../application/use-cases/route-request.use-case.js';
import type { UnregisterUpstream } from '../application/use-cases/unregister-upstream.use-case.js';
import type { AgentConfig, ForwardConfig, ServerConfig } from '../adapters/platform/config/types.js';
import type { ServerTls } from '../adapters/platform/tls/server-tls.js';
import type { MetricsExposition } from '../adapters/server/admin/admin-router.js';
import type { ClusterStatusSource } from '../adapters/server/admin/cluster-status.js';
import type { ProxyServer } from '../adapters/server/proxy/proxy-server.js';
import type { WsUpstreamServer } from '../adapters/server/upstream/ws-upstream-server.js';
import type { AgentRuntime } from './agent-runtime.js';
import type { ForwardRuntime } from './forward-runtime.js';
import type { ServerNode } from './server-node.js';

/** A forwarder that also owns pooled connections to close at shutdown. */
export type ClosableForwarder = Forwarder & { close(): void };

/** Metrics as the port (for counting) and as the exposition the admin port serves: one registry per process. */
export type MetricsRegistry = Metrics & MetricsExposition & { beforeCollect(hook: () => void, onError?: (e: unknown) => void): void };

/**
 * Typed service identifiers of the three programs' containers, typed by ports wherever a port exists. Only
 * src/main uses them; adapters and use cases receive their collaborators as constructor arguments.
 */
export const TOKENS = {
  // Platform, every program.
  Clock: Symbol('Clock') as ServiceIdentifier<Clock>,
  Logger: Symbol('Logger') as ServiceIdentifier<Logger>,
  Metrics: Symbol('Metrics') as ServiceIdentifier<MetricsRegistry>,
  Random: Symbol('Random') as ServiceIdentifier<() => number>,
  // Server.
  ServerConfig: Symbol('ServerConfig') as ServiceIdentifier<ServerConfig>,
  ClusterMembership: Symbol('ClusterMembership') as ServiceIdentifier<ClusterMembership>,
  ClusterStatus: Symbol('ClusterStatus') as ServiceIdentifier<ClusterStatusSource>,
  UpstreamDirectory: Symbol('UpstreamDirectory') as ServiceIdentifier<UpstreamDirectory>,
  UpstreamMetrics: Symbol('UpstreamMetrics') as ServiceIdentifier<UpstreamMetrics>,
  RouteWaiter: Symbol('RouteWaiter') as ServiceIdentifier<RouteWaiter>,
  RegisterUpstream: Symbol('RegisterUpstream') as ServiceIdentifier<RegisterUpstream>,
  UnregisterUpstream: Symbol('UnregisterUpstream') as ServiceIdentifier<UnregisterUpstream>,
  RouteRequest: Symbol('RouteRequest') as ServiceIdentifier<RouteRequest>,
  DispatchRequest: Symbol('DispatchRequest') as ServiceIdentifier<DispatchRequest>,
  Forwarder: Symbol('Forwarder') as ServiceIdentifier<ClosableForwarder>,
  ProxyServer: Symbol('ProxyServer') as ServiceIdentifier<ProxyServer>,
  UpstreamServer: Symbol('UpstreamServer') as ServiceIdentifier<WsUpstreamServer>,
  /** Bound only when `upstream.rebalance.threshold` > 0. */
  Rebalancer: Symbol('Rebalancer') as ServiceIdentifier<RebalanceLoop>,
  ServerNode: Symbol('ServerNode') as ServiceIdentifier<ServerNode>,
  ServerTls: Symbol('ServerTls') as ServiceIdentifier<ServerTls>,
  // Agent.
  AgentConfig: Symbol('AgentConfig') as ServiceIdentifier<AgentConfig>,
  AgentRuntime: Symbol('AgentRuntime') as ServiceIdentifier<AgentRuntime>,
  // Forward.
  ForwardConfig: Symbol('ForwardConfig') as ServiceIdentifier<ForwardConfig>,
  ForwardRuntime: Symbol('ForwardRuntime') as ServiceIdentifier<ForwardRuntime>,
} as const;
