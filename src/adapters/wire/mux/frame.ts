/**
 * Frame vocabulary of the yamux multiplexing protocol (HashiCorp yamux `spec.md`), as used by Piko between a
 * server and its agents. Types and constants only: encoding lives in `codec.ts`.
 *
 * Every frame starts with a 12-byte header; all fields are big-endian:
 *
 * ```
 * version (u8) | type (u8) | flags (u16) | stream ID (u32) | length (u32)
 * ```
 *
 * @packageDocumentation
 */

/** The version field "is always set to 0, to indicate the initial version". Other values are a protocol error. */
export const PROTOCOL_VERSION = 0;

/** "Each header has a 12 byte overhead." */
export const HEADER_LENGTH = 12;

/**
 * The initial per-stream window: "Yamux initially starts each stream with a 256KB window size", and both sides
 * assume it until a window update says otherwise. Piko configures the maximum window to the same value, so the
 * window never grows.
 */
export const INITIAL_STREAM_WINDOW = 256 * 1024;

/** The largest value a 32-bit header field (stream ID, length) can hold. */
export const MAX_UINT32 = 0xffff_ffff;

/** The message type of a frame (the header's type field). */
export const FrameType = {
  /** "Used to transmit data. May transmit zero length payloads depending on the flags." Followed by `length` bytes. */
  Data: 0,
  /** "Used to update the sender's receive window size." `length` is the window delta; there is no payload. */
  WindowUpdate: 1,
  /** "Used to measure RTT. It can also be used to heart-beat and do keep-alives." `length` is an opaque value, echoed back. */
  Ping: 2,
  /** "Used to close a session." `length` is a {@link GoAwayCode}; the stream ID is 0. */
  GoAway: 3,
} as const;

/** One of the {@link FrameType} values. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Bits of the header's flags field. Several may be set at once. */
export const Flag = {
  /** "Signals the start of a new stream", on a data or window update frame; on a ping it marks a request. */
  SYN: 0x1,
  /** "Acknowledges the start of a new stream", on a data or window update frame; on a ping it marks the response. */
  ACK: 0x2,
  /** "Performs a half-close of a stream": the sender will send no further data. */
  FIN: 0x4,
  /** "Reset a stream immediately." Also used to reject a stream opened with SYN. */
  RST: 0x8,
} as const;

/** One of the {@link Flag} bits. */
export type Flag = (typeof Flag)[keyof typeof Flag];

/** Error codes carried in the length field of a go-away frame. */
export const GoAwayCode = {
  /** Normal termination: the sender accepts no new streams; existing streams carry on. */
  Normal: 0,
  /** The sender saw a protocol error and is closing the session. */
  ProtocolError: 1,
  /** The sender hit an internal error and is closing the session. */
  InternalError: 2,
} as const;

/** One of the {@link GoAwayCode} values (a peer may send others; treat them as errors). */
export type GoAwayCode = (typeof GoAwayCode)[keyof typeof GoAwayCode];

/** "Session" stream ID: ping and go-away frames use stream 0; no data stream may use it. */
export const SESSION_STREAM_ID = 0;

/** The decoded fields of a frame header (the version is checked by the decoder and not kept). */
export interface FrameHeader {
  /** The message type. */
  readonly type: FrameType;
  /** A bit set of {@link Flag} values. */
  readonly flags: number;
  /** The logical stream the frame addresses; 0 for ping and go-away. */
  readonly streamId: number;
  /** Payload length (data), window delta (window update), opaque value (ping) or error code (go-away). */
  readonly length: number;
}

/** A data frame: `length` payload bytes follow the header. */
export interface DataFrame extends FrameHeader {
  readonly type: typeof FrameType.Data;
  /** Exactly `length` bytes. It may be a view into the decoder's input chunk: do not mutate it. */
  readonly payload: Buffer;
}

/** A window update frame: `length` is the number of bytes added to the receiver's send window. */
export interface WindowUpdateFrame extends FrameHeader {
  readonly type: typeof FrameType.WindowUpdate;
  readonly payload: undefined;
}

/** A ping frame: SYN asks for a reply, ACK is the reply; `length` is the opaque value echoed back. */
export interface PingFrame extends FrameHeader {
  readonly type: typeof FrameType.Ping;
  readonly payload: undefined;
}

/** A go-away frame: `length` is the {@link GoAwayCode}. */
export interface GoAwayFrame extends FrameHeader {
  readonly type: typeof FrameType.GoAway;
  readonly payload: undefined;
}

/** Any frame, discriminated by `type`. */
export type Frame = DataFrame | WindowUpdateFrame | PingFrame | GoAwayFrame;
