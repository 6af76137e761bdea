import { EventEmitter } from 'node:events';
import type { Cancel, Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { DEFAULT_BACKOFF, nextBackoff, type BackoffPolicy } from '../../application/services/backoff.js';
import { MuxSession, type MuxStream } from '../wire/mux/index.js';
import { DialError, dialWebSocket, upstreamUrl, type DialOptions } from './ws-upstream-dialer.js';
import { wsMuxTransport } from '../wire/ws-mux-transport.js';
import { refreshLeadMs, staticToken, tokenExpiry, type TokenSource } from './token-source.js';

/** Options of an upstream listener. */
export interface UpstreamListenerOptions {
  /** The server's upstream port URL (http, https, ws or wss; a base path is kept). */
  readonly url: string;
  readonly endpointId: string;
  /** A fixed token; ignored when `tokens` is given. */
  readonly token?: string;
  /** Where the token comes from when it changes (a token file, an SDK provider); asked at every connection. */
  readonly tokens?: TokenSource;
  /** TLS and handshake options of the WebSocket dial. */
  readonly dial?: DialOptions;
  readonly clock: Clock;
  /** Wall-clock Unix milliseconds, to compare with a token's `exp` (default `Date.now`). */
  readonly wallClock?: () => number;
  readonly log: Logger;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveTimeoutMs?: number;
}

/** The longest single wait on the clock; a later refresh is reached in steps (Node timers overflow past ~24.8 days). */
const MAX_WAIT_STEP_MS = 24 * 60 * 60 * 1000;
/** How often a retired connection is checked for streams still running. */
const RETIRE_POLL_MS = 100;
/** Longest a retired connection is kept for its streams when its token has no expiry. */
const RETIRE_TIMEOUT_MS = 60_000;
/** What `#wait` resolves with when a fresh token is to be presented. */
const REFRESH = 'refresh';

/**
 * Keeps one registration of an endpoint on the server: dials the upstream port, runs the yamux session, and
 * emits `'stream'` for every stream the server opens. After any disconnect it did not cause it reconnects,
 * forever, with capped, jittered backoff; a server going away (go-away) triggers a new connection at once
 * while the old session finishes its streams. A 4xx refusal such as 401/403 is final: `'fatal'` is emitted
 * with the server's reason and nothing more is tried.
 *
 * Token refresh (Piko has none, its §15 #6): when the token source has a new token, or shortly before the token
 * in use expires (see `refreshLeadMs`), a new connection is registered with the fresh token first, and only then
 * is go-away sent on the old one, whose requests in flight finish there: no request is dropped. A refused refresh
 * keeps the old connection (until the server ends it at the old token's expiry).
 *
 * Events: `'stream'` (MuxStream), `'connected'`, `'refreshed'`, `'disconnected'` (reason), `'fatal'` (DialError).
 */
export class UpstreamListener extends EventEmitter {
  private readonly sessions = new Set<MuxSession>();
  private readonly tokens: TokenSource;
  private stopped = false;
  private cancelSleep?: Cancel;
  private wake?: (why: string) => void;
  private connectedOnce = false;
  /** A fresh token is wanted: set by the token source, the expiry timer or a failed refresh's retry. */
  private refreshWanted = false;
  private refreshTimer?: Cancel;
  private warnedNoFreshToken = false;

  constructor(private readonly options: UpstreamListenerOptions) {
    super();
    this.tokens = options.tokens ?? staticToken(options.token ?? '');
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
   * Stops taking new streams: sends go-away so the server routes new traffic elsewhere at once, waits until the
   * server has read it (requests it routed here just before are still served) and the streams in flight have
   * finished (at most `deadlineMs`), then closes the sessions. `onTick` runs while waiting, for the owner to close
   * streams that are open but idle (kept for reuse).
   */
  async drain(deadlineMs = Number.POSITIVE_INFINITY, onTick?: () => void): Promise<void> {
    this.stop();
    for (const s of this.sessions) if (!s.closed) s.goAway(0);
    const { clock } = this.options;
    const until = clock.now() + deadlineMs;
    const unseen = (): boolean => [...this.sessions].some((s) => !s.closed && !s.goAwaySeen);
    while ((this.activeStreams > 0 || unseen()) && clock.now() < until) {
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

  /** Asks for a new connection with the token source's current token (the old one is retired once it is up). */
  refresh(): void {
    if (this.stopped) return;
    this.refreshWanted = true;
    this.wake?.(REFRESH);
  }

  private stop(): void {
    this.stopped = true;
    this.cancelSleep?.();
    this.refreshTimer?.();
    this.wake?.('stopped');
  }

  private async run(): Promise<void> {
    const { url, endpointId, log } = this.options;
    const random = this.options.random ?? Math.random;
    const policy = this.options.backoff ?? DEFAULT_BACKOFF;
    const target = upstreamUrl(url, endpointId);
    const unsubscribe = this.tokens.onChange(() => this.refresh());
    let live: { readonly session: MuxSession; readonly token: string } | undefined;
    let delay: number | undefined;
    while (!this.stopped) {
      if (live === undefined || this.refreshWanted) {
        this.refreshWanted = false;
        // A token source that fails (an SDK token function that threw) counts as a failed, retryable attempt.
        const token = await this.tokens.current().catch((err: unknown) => new DialError(`no token: ${err instanceof Error ? err.message : String(err)}`, true));
        const dialed = typeof token === 'string' ? await this.dial(target, token) : token;
        if (this.stopped) {
          if (dialed instanceof MuxSession) dialed.close();
          break;
        }
        if (dialed instanceof MuxSession) {
          delay = undefined;
          const previous = live;
          live = { session: dialed, token: token as string };
          this.adopt(dialed);
          log.info(previous === undefined ? 'connected' : 'token refreshed: registered a new connection', {
            'endpoint-id': endpointId,
            url: target,
            reconnect: this.connectedOnce,
          });
          this.connectedOnce = true;
          this.emit('connected');
          if (previous !== undefined) {
            this.retire(previous.session, previous.token);
            this.emit('refreshed');
          }
          this.armRefresh(live.token);
        } else if (live !== undefined && !live.session.closed) {
          // A refresh that failed: the current connection keeps serving; a retryable failure is tried again.
          delay = nextBackoff(delay, policy, random);
          log.warn('token refresh failed; keeping the current connection', {
            'endpoint-id': endpointId,
            error: dialed.message,
            ...(dialed.retryable ? { 'retry-ms': Math.round(delay) } : {}),
          });
          if (dialed.retryable) this.refreshTimer = this.options.clock.schedule(delay, () => this.refresh());
        } else if (!dialed.retryable) {
          log.error('connect refused; not retrying', { 'endpoint-id': endpointId, error: dialed.message });
          this.stopped = true;
          this.emit('fatal', dialed);
          break;
        } else {
          live = undefined;
          delay = nextBackoff(delay, policy, random);
          log.warn('connect failed; retrying', { 'endpoint-id': endpointId, error: dialed.message, 'backoff-ms': Math.round(delay) });
          await this.sleep(delay);
          continue;
        }
      }
      const reason = await this.waitOn(live.session);
      if (this.stopped) break;
      if (reason === REFRESH) continue;
      live = undefined;
      log.warn('disconnected; reconnecting', { 'endpoint-id': endpointId, reason });
      this.emit('disconnected', reason);
      delay = nextBackoff(undefined, policy, random);
      await this.sleep(delay);
    }
    unsubscribe();
    this.refreshTimer?.();
  }

  /** Opens a connection with `token`: its session, or the reason it failed. */
  private async dial(target: string, token: string): Promise<MuxSession | DialError> {
    const { clock } = this.options;
    try {
      const ws = await dialWebSocket(target, { ...(this.options.dial ?? {}), ...(token ? { token } : {}) });
      const transport = wsMuxTransport(ws, (error) => session.close(error));
      const session: MuxSession = new MuxSession(transport, {
        role: 'client',
        clock,
        ...(this.options.keepaliveIntervalMs !== undefined ? { keepAliveIntervalMs: this.options.keepaliveIntervalMs } : {}),
        ...(this.options.keepaliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: this.options.keepaliveTimeoutMs } : {}),
      });
      return session;
    } catch (err) {
      return err instanceof DialError ? err : new DialError(String(err), true);
    }
  }

  private adopt(session: MuxSession): void {
    this.sessions.add(session);
    session.on('stream', (stream: MuxStream) => this.emit('stream', stream));
    session.once('close', () => this.sessions.delete(session));
  }

  /** Resolves when `session` ends, the server sends go-away, a refresh is wanted, or the listener stops. */
  private waitOn(session: MuxSession): Promise<string> {
    return new Promise<string>((resolve) => {
      const onClose = (err?: Error): void => done(err?.message ?? 'connection closed');
      const onGoAway = (): void => done('server sent go-away');
      const done = (why: string): void => {
        session.off('close', onClose);
        session.off('goaway', onGoAway);
        if (this.wake === done) this.wake = undefined;
        resolve(why);
      };
      if (this.refreshWanted) return done(REFRESH);
      if (session.closed) return done('connection closed');
      session.once('close', onClose);
      session.once('goaway', onGoAway);
      this.wake = done;
    });
  }

  /**
   * Sends go-away on a replaced connection (the server stops routing to it at once) and closes it once the server
   * has read the go-away and the streams have finished, or when its token expires (the server would close it
   * then), at most {@link RETIRE_TIMEOUT_MS} without an expiry.
   */
  private retire(session: MuxSession, token: string): void {
    const { clock } = this.options;
    const wall = this.options.wallClock ?? Date.now;
    session.goAway(0);
    const expiry = tokenExpiry(token);
    const until = clock.now() + (expiry === undefined ? RETIRE_TIMEOUT_MS : Math.max(0, expiry - wall()));
    const check = (): void => {
      if (session.closed) return;
      if ((session.goAwaySeen && session.streamCount === 0) || clock.now() >= until) session.close();
      else clock.schedule(RETIRE_POLL_MS, check);
    };
    check();
  }

  /**
   * Schedules the refresh of `token` a little before it expires. Then, if the source has a newer token, it is
   * presented on a new connection; if not, a warning says when the server will close the connection.
   */
  private armRefresh(token: string): void {
    this.refreshTimer?.();
    this.refreshTimer = undefined;
    const expiry = tokenExpiry(token);
    if (expiry === undefined) return;
    const wall = this.options.wallClock ?? Date.now;
    const at = expiry - refreshLeadMs(expiry - wall());
    const step = (): void => {
      const left = at - wall();
      if (left > 0) {
        this.refreshTimer = this.options.clock.schedule(Math.min(left, MAX_WAIT_STEP_MS), step);
        return;
      }
      void this.tokens.current().then((fresh) => {
        if (this.stopped) return;
        if (fresh !== token) {
          this.warnedNoFreshToken = false;
          this.refresh();
        } else if (!this.warnedNoFreshToken) {
          this.warnedNoFreshToken = true;
          this.options.log.warn('token expires soon and no newer token is available; the server will close the connection at expiry', {
            'endpoint-id': this.options.endpointId,
            'expires-in-ms': Math.max(0, Math.round(expiry - wall())),
          });
        }
      }, (err: unknown) => {
        this.options.log.warn('token source failed; the server will close the connection at expiry', {
          'endpoint-id': this.options.endpointId,
          error: err instanceof Error ? err.message : String(err),
        });
      });
    };
    step();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.wake === done) this.wake = undefined;
        this.cancelSleep?.();
        resolve();
      };
      this.wake = done;
      this.cancelSleep = this.options.clock.schedule(ms, done);
    });
  }
}
