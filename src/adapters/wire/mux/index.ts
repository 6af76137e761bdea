/**
 * The yamux multiplexer: a session over one byte transport carrying many independent streams, wire-compatible
 * with HashiCorp yamux as Piko uses it.
 *
 * @packageDocumentation
 */
export { encodeFrame, encodeHeader, FrameDecoder, writeHeader, type FrameDecoderOptions } from './codec.js';
export {
  MuxGoAwayError,
  MuxProtocolError,
  MuxSessionClosedError,
  MuxStreamLimitError,
  MuxStreamResetError,
  MuxTimeoutError,
  type MuxProtocolErrorReason,
  type MuxTimeoutKind,
} from './errors.js';
export {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  MAX_UINT32,
  PROTOCOL_VERSION,
  SESSION_STREAM_ID,
  type DataFrame,
  type Frame,
  type FrameHeader,
  type GoAwayFrame,
  type PingFrame,
  type WindowUpdateFrame,
} from './frame.js';
export { MuxSession, type MuxSessionEvents, type MuxSessionOptions } from './session.js';
export { MuxStream } from './stream.js';
export type { MuxStreamState } from './stream-state.js';
