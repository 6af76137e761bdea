import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import { HttpServiceForwarder } from '../adapters/client/agent/http-service-forwarder.js';
import { TcpServiceForwarder } from '../adapters/client/agent/tcp-service-forwarder.js';
import { SystemClock } from '../adapters/platform/clock/system-clock.js';
import type { AgentConfig, ListenerConfig } from '../adapters/platform/config/types.js';
import { createAccessLogSink } from '../adapters/http/access-log-sink.js';
import { createWinstonLogger } from '../adapters/platform/logging/winston-logger.adapter.js';
import { agentInFlightHook, agentMetricsSink, combineSinks, type InFlightSource } from '../adapters/client/agent/agent-metrics.js';
import { startAdminServer, type AdminServer } from '../adapters/server/admin/admin-server.js';
import { parseHostPort } from '../adapters/platform/config/addresses.js';
import type { AccessLogSink } from '../adapters/http/access-entry.js';
import { PromMetrics } from '../adapters/platform/metrics/prom-metrics.adapter.js';
import type { MuxStream } from '../adapters/wire/mux/index.js';
import { UpstreamListener } from '../adapters/client/upstream-listener.js';

/** A running agent. */
export interface AgentProcess {
  /** Resolves with the fatal error that ended a listener (e.g. a 401), if one does. */
  readonly fatal: Promise<Error>;
  /** Requests/connections in flight on all listeners. */
  activeStreams(): number;
  /** Go-away on every listener, let in-flight requests finish (within the grace period), then close. */
  stop(): Promise<void>;
}

/** Test seams. */
export interface AgentOverrides {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

interface RunningListener {
  readonly listener: UpstreamListener;
  /** HTTP requests being served (undefined for TCP listeners, which have no request metrics). */
  readonly requestsInFlight?: () => number;
  /** Closes streams that carry no request (HTTP keeps streams open for reuse). */
  closeIdle(): void;
  close(): void;
}

function startListener(config: AgentConfig, lc: ListenerConfig, clock: Clock, logger: Logger, metricsSink?: AccessLogSink): RunningListener {
  const listener = new UpstreamListener({
    url: config.connect.url,
    endpointId: lc.endpointId,
    ...(config.connect.token ? { token: config.connect.token } : {}),
    dial: { handshakeTimeoutMs: config.connect.timeoutMs },
    clock,
    log: logger.child('client'),
  });
  if (lc.protocol === 'http') {
    const accessLog = combineSinks(createAccessLogSink(lc.accessLog, logger.child('proxy.http.access')), metricsSink);
    const service = new HttpServiceForwarder(
      { target: lc.addr, timeoutMs: lc.timeoutMs, endpointId: lc.endpointId, maxHeaderBytes: lc.maxHeaderBytes },
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

/**
 * Starts every listener of `config` and waits until each has connected once. Failed attempts are retried
 * forever with backoff (each logged), unless `connect.startup_deadline` is set: then the agent fails when a
 * listener has not connected within it. A listener refused for good (401/403...) makes the agent fail with
 * the reason.
 */
export async function startAgent(config: AgentConfig, overrides: AgentOverrides = {}): Promise<AgentProcess> {
  const clock = overrides.clock ?? new SystemClock();
  const logger = overrides.logger ?? createWinstonLogger({ level: config.log.level, subsystems: config.log.subsystems });
  const log = logger.child('main');
  // The metrics port is opt-in: an agent opens no listening port unless asked (Piko's :5000 blocked a second agent).
  let metricsServer: AdminServer | undefined;
  let metricsSink: AccessLogSink | undefined;
  const inFlightSources: InFlightSource[] = [];
  if (config.server.enabled) {
    const metrics = new PromMetrics({ collectDefaultMetrics: true });
    metricsSink = agentMetricsSink(metrics);
    metrics.beforeCollect(agentInFlightHook(metrics, inFlightSources));
    const hp = parseHostPort(config.server.bindAddr);
    metricsServer = await startAdminServer(
      (req, res) => {
        if (req.method === 'GET' && req.url === '/metrics') {
          void metrics.text().then((body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body));
        } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
      },
      hp?.host ?? '',
      hp?.port ?? 5000,
    );
    log.info('metrics server started', { addr: `${metricsServer.address.host}:${metricsServer.address.port}` });
  }
  const running = config.listeners.map((lc) => startListener(config, lc, clock, logger, metricsSink));
  running.forEach((r, i) => {
    if (r.requestsInFlight !== undefined) inFlightSources.push({ endpointId: config.listeners[i]?.endpointId ?? '', requestsInFlight: r.requestsInFlight });
  });
  let reportFatal: (e: Error) => void = () => {};
  const fatal = new Promise<Error>((resolve) => (reportFatal = resolve));
  const connected = running.map((r, i) => {
    r.listener.on('fatal', (err: Error) => reportFatal(new Error(`listener ${config.listeners[i]?.endpointId}: ${err.message}`)));
    return r.listener.start();
  });
  const stopAll = (): void => {
    for (const r of running) {
      r.listener.shutdown();
      r.close();
    }
  };
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
    stopAll();
    await metricsServer?.stop();
    throw err;
  } finally {
    timeout?.();
  }
  log.info('agent started', { listeners: config.listeners.map((l) => `${l.protocol}:${l.endpointId}->${l.addr}`) });

  let stopping: Promise<void> | undefined;
  return {
    fatal,
    activeStreams: () => running.reduce((n, r) => n + r.listener.activeStreams, 0),
    stop: () =>
      (stopping ??= (async () => {
        log.info('shutting down', { 'in-flight': running.reduce((n, r) => n + r.listener.activeStreams, 0) });
        await Promise.all(running.map((r) => r.listener.drain(config.gracePeriodMs, () => r.closeIdle())));
        for (const r of running) r.close();
        await metricsServer?.stop();
        log.info('shutdown complete');
      })()),
  };
}
