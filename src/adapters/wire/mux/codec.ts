import { MuxProtocolError } from './errors.js';
import {
  FrameType,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  PROTOCOL_VERSION,
  type Frame,
  type FrameHeader,
} from './frame.js';

/**
 * Writes a 12-byte yamux header into `target` at `offset`. This is the allocation-free form used on the hot path
 * (a data frame's header is written in front of its payload in one buffer).
 *
 * `flags` must fit in 16 bits and `streamId` and `length` in 32 bits; callers inside the mux guarantee it.
 */
export function writeHeader(
  target: Buffer,
  offset: number,
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
): void {
  target[offset] = PROTOCOL_VERSION;
  target[offset + 1] = type;
  target.writeUInt16BE(flags, offset + 2);
  target.writeUInt32BE(streamId, offset + 4);
  target.writeUInt32BE(length, offset + 8);
}

/** Encodes a frame header into a new 12-byte buffer (for a data frame, the payload follows separately). */
export function encodeHeader(header: FrameHeader): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH);
  writeHeader(out, 0, header.type, header.flags, header.streamId, header.length);
  return out;
}

/**
 * Encodes a whole frame (header, then the payload of a data frame) into one new buffer. For a data frame,
 * `header.length` must equal `payload.length`.
 */
export function encodeFrame(header: FrameHeader, payload?: Uint8Array): Buffer {
  const payloadLength = header.type === FrameType.Data ? (payload?.length ?? 0) : 0;
  if (header.type === FrameType.Data && header.length !== payloadLength) {
    throw new RangeError(`data frame length ${header.length} does not match payload length ${payloadLength}`);
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payloadLength);
  writeHeader(out, 0, header.type, header.flags, header.streamId, header.length);
  if (payloadLength > 0 && payload !== undefined) {
    out.set(payload, HEADER_LENGTH);
  }
  return out;
}

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest data payload accepted; a larger data frame is a `frame-too-large` protocol error. Defaults to the
   * initial stream window (256 KiB): a peer may send a whole window in one frame, and never more.
   */
  maxDataPayload?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Incremental yamux frame decoder: feed it transport chunks of any size with {@link FrameDecoder.push} and it
 * yields each complete frame once.
 *
 * - A header or payload split across chunks is gathered once (headers into a 12-byte scratch buffer, payloads
 *   into one buffer of the exact size), so the work stays linear in the input.
 * - A payload that lies wholly inside one chunk is returned as a `subarray` view of that chunk, without copying.
 * - Malformed input (bad version or type, oversized data frame) throws a {@link MuxProtocolError}; no other
 *   exception escapes. After an error the decoder's state is undefined: stop using it (the session closes).
 *
 * State is owned by the caller and mutated only inside `push`.
 */
export class FrameDecoder {
  readonly #maxDataPayload: number;
  /** Gathers a header split across chunks; made on the first split header (most sessions never see one). */
  #headerScratch: Buffer | undefined;
  /** Bytes of a split header gathered in `#headerScratch`. */
  #headerFill = 0;
  /** True while the payload of the current data frame is still expected. */
  #inPayload = false;
  #flags = 0;
  #streamId = 0;
  #length = 0;
  /** Gathers a payload split across chunks. */
  #payload: Buffer | undefined;
  #payloadFill = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxDataPayload = options.maxDataPayload ?? INITIAL_STREAM_WINDOW;
  }

  /** Bytes of an incomplete frame currently held, waiting for more input. */
  get bufferedBytes(): number {
    return this.#headerFill + this.#payloadFill + (this.#inPayload ? HEADER_LENGTH : 0);
  }

  /**
   * Consumes `chunk` and yields every frame it completes, in order. Frames hold no reference to the decoder's
   * internals; a data payload may be a view of `chunk`, so the caller must not reuse `chunk`'s memory.
   *
   * @throws MuxProtocolError on a bad version, an unknown type, or a data frame above the payload limit.
   */
  *push(chunk: Uint8Array): Generator<Frame, void, undefined> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const end = buf.length;
    let off = 0;
    while (true) {
      if (!this.#inPayload) {
        let header: Buffer;
        let at: number;
        if (this.#headerFill === 0 && end - off >= HEADER_LENGTH) {
          header = buf;
          at = off;
          off += HEADER_LENGTH;
        } else {
          const take = Math.min(HEADER_LENGTH - this.#headerFill, end - off);
          if (take <= 0) return;
          const scratch = (this.#headerScratch ??= Buffer.allocUnsafe(HEADER_LENGTH));
          buf.copy(scratch, this.#headerFill, off, off + take);
          this.#headerFill += take;
          off += take;
          if (this.#headerFill < HEADER_LENGTH) return;
          this.#headerFill = 0;
          header = scratch;
          at = 0;
        }
        const version = header[at]!;
        if (version !== PROTOCOL_VERSION) {
          throw new MuxProtocolError('invalid-version', `unsupported version ${version}`);
        }
        const type = header[at + 1]!;
        if (type > FrameType.GoAway) {
          throw new MuxProtocolError('invalid-type', `unknown frame type ${type}`);
        }
        const flags = header.readUInt16BE(at + 2);
        const streamId = header.readUInt32BE(at + 4);
        const length = header.readUInt32BE(at + 8);
        if (type !== FrameType.Data) {
          yield { type: type as Exclude<FrameType, 0>, flags, streamId, length, payload: undefined };
          continue;
        }
        if (length > this.#maxDataPayload) {
          throw new MuxProtocolError(
            'frame-too-large',
            `data frame of ${length} bytes exceeds the limit of ${this.#maxDataPayload}`,
          );
        }
        if (length === 0) {
          yield { type: FrameType.Data, flags, streamId, length, payload: EMPTY };
          continue;
        }
        this.#flags = flags;
        this.#streamId = streamId;
        this.#length = length;
        this.#inPayload = true;
      }

      const length = this.#length;
      let payload: Buffer;
      if (this.#payload === undefined && end - off >= length) {
        payload = buf.subarray(off, off + length);
        off += length;
      } else {
        if (off >= end) return;
        if (this.#payload === undefined) {
          this.#payload = Buffer.allocUnsafe(length);
          this.#payloadFill = 0;
        }
        const take = Math.min(length - this.#payloadFill, end - off);
        buf.copy(this.#payload, this.#payloadFill, off, off + take);
        this.#payloadFill += take;
        off += take;
        if (this.#payloadFill < length) return;
        payload = this.#payload;
        this.#payload = undefined;
        this.#payloadFill = 0;
      }
      this.#inPayload = false;
      yield { type: FrameType.Data, flags: this.#flags, streamId: this.#streamId, length, payload };
    }
  }
}
