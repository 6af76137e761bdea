import type { Clock } from '../application/ports/clock.port.js';
import type { ClusterMembership } from '../application/ports/cluster-membership.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { UpstreamDirectory } from '../application/services/upstream-directory.js';
import type { ServerConfig } from '../adapters/platform/config/types.js';
import { parseHostPort } from '../adapters/platform/config/addresses.js';
import { formatAddress, listen, type BoundAddress } from '../adapters/platform/net/listen.js';
import { plaintextPortWarnings } from '../adapters/platform/tls/plaintext-ports.js';
import type { ReloadOutcome } from '../adapters/platform/tls/reloadable-tls.js';
import type { ServerTls } from '../adapters/platform/tls/server-tls.js';
import { createAdminApp } from '../adapters/server/admin/admin-router.js';
import { startAdminServer, type AdminServer } from '../adapters/server/admin/admin-server.js';
import { clusterMetricsHook } from '../adapters/server/admin/cluster-metrics.js';
import type { ClusterStatusSource } from '../adapters/server/admin/cluster-status.js';
import type { ProxyServer } from '../adapters/server/proxy/proxy-server.js';
import type { WsUpstreamServer } from '../adapters/server/upstream/ws-upstream-server.js';
import { advertiseAddrOf } from '../adapters/server/cluster/gossip/gossip-addresses.js';
import { asNodeId } from '../domain/node/node.js';
import type { ClosableForwarder, MetricsRegistry } from './tokens.js';
import type { ServerAuth } from './modules/auth.module.js';
import { unauthenticatedPortWarnings } from '../adapters/server/auth/auth-warnings.js';

/** The addresses a started node listens on. */
export interface ServerAddresses {
  readonly proxy: BoundAddress;
  readonly upstream: BoundAddress;
  readonly admin: BoundAddress;
}

/** What a server node is made of; the container supplies each part. */
export interface ServerNodeParts {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
  readonly membership: ClusterMembership;
  readonly clusterStatus: ClusterStatusSource;
  readonly directory: UpstreamDirectory;
  readonly upstream: WsUpstreamServer;
  readonly proxy: ProxyServer;
  readonly forwarder: ClosableForwarder;
  /** The ports' and the forwarder's TLS material: watched once serving, reloaded by {@link ServerNode.reloadTls}. */
  readonly tls?: ServerTls;
  /** Rebalancing rounds (`upstream.rebalance.threshold` > 0): started once serving, stopped first at shutdown. */
  readonly rebalancer?: { start(): void; stop(): void };
  /** The ports' authentication: the admin middleware, the open-port warning, the verifiers closed at stop. */
  readonly auth?: ServerAuth;
}

/**
 * A server node's life: start in order (admin port first, not ready; then the upstream and proxy ports; then
 * the cluster; then ready) and stop within the grace period: not ready, leave the cluster so peers stop routing
 * here, go-away to agents, drain the proxy port, close. Built by the container; the
 * composition root calls `start` once.
 */
export class ServerNode {
  #ready = false;
  #admin: AdminServer | undefined;
  #addresses: ServerAddresses | undefined;
  #stopping: Promise<void> | undefined;

  constructor(private readonly parts: ServerNodeParts) {}

  get nodeId(): string {
    return this.parts.config.cluster.nodeId;
  }

  /** Whether the node serves traffic (`GET /ready`). */
  isReady(): boolean {
    return this.#ready;
  }

