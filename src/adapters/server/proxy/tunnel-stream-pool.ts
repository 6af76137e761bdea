import type { Duplex } from 'node:stream';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import { UpstreamGoneError, type UpstreamConnection } from '../../../application/ports/upstream-transport.port.js';
import { IDLE_STREAM_TIMEOUT_MS } from './stream-agent.js';

/** Most idle streams kept per upstream connection; a stream released beyond it is closed. */
export const MAX_IDLE_STREAMS = 256;

/**
 * What the exchange using a pooled stream hears of it. Called on the event loop, from the stream's own events;
 * never while the stream is idle in the pool.
 */
export interface TunnelStreamUser {
  /** Bytes from the agent. */
  onData(chunk: Buffer): void;
  /** The agent ended its side (no more bytes will come). */
  onEnd(): void;
  /** The stream is gone: destroyed with `err`, or closed (`undefined`). Called once. */
  onGone(err: Error | undefined): void;
}

/**
 * One tunnel stream with the listeners it keeps for its whole life, handing its events to the exchange that
 * holds it (`user`), or handling them itself while idle (any event then drops it from the pool). Mutated only on
 * the event loop, by its pool and the exchange holding it.
 */
export class PooledStream {
  /** The exchange holding the stream; undefined while idle. */
  user?: TunnelStreamUser;
  /** The stream carried an earlier exchange: a reset on it may be a stale keep-alive. */
  reused = false;
  /** Clock time at which it went idle. */
  idleSince = 0;
  /** Destroyed, closed or ended: never handed out again. */
  dead = false;

  constructor(
    readonly stream: Duplex,
    private readonly pool: TunnelStreamPool,
  ) {
    stream.on('data', (chunk: Buffer) => {
      if (this.user !== undefined) this.user.onData(chunk);
      else this.pool.dropIdle(this, true); // bytes nobody asked for: the stream is out of step
    });
    stream.on('end', () => {
      if (this.user !== undefined) this.user.onEnd();
      else this.pool.dropIdle(this, false);
    });
    stream.on('error', (err: Error) => this.gone(err));
    stream.on('close', () => this.gone(undefined));
  }

  private gone(err: Error | undefined): void {
    if (this.dead && this.user === undefined) return;
    this.dead = true;
    const user = this.user;
    this.user = undefined;
    if (user !== undefined) user.onGone(err);
    else this.pool.dropIdle(this, true);
  }
}

/**
 * The idle tunnel streams of one upstream connection, reused by the server's pass-through for later requests
 * (Piko opens a stream per request, its §15 #13). Last in, first out, at most {@link MAX_IDLE_STREAMS}; a stream
 * idle for {@link IDLE_STREAM_TIMEOUT_MS} is ended. Once the connection stops accepting (go-away or close), idle
 * streams are ended at once and busy ones when their exchange ends, so that they do not hold up its drain, as
 * `UpstreamStreamAgent` does for the general path.
 */
export class TunnelStreamPool {
  /** Mutated only on the event loop; the most recently released stream is last. */
  private readonly idle: PooledStream[] = [];
  private cancelSweep?: Cancel;

  constructor(
    private readonly upstream: UpstreamConnection,
    private readonly clock: Clock,
    private readonly maxIdle = MAX_IDLE_STREAMS,
    private readonly idleTimeoutMs = IDLE_STREAM_TIMEOUT_MS,
  ) {
    upstream.onStopAccepting(() => {
      for (const s of this.idle.splice(0)) close(s);
      this.cancelSweep?.();
      this.cancelSweep = undefined;
    });
  }

  /** Streams idle now. */
  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * A stream for one exchange: the most recently idle one, else a new one.
   * @throws UpstreamGoneError when no stream can be opened (the connection has gone away): nothing was sent.
   */
  acquire(user: TunnelStreamUser): PooledStream {
    const idle = this.idle.pop();
    if (idle !== undefined) {
      idle.user = user;
      return idle;
    }
    let stream: Duplex;
    try {
      stream = this.upstream.openStream();
    } catch (err) {
      throw err instanceof UpstreamGoneError ? err : new UpstreamGoneError(String(err));
    }
    const pooled = new PooledStream(stream, this);
    pooled.user = user;
    return pooled;
  }

  /** Takes back a stream whose exchange ended cleanly (both messages complete, neither side asked to close). */
  release(pooled: PooledStream): void {
    pooled.user = undefined;
    if (pooled.dead) return;
    if (!this.upstream.accepting || this.idle.length >= this.maxIdle) {
      close(pooled);
      return;
    }
    pooled.reused = true;
    pooled.idleSince = this.clock.now();
    pooled.stream.resume();
    this.idle.push(pooled);
    if (this.cancelSweep === undefined) this.armSweep(this.idleTimeoutMs);
  }

  /** Removes an idle stream that ended, closed or misbehaved; `destroy` resets it rather than ending it. */
  dropIdle(pooled: PooledStream, destroy: boolean): void {
    const at = this.idle.indexOf(pooled);
    if (at >= 0) this.idle.splice(at, 1);
    pooled.dead = true;
    if (destroy) pooled.stream.destroy();
    else if (!pooled.stream.writableEnded) pooled.stream.end();
  }

  private armSweep(delayMs: number): void {
    this.cancelSweep = this.clock.schedule(delayMs, () => {
      this.cancelSweep = undefined;
      const limit = this.clock.now() - this.idleTimeoutMs;
      // Oldest first: the list is in release order.
      while (this.idle.length > 0 && this.idle[0]!.idleSince <= limit) close(this.idle.shift()!);
      const oldest = this.idle[0];
      if (oldest !== undefined) this.armSweep(oldest.idleSince + this.idleTimeoutMs - this.clock.now());
    });
  }
}

/** Ends a stream nobody will use again: the agent's relay sees the end and closes its side. */
function close(pooled: PooledStream): void {
  pooled.dead = true;
  if (!pooled.stream.writableEnded) pooled.stream.end();
}
