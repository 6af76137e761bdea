import type { Clock } from '../../../application/ports/clock.port.js';
import { INITIAL_STREAM_WINDOW, MAX_UINT32 } from './frame.js';

/** Options of a {@link MuxSession}. */
export interface MuxSessionOptions {
  /**
   * Our yamux role. The `'server'` opens even stream IDs from 2, the `'client'` odd IDs from 1. In Piko the
   * server (the proxy) opens streams and the client (the agent) accepts them, but both directions work.
   */
  role: 'client' | 'server';
  /** Time source for keepalive and stream timers. */
  clock: Clock;
  /**
   * Per-stream receive window in bytes (the maximum window; yamux starts every stream at 256 KiB and a larger
   * value is granted with the SYN or ACK). Default 262144 (256 KiB), Piko's setting, where every stream starts;
   * see `windowCap` for how it grows. Values below 256 KiB are rejected, since the peer may always send 256 KiB.
   */
  initialWindow?: number;
  /**
   * Largest receive window a stream grows to while its reader keeps up (see `ReceiveWindowTuner`; Piko's never
   * grows); equal to `initialWindow` keeps windows fixed. Also the largest data frame accepted. Default: 2 MiB on
   * the client side (agents, whose uploads through `forward` it sped up by 40 %), fixed on the server side, which
   * holds many connections and where growth made downloads through the tunnel slower and its RSS higher.
   */
  windowCap?: number;
  /** Receive-window bytes the session may grant beyond the streams' initial windows, all streams together. Default 16 MiB. */
  windowBudget?: number;
  /** Maximum number of concurrent streams (both directions). A SYN beyond it is answered with RST. Default 8192. */
  maxStreams?: number;
  /**
   * Inbound streams held while no `'stream'` listener is attached; a SYN beyond it is answered with RST.
   * Default 256 (yamux's accept backlog).
   */
  acceptBacklog?: number;
  /** Interval between keepalive pings in ms. Default 30000; 0 disables keepalive pings. */
  keepAliveIntervalMs?: number;
  /** How long a keepalive ping may wait for its ACK before the session closes with an error. Default 10000. */
  keepAliveTimeoutMs?: number;
  /**
   * Largest data frame payload we send. Default 65536 (64 KiB): each frame becomes one transport write (one
   * WebSocket message), so larger frames cost fewer messages, while smaller ones interleave streams more
   * fairly and let the receiver return window sooner. The limit on what we *accept* is the receive window
   * (`initialWindow`), because yamux peers send up to a whole window in one frame.
   */
  maxFramePayload?: number;
  /**
   * How long a stream we opened may wait for the peer's ACK before the session is closed with a
   * `MuxTimeoutError` (yamux's StreamOpenTimeout). Default 75000; 0 disables it.
   */
  streamOpenTimeoutMs?: number;
  /**
   * How long a stream we half-closed waits for the peer's FIN before it is reset (yamux's StreamCloseTimeout).
   * Default 300000 (5 min); 0 disables it.
   */
  streamCloseTimeoutMs?: number;
  /**
   * Most control frames that may wait for a transport under backpressure (a peer that does not read what we
   * send): ping replies, our pings, go-away, and RSTs refusing the peer's SYNs. One more closes the session with
   * a `control-queue-full` protocol error (go-away with the protocol-error code, then the transport is destroyed
   * without waiting for it to flush, since the peer is not reading). Default 1024.
   *
   * The control frames of open streams (SYN, ACK, window update, FIN, RST) do not count: while the transport is
   * blocked they are merged into at most one frame per stream, and a stream that closes while its frame waits
   * stays counted in `maxStreams` until the frame is written, so they are bounded by `maxStreams`.
   */
  maxQueuedControlFrames?: number;
}

