import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import { MuxTimeoutError } from './errors.js';
import { Flag } from './frame.js';

interface PendingPing {
  readonly start: number;
  readonly resolve: (rttMs: number) => void;
  readonly reject: (error: Error) => void;
}

/** The keepalive settings of {@link Pings}. */
export interface PingsOptions {
  readonly clock: Clock;
  /** Interval between keepalive pings in ms; 0 sends none. */
  readonly intervalMs: number;
  /** How long a keepalive ping may wait for its ACK; 0 waits forever. */
  readonly timeoutMs: number;
}

/** What {@link Pings} needs of its session (the session itself: no closures kept per session). */
export interface PingsHooks {
  /** Sends a ping frame with `flags` (SYN to ask, ACK to answer) and the opaque value. */
  _muxSendPing(flags: number, opaque: number): void;
  /** A keepalive ping was not answered in time: the session must close with `error`. */
  _muxPingTimedOut(error: MuxTimeoutError): void;
}

/**
 * The pings of a session: the application's `ping()` round trips, the keepalive (a ping every `intervalMs`,
 * the session closed when one waits longer than `timeoutMs` for its ACK) and the answers to the peer's pings.
 * Pings are told apart by their opaque value, a counter.
 */
export class Pings {
  readonly #options: PingsOptions;
  readonly #hooks: PingsHooks;
  readonly #pending = new Map<number, PendingPing>();
  #nextId = 0;
  #intervalCancel: Cancel | undefined;
  #timeoutCancel: Cancel | undefined;
  #stopped = false;

  constructor(options: PingsOptions, hooks: PingsHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#scheduleKeepAlive();
  }

  /** Sends a ping; resolves with the round-trip time in ms (on the session clock) when its ACK arrives. */
  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#send({ start: this.#options.clock.now(), resolve, reject });
    });
  }

  /** A ping frame from the peer: a SYN is answered with the same opaque value, an ACK ends our ping. */
  onFrame(flags: number, opaque: number): void {
    if (flags & Flag.SYN) {
      this.#hooks._muxSendPing(Flag.ACK, opaque);
      return;
    }
    if (flags & Flag.ACK) {
      const pending = this.#pending.get(opaque);
      if (pending === undefined) return;
      this.#pending.delete(opaque);
      pending.resolve(this.#options.clock.now() - pending.start);
    }
  }

  /** The session ended: stops the keepalive and rejects every waiting ping with `error`. */
  stop(error: Error): void {
    this.#stopped = true;
    this.#intervalCancel?.();
    this.#timeoutCancel?.();
    this.#intervalCancel = this.#timeoutCancel = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const ping of pending) ping.reject(error);
  }

  #send(pending: PendingPing): void {
    const id = this.#nextId;
    this.#nextId = (id + 1) >>> 0;
    this.#pending.set(id, pending);
    this.#hooks._muxSendPing(Flag.SYN, id);
  }

  #scheduleKeepAlive(): void {
    if (this.#options.intervalMs > 0 && !this.#stopped) {
      this.#intervalCancel = this.#options.clock.schedule(this.#options.intervalMs, this.#onKeepAlive);
    }
  }

  readonly #onKeepAlive = (): void => {
    this.#intervalCancel = undefined;
    if (this.#stopped) return;
    const { clock, timeoutMs } = this.#options;
    const id = this.#nextId;
    // Arm the timeout first: a transport may deliver the ACK synchronously, inside our write.
    if (timeoutMs > 0) {
      this.#timeoutCancel = clock.schedule(timeoutMs, () => {
        this.#timeoutCancel = undefined;
        this.#pending.delete(id);
        this.#hooks._muxPingTimedOut(new MuxTimeoutError('keepalive', timeoutMs));
      });
    }
    this.#send({ start: clock.now(), resolve: this.#onKeepAliveAck, reject: noop });
  };

  readonly #onKeepAliveAck = (): void => {
    this.#timeoutCancel?.();
    this.#timeoutCancel = undefined;
    this.#scheduleKeepAlive();
  };
}

function noop(): void {}
