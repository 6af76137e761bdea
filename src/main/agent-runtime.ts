import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import { agentInFlightHook, agentMetricsSink, combineSinks, type InFlightSource } from '../adapters/client/agent/agent-metrics.js';
import { HttpServiceForwarder } from '../adapters/client/agent/http-service-forwarder.js';
import { TcpServiceForwarder } from '../adapters/client/agent/tcp-service-forwarder.js';
import { UpstreamListener } from '../adapters/client/upstream-listener.js';
import type { AccessLogSink } from '../adapters/http/access-entry.js';
import { createAccessLogSink } from '../adapters/http/access-log-sink.js';
import { parseHostPort } from '../adapters/platform/config/addresses.js';
import type { AgentConfig, ListenerConfig } from '../adapters/platform/config/types.js';
import { clientTlsFor } from '../adapters/platform/tls/client-tls.js';
import { TlsReloadGroup, type ReloadableTls, type ReloadOutcome } from '../adapters/platform/tls/reloadable-tls.js';
import type { ClientTlsOptions } from '../adapters/platform/tls/tls-material.js';
import { startAdminServer, type AdminServer } from '../adapters/server/admin/admin-server.js';
import type { MuxStream } from '../adapters/wire/mux/index.js';
import type { MetricsRegistry } from './tokens.js';
import { FileTokenSource, staticToken, type TokenSource } from '../adapters/client/token-source.js';

interface RunningListener {
  readonly listener: UpstreamListener;
  /** HTTP requests being served (undefined for TCP listeners, which have no request metrics). */
  readonly requestsInFlight?: () => number;
  /** Closes streams that carry no request (HTTP keeps streams open for reuse). */
  closeIdle(): void;
  close(): void;
}

/** What an agent is made of; the container supplies each part. */
export interface AgentParts {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: MetricsRegistry;
}

/**
 * An agent's life: every listener connected (retrying forever, or until `connect.startup_deadline`), the opt-in
 * metrics port, and a graceful stop (go-away on every listener, in-flight requests finish, then close). A listener
 * refused for good (401/403...) resolves `fatal`. Built by the container; the composition root calls `start`.
 */
export class AgentRuntime {
  readonly fatal: Promise<Error>;
  #reportFatal: (e: Error) => void = () => {};
  #running: RunningListener[] = [];
  #metricsServer: AdminServer | undefined;
  #stopping: Promise<void> | undefined;
  /** `connect.token`, or `connect.token_file` read again when it changes: every listener presents it. */
  #tokens: TokenSource = staticToken('');
  /** `connect.tls` and the listeners' `tls`, read at start and reloaded on SIGHUP or when their files change. */
  readonly #tls = new TlsReloadGroup();
  #connectTls: ReloadableTls<ClientTlsOptions> | undefined;