/** A session's options with the defaults applied and checked. */
export interface SessionSettings {
  readonly clock: Clock;
  readonly isServer: boolean;
  readonly maxWindow: number;
  readonly windowCap: number;
  readonly windowBudget: number;
  readonly maxStreams: number;
  readonly acceptBacklog: number;
  readonly keepAliveIntervalMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxFramePayload: number;
  readonly streamOpenTimeoutMs: number;
  readonly streamCloseTimeoutMs: number;
  readonly maxQueuedControlFrames: number;
}

const DEFAULT_CLIENT_WINDOW_CAP = 2 * 1024 * 1024;
const DEFAULT_WINDOW_BUDGET = 16 * 1024 * 1024;
const DEFAULT_MAX_STREAMS = 8192;
const DEFAULT_ACCEPT_BACKLOG = 256;
const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_FRAME_PAYLOAD = 64 * 1024;
const DEFAULT_STREAM_OPEN_TIMEOUT_MS = 75_000;
const DEFAULT_STREAM_CLOSE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_QUEUED_CONTROL_FRAMES = 1024;

function checkNonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

/**
 * Applies the defaults documented on {@link MuxSessionOptions} and checks every value.
 *
 * @throws TypeError for an unknown role; RangeError for a value out of range, naming the option.
 */
export function resolveSessionOptions(options: MuxSessionOptions): SessionSettings {
  if (options.role !== 'client' && options.role !== 'server') {
    throw new TypeError(`role must be 'client' or 'server', got ${String(options.role)}`);
  }
  const maxWindow = options.initialWindow ?? INITIAL_STREAM_WINDOW;
  if (!Number.isInteger(maxWindow) || maxWindow < INITIAL_STREAM_WINDOW || maxWindow > MAX_UINT32) {
    throw new RangeError(`initialWindow must be an integer from ${INITIAL_STREAM_WINDOW} to ${MAX_UINT32}`);
  }
  const windowCap = options.windowCap ?? (options.role === 'client' ? Math.max(maxWindow, DEFAULT_CLIENT_WINDOW_CAP) : maxWindow);
  if (!Number.isInteger(windowCap) || windowCap < maxWindow || windowCap > MAX_UINT32) {
    throw new RangeError(`windowCap must be an integer from initialWindow (${maxWindow}) to ${MAX_UINT32}, got ${windowCap}`);
  }
  const windowBudget = checkNonNegative('windowBudget', options.windowBudget ?? DEFAULT_WINDOW_BUDGET);
  const maxStreams = checkNonNegative('maxStreams', options.maxStreams ?? DEFAULT_MAX_STREAMS);
  const acceptBacklog = checkNonNegative('acceptBacklog', options.acceptBacklog ?? DEFAULT_ACCEPT_BACKLOG);
  const keepAliveIntervalMs = checkNonNegative(
    'keepAliveIntervalMs',
    options.keepAliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
  );
  const keepAliveTimeoutMs = checkNonNegative(
    'keepAliveTimeoutMs',
    options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
  );
  const maxFramePayload = options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
  if (!Number.isInteger(maxFramePayload) || maxFramePayload < 1) {
    throw new RangeError(`maxFramePayload must be a positive integer, got ${maxFramePayload}`);
  }
  return {
    clock: options.clock,
    isServer: options.role === 'server',
    maxWindow,
    windowCap,
    windowBudget,
    maxStreams,
    acceptBacklog,
    keepAliveIntervalMs,
    keepAliveTimeoutMs,
    maxFramePayload,
    streamOpenTimeoutMs: checkNonNegative(
      'streamOpenTimeoutMs',
      options.streamOpenTimeoutMs ?? DEFAULT_STREAM_OPEN_TIMEOUT_MS,
    ),
    streamCloseTimeoutMs: checkNonNegative(
      'streamCloseTimeoutMs',
      options.streamCloseTimeoutMs ?? DEFAULT_STREAM_CLOSE_TIMEOUT_MS,
    ),
    maxQueuedControlFrames: checkNonNegative(
      'maxQueuedControlFrames',
      options.maxQueuedControlFrames ?? DEFAULT_MAX_QUEUED_CONTROL_FRAMES,
    ),
  };
}
