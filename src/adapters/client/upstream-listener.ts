import { EventEmitter } from 'node:events';
import type { Cancel, Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { DEFAULT_BACKOFF, nextBackoff, type BackoffPolicy } from '../../application/services/backoff.js';
import { MuxSession, type MuxStream } from '../wire/mux/index.js';
import { DialError, dialWebSocket, upstreamUrl, type DialOptions } from './ws-upstream-dialer.js';
import { wsMuxTransport } from '../wire/ws-mux-transport.js';

/** Options of an upstream listener. */
export interface UpstreamListenerOptions {
  /** The server's upstream port URL (http, https, ws or wss; a base path is kept). */
  readonly url: string;
  readonly endpointId: string;
  readonly token?: string;
  /** TLS and handshake options of the WebSocket dial. */
  readonly dial?: DialOptions;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveTimeoutMs?: number;
}

/**
 * Keeps one registration of an endpoint on the server: dials the upstream port, runs the yamux session, and
 * emits `'stream'` for every stream the server opens. After any disconnect it did not cause it reconnects,
 * forever, with capped, jittered backoff; a server going away (go-away) triggers a new connection at once
 * while the old session finishes its streams. A 4xx refusal such as 401/403 is final: `'fatal'` is emitted
 * with the server's reason and nothing more is tried.
 *
 * Events: `'stream'` (MuxStream), `'connected'`, `'disconnected'` (reason), `'fatal'` (DialError).
 */
export class UpstreamListener extends EventEmitter {
  private readonly sessions = new Set<MuxSession>();
  private stopped = false;
  private cancelSleep?: Cancel;
  private wake?: () => void;
  private connectedOnce = false;

  constructor(private readonly options: UpstreamListenerOptions) {
    super();
  }

  /** Starts connecting; resolves once the first connection is up, rejects on a fatal refusal. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => {
      this.once('connected', () => resolve());
      this.once('fatal', reject);
    });
    void this.run();
    return first;
  }

  /** Streams in flight on all sessions. */
  get activeStreams(): number {
    let n = 0;
    for (const s of this.sessions) n += s.streamCount;
    return n;
  }

  /**
   * Stops taking new streams: sends go-away so the server routes new traffic elsewhere at once, waits for the
   * streams in flight to finish (at most `deadlineMs`), then closes the sessions. `onTick` runs while waiting,
   * for the owner to close streams that are open but idle (kept for reuse).
   */
  async drain(deadlineMs = Number.POSITIVE_INFINITY, onTick?: () => void): Promise<void> {
    this.stop();
    for (const s of this.sessions) if (!s.closed) s.goAway(0);
    const { clock } = this.options;
    const until = clock.now() + deadlineMs;
    while (this.activeStreams > 0 && clock.now() < until) {
      onTick?.();
      await new Promise<void>((resolve) => clock.schedule(Math.max(1, Math.min(50, until - clock.now())), resolve));
    }
    this.shutdown();
  }

  /** Closes every session at once and stops reconnecting. */
  shutdown(): void {
    this.stop();
    for (const s of [...this.sessions]) s.close();
  }

  private stop(): void {
    this.stopped = true;
    this.cancelSleep?.();
    this.wake?.();
  }

  private async run(): Promise<void> {
    const { url, endpointId, token, clock, log } = this.options;
    const random = this.options.random ?? Math.random;
    const policy = this.options.backoff ?? DEFAULT_BACKOFF;
    const target = upstreamUrl(url, endpointId);
    let delay: number | undefined;
    while (!this.stopped) {
      let session: MuxSession;
      try {
        const ws = await dialWebSocket(target, { ...(this.options.dial ?? {}), ...(token ? { token } : {}) });
        if (this.stopped) {
          ws.terminate();
          return;
        }
        const transport = wsMuxTransport(ws, (error) => session.close(error));
        session = new MuxSession(transport, {
          role: 'client',
          clock,
          ...(this.options.keepaliveIntervalMs !== undefined ? { keepAliveIntervalMs: this.options.keepaliveIntervalMs } : {}),
          ...(this.options.keepaliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: this.options.keepaliveTimeoutMs } : {}),
        });
      } catch (err) {
        const e = err instanceof DialError ? err : new DialError(String(err), true);
        if (!e.retryable) {
          log.error('connect refused; not retrying', { 'endpoint-id': endpointId, error: e.message });
          this.stopped = true;
          this.emit('fatal', e);
          return;
        }
        delay = nextBackoff(delay, policy, random);
        log.warn('connect failed; retrying', { 'endpoint-id': endpointId, error: e.message, 'backoff-ms': Math.round(delay) });
        await this.sleep(delay);
        continue;
      }
      delay = undefined;
      this.sessions.add(session);
      session.on('stream', (stream: MuxStream) => this.emit('stream', stream));
      session.once('close', () => this.sessions.delete(session));
      log.info('connected', { 'endpoint-id': endpointId, url: target, reconnect: this.connectedOnce });
      this.connectedOnce = true;
      this.emit('connected');
      const reason = await new Promise<string>((resolve) => {
        session.once('close', (err?: Error) => resolve(err?.message ?? 'connection closed'));
        session.once('goaway', () => resolve('server sent go-away'));
        this.wake = () => resolve('stopped');
      });
      this.wake = undefined;
      if (this.stopped) return;
      log.warn('disconnected; reconnecting', { 'endpoint-id': endpointId, reason });
      this.emit('disconnected', reason);
      delay = nextBackoff(undefined, policy, random);
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.cancelSleep = this.options.clock.schedule(ms, resolve);
    });
  }
}