  /** The bound addresses; throws before `start` has finished. */
  get addresses(): ServerAddresses {
    if (this.#addresses === undefined) throw new Error('server node not started');
    return this.#addresses;
  }

  /**
   * Reads every TLS file again (SIGHUP): new connections get the new certificates, open ones keep theirs; files
   * that cannot be used are logged and the certificates in use are kept. Returns each part's outcome by name.
   */
  reloadTls(reason = 'SIGHUP'): Record<string, ReloadOutcome> {
    return this.parts.tls?.group.reloadAll(reason) ?? {};
  }

  /** Binds every port and joins the cluster; on failure closes what was opened and rejects. */
  async start(): Promise<ServerAddresses> {
    const { config, log, metrics, membership, clusterStatus, directory, upstream, proxy } = this.parts;
    const adminLog = log.child('admin');
    metrics.beforeCollect(clusterMetricsHook(metrics, clusterStatus), (error) => adminLog.error('cluster metrics failed', { error }));
    const adminBind = parseHostPort(config.admin.bindAddr);
    const admin = await startAdminServer(
      createAdminApp({
        isReady: () => this.#ready,
        metrics,
        upstreamEndpoints: () => directory.endpointCounts(),
        logger: adminLog,
        cluster: clusterStatus,
        ...(this.parts.tls?.adminPeer !== undefined && { forwardTls: this.parts.tls.adminPeer }),
        ...(this.parts.auth?.admin !== undefined && { middleware: [this.parts.auth.admin] }),
      }),
      adminBind?.host ?? '',
      adminBind?.port ?? 8002,
      this.parts.tls?.admin,
    );
    this.#admin = admin;
    let upstreamAddr: BoundAddress;
    let proxyAddr: BoundAddress;
    try {
      upstreamAddr = await listen(upstream.server, config.upstream.bindAddr);
      proxyAddr = await listen(proxy.server, config.proxy.bindAddr);
      // A wildcard bind (`:8000`) is advertised with a private interface address, never as 0.0.0.0 (peers
      // would forward to themselves).
      await membership.start({
        id: asNodeId(config.cluster.nodeId),
        proxyAddr: advertiseAddrOf(config.proxy.advertiseAddr, { address: proxyAddr.host, port: proxyAddr.port }).addr,
        adminAddr: advertiseAddrOf(config.admin.advertiseAddr, { address: admin.address.host, port: admin.address.port }).addr,
      });
    } catch (err) {
      upstream.closeAll();
      proxy.server.close();
      await admin.stop();
      this.parts.auth?.close();
      throw err;
    }
    this.#addresses = { proxy: proxyAddr, upstream: upstreamAddr, admin: admin.address };
    this.#ready = true;
    this.parts.rebalancer?.start();
    log.child('server').info('server started', {
      'node-id': config.cluster.nodeId,
      'proxy-addr': formatAddress(proxyAddr),
      'upstream-addr': formatAddress(upstreamAddr),
      'admin-addr': formatAddress(admin.address),
    });
    // Once per start: a port reachable from other hosts without TLS carries tokens and traffic in clear.
    const exposure = (['proxy', 'upstream', 'admin'] as const).map((port) => ({ port, bindAddr: config[port].bindAddr, tls: config[port].tls }));
    for (const warning of plaintextPortWarnings(exposure)) log.child('server').warn(warning);
    const on = this.parts.auth?.on;
    const bound = [['proxy', proxyAddr], ['upstream', upstreamAddr], ['admin', admin.address]] as const;
    const open = bound.map(([name, a]) => ({ name, host: a.host, port: a.port, authOn: on?.[name] ?? false }));
    for (const warning of unauthenticatedPortWarnings(open)) log.child('server').warn(warning);
    this.parts.tls?.group.watchAll();
    return this.#addresses;
  }

  /** Ordered, graceful stop within the grace period; calling it again returns the same promise. */
  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    const { config, log, clock, membership, upstream, proxy, forwarder, rebalancer } = this.parts;
    rebalancer?.stop();
    const deadline = clock.now() + config.gracePeriodMs;
    const remaining = (): number => Math.max(0, deadline - clock.now());
    const slog = log.child('server');
    this.#ready = false;
    slog.info('shutting down', { 'in-flight': proxy.requestsInFlight, upstreams: upstream.size });
    // Peers stop routing here at once, and agents are told to reconnect elsewhere (go-away) while the requests
    // already on their connections finish; then the proxy port drains and what is left is closed.
    await membership.leave();
    upstream.goAwayAll();
    await proxy.drain(remaining());
    upstream.closeAll();
    forwarder.close();
    await this.#admin?.stop();
    this.parts.tls?.group.close();
    this.parts.auth?.close();
    slog.info('shutdown complete');
  }
}
