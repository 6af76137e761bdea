import { GoAwayCode } from './frame.js';

/**
 * Why the peer's bytes broke the yamux protocol. The session answers every reason with a go-away carrying
 * {@link GoAwayCode.ProtocolError} and closes.
 */
export type MuxProtocolErrorReason =
  /** The header's version byte is not 0. */
  | 'invalid-version'
  /** The header's type byte is not one of the four frame types. */
  | 'invalid-type'
  /** A data frame is larger than the largest payload we accept. */
  | 'frame-too-large'
  /** A data frame carries more bytes than the stream's receive window allows. */
  | 'window-exceeded'
  /** A SYN names stream 0 (the session) or uses the ID parity of our own role. */
  | 'invalid-stream-id'
  /** A SYN names a stream that is open (IDs of closed streams may be used again, in any order). */
  | 'duplicate-stream'
  /**
   * The peer does not read what it makes us send: more control frames (ping replies, RSTs refusing its SYNs) wait
   * for the transport than `maxQueuedControlFrames` allows.
   */
  | 'control-queue-full';

/** The peer sent bytes that violate the protocol. The session sends go-away (protocol error) and closes with this. */
export class MuxProtocolError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_PROTOCOL' as const;
  /** What was wrong. */
  readonly reason: MuxProtocolErrorReason;
  /** The go-away code to send for this error (always protocol error). */
  readonly goAwayCode: number = GoAwayCode.ProtocolError;

  constructor(reason: MuxProtocolErrorReason, message: string) {
    super(`yamux protocol error (${reason}): ${message}`);
    this.name = 'MuxProtocolError';
    this.reason = reason;
  }
}

/**
 * The session is closed (or closed while the operation was pending). Streams destroyed because their session
 * ended carry this error, with the session's own error, if any, as `cause`.
 */
export class MuxSessionClosedError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_SESSION_CLOSED' as const;

  constructor(message = 'yamux session closed', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MuxSessionClosedError';
  }
}

/**
 * The peer sent go-away. With code 0 (normal) only new streams are refused (`openStream()` throws this); with an
 * error code the session closes with this error.
 */
export class MuxGoAwayError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_GO_AWAY' as const;
  /** The go-away code the peer sent. */
  readonly goAwayCode: number;

  constructor(goAwayCode: number, message?: string) {
    super(message ?? `yamux peer sent go-away (code ${goAwayCode})`);
    this.name = 'MuxGoAwayError';
    this.goAwayCode = goAwayCode;
  }
}

/** The peer reset the stream (RST), or refused to open it. */
export class MuxStreamResetError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_STREAM_RESET' as const;
  /** The stream that was reset. */
  readonly streamId: number;

  constructor(streamId: number, message?: string) {
    super(message ?? `yamux stream ${streamId} reset by peer`);
    this.name = 'MuxStreamResetError';
    this.streamId = streamId;
  }
}

/** No stream can be opened: the concurrent stream limit is reached, or the stream IDs are exhausted. */
export class MuxStreamLimitError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_STREAM_LIMIT' as const;
  /** The limit that was hit. */
  readonly limit: number;

  constructor(limit: number, message?: string) {
    super(message ?? `yamux stream limit reached (${limit} concurrent streams)`);
    this.name = 'MuxStreamLimitError';
    this.limit = limit;
  }
}

/** Which deadline a {@link MuxTimeoutError} reports. */
export type MuxTimeoutKind =
  /** A keepalive ping was not answered within `keepAliveTimeoutMs` (the session closes). */
  | 'keepalive'
  /** The peer did not ACK a stream we opened within `streamOpenTimeoutMs` (the session closes, as in yamux). */
  | 'stream-open'
  /** We half-closed a stream and the peer did not half-close within `streamCloseTimeoutMs` (the stream is reset). */
  | 'stream-close';

/** A protocol deadline passed. */
export class MuxTimeoutError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_MUX_TIMEOUT' as const;
  /** Which deadline passed. */
  readonly kind: MuxTimeoutKind;

  constructor(kind: MuxTimeoutKind, timeoutMs: number) {
    super(`yamux ${kind} timeout after ${timeoutMs} ms`);
    this.name = 'MuxTimeoutError';
    this.kind = kind;
  }
}