  constructor(private readonly parts: AgentParts) {
    this.fatal = new Promise<Error>((resolve) => (this.#reportFatal = resolve));
  }

  /** Reads the TLS files again (SIGHUP); the next connections use them. Returns each part's outcome by name. */
  reloadTls(reason = 'SIGHUP'): Record<string, ReloadOutcome> {
    return this.#tls.reloadAll(reason);
  }

  /** Requests/connections in flight on all listeners. */
  activeStreams(): number {
    return this.#running.reduce((n, r) => n + r.listener.activeStreams, 0);
  }

  /**
   * Starts every listener and waits until each has connected once. Failed attempts are retried forever with
   * backoff (each logged), unless `connect.startup_deadline` is set: then start rejects when a listener has not
   * connected within it.
   */
  async start(): Promise<void> {
    const { config, logger, clock, metrics } = this.parts;
    const log = logger.child('main');
    // Read before anything opens: a TLS file that cannot be used stops the agent with the key and the reason.
    this.#connectTls = clientTlsFor(config.connect.tls, 'connect.tls', config.connect.url, { clock, log: logger.child('tls'), group: this.#tls });
    // Also read first: a token file that cannot be read stops the agent with its path and the reason.
    this.#tokens = config.connect.tokenFile !== '' ? new FileTokenSource(config.connect.tokenFile, clock, logger.child('client')) : staticToken(config.connect.token);
    // The metrics port is opt-in: an agent opens no listening port unless asked (Piko's :5000 blocked a second agent).
    let metricsSink: AccessLogSink | undefined;
    const inFlightSources: InFlightSource[] = [];
    if (config.server.enabled) {
      metricsSink = agentMetricsSink(metrics);
      metrics.beforeCollect(agentInFlightHook(metrics, inFlightSources));
      const hp = parseHostPort(config.server.bindAddr);
      this.#metricsServer = await startAdminServer(
        (req, res) => {
          if (req.method === 'GET' && req.url === '/metrics') {
            void metrics.text().then((body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body));
          } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
        },
        hp?.host ?? '',
        hp?.port ?? 5000,
      );
      log.info('metrics server started', { addr: `${this.#metricsServer.address.host}:${this.#metricsServer.address.port}` });
    }
    this.#running = config.listeners.map((lc, i) => this.#startListener(lc, i, metricsSink));
    this.#running.forEach((r, i) => {
      if (r.requestsInFlight !== undefined) inFlightSources.push({ endpointId: config.listeners[i]?.endpointId ?? '', requestsInFlight: r.requestsInFlight });
    });
    const connected = this.#running.map((r, i) => {
      r.listener.on('fatal', (err: Error) => this.#reportFatal(new Error(`listener ${config.listeners[i]?.endpointId}: ${err.message}`)));
      return r.listener.start();
    });
    let timeout: (() => void) | undefined;
    try {
      await Promise.race([
        Promise.all(connected),
        new Promise<never>((_, reject) => {
          if (config.connect.startupDeadlineMs > 0) {
            timeout = clock.schedule(config.connect.startupDeadlineMs, () =>
              reject(new Error(`could not connect to ${config.connect.url} within ${config.connect.startupDeadlineMs} ms (connect.startup_deadline)`)),
            );
          }
        }),
      ]);
    } catch (err) {
      for (const r of this.#running) {
        r.listener.shutdown();
        r.close();
      }
      await this.#metricsServer?.stop();
      this.#tls.close();
      this.#tokens.close();
      throw err;
    } finally {
      timeout?.();
    }
    this.#tls.watchAll();
    log.info('agent started', { listeners: config.listeners.map((l) => `${l.protocol}:${l.endpointId}->${l.addr}`) });
  }

  /** Go-away on every listener, let in-flight requests finish (within the grace period), then close. */
  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    const { config, logger } = this.parts;
    const log = logger.child('main');
    log.info('shutting down', { 'in-flight': this.activeStreams() });
    await Promise.all(this.#running.map((r) => r.listener.drain(config.gracePeriodMs, () => r.closeIdle())));
    for (const r of this.#running) r.close();
    await this.#metricsServer?.stop();
    this.#tls.close();
    this.#tokens.close();
    log.info('shutdown complete');
  }

  #startListener(lc: ListenerConfig, index: number, metricsSink: AccessLogSink | undefined): RunningListener {
    const { config, logger, clock } = this.parts;
    const connectTls = this.#connectTls;
    const listener = new UpstreamListener({
      url: config.connect.url,
      endpointId: lc.endpointId,
      tokens: this.#tokens,
      dial: {
        handshakeTimeoutMs: config.connect.timeoutMs,
        ...(connectTls !== undefined && { tls: () => connectTls.current }),
        ...(config.connect.tenantId !== '' && { headers: { 'x-piko-tenant-id': config.connect.tenantId } }),
      },
      clock,
      log: logger.child('client'),
    });
    if (lc.protocol === 'http') {
      const accessLog = combineSinks(createAccessLogSink(lc.accessLog, logger.child('proxy.http.access')), metricsSink);
      const tls = clientTlsFor(lc.tls, `listeners[${index}].tls`, lc.addr, { clock, log: logger.child('tls'), group: this.#tls });
      const service = new HttpServiceForwarder(
        { target: lc.addr, timeoutMs: lc.timeoutMs, endpointId: lc.endpointId, maxHeaderBytes: lc.maxHeaderBytes, ...(tls !== undefined && { tls }) },
        clock,
        accessLog,
        logger.child('proxy.http'),
      );
      listener.on('stream', (stream: MuxStream) => service.handle(stream));
      return { listener, requestsInFlight: () => service.requestsInFlight, closeIdle: () => service.closeIdleStreams(), close: () => service.close() };
    }
    const service = new TcpServiceForwarder({ addr: lc.addr, timeoutMs: lc.timeoutMs, endpointId: lc.endpointId }, logger.child('proxy.tcp'));
    listener.on('stream', (stream: MuxStream) => service.handle(stream));
    return { listener, closeIdle: () => {}, close: () => service.close() };
  }
}
