import { HttpFramingError, headerTokens, headerValue, type HeaderField, type RequestHead, type ResponseHead } from './http1-head.js';

/**
 * How a message body ends (RFC 9112 §6.3): no body, a known length, chunked, or (responses only) the close
 * of the connection.
 */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

/** What follows a response head: a body framed so, an interim (1xx) response, or a switch of protocols (101). */
export type ResponseFraming = BodyFraming | { readonly kind: 'interim' } | { readonly kind: 'switch' };

const NONE: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const CLOSE: BodyFraming = { kind: 'close' };

/**
 * The framing of a request body. Refused with a 400, as a request smuggling attempt or an unframeable body:
 * `Transfer-Encoding` together with `Content-Length`, a transfer coding other than a final `chunked`, and a
 * `Content-Length` that is not one decimal number (repeats must agree).
 */
export function requestFraming(head: RequestHead): BodyFraming {
  const codings = headerTokens(head.headers, 'transfer-encoding');
  const length = headerValue(head.headers, 'content-length');
  if (codings.length > 0 || headerValue(head.headers, 'transfer-encoding') !== undefined) {
    if (length !== undefined) throw new HttpFramingError(400, 'request has both Transfer-Encoding and Content-Length');
    if (codings.length !== 1 || codings[0] !== 'chunked') {
      throw new HttpFramingError(400, `unsupported request Transfer-Encoding: ${codings.join(', ') || '(empty)'}`);
    }
    return CHUNKED;
  }
  if (length === undefined) return NONE;
  const n = contentLength(length, 400);
  return n === 0 ? NONE : { kind: 'length', length: n };
}

/**
 * The framing of a response body to a request with `method` (RFC 9112 §6.3): none after HEAD and for 204 and
 * 304; interim for 1xx other than 101; a switch for 101 when `upgradeAsked`; chunked; a length; else the close
 * of the connection. A 101 nobody asked for, both framing headers together, or a bad `Content-Length` is a
 * broken service (502).
 */
export function responseFraming(head: ResponseHead, method: string, upgradeAsked: boolean): ResponseFraming {
  const { status } = head;
  if (status === 101) {
    if (!upgradeAsked) throw new HttpFramingError(502, 'the service switched protocols on a request that asked for no upgrade');
    return { kind: 'switch' };
  }
  if (status < 200) return { kind: 'interim' };
  if (method === 'HEAD' || status === 204 || status === 304) return NONE;
  const codings = headerTokens(head.headers, 'transfer-encoding');
  const length = headerValue(head.headers, 'content-length');
  if (codings.length > 0) {
    if (length !== undefined) throw new HttpFramingError(502, 'the service sent both Transfer-Encoding and Content-Length');
    return codings[codings.length - 1] === 'chunked' ? CHUNKED : CLOSE;
  }
  if (length === undefined) return CLOSE;
  const n = contentLength(length, 502);
  return n === 0 ? NONE : { kind: 'length', length: n };
}

/** True when the message asks for its connection to be closed after it (`Connection: close`, or HTTP/1.0 without keep-alive). */
export function wantsClose(version: string, headers: readonly HeaderField[]): boolean {
  const tokens = headerTokens(headers, 'connection');
  if (tokens.includes('close')) return true;
  return version === '1.0' && !tokens.includes('keep-alive');
}

function contentLength(value: string, status: 400 | 502): number {
  const parts = value.split(',').map((p) => p.trim());
  const first = parts[0] ?? '';
  if (!/^[0-9]{1,15}$/.test(first) || parts.some((p) => p !== first)) {
    throw new HttpFramingError(status, `invalid Content-Length: ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(first);
}

const CR = 0x0d;
const LF = 0x0a;
/** Longest chunk-size line (size and extensions) and longest trailer section accepted. */
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILERS = 64 * 1024;

const enum State {
  Size,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  Done,
}

/**
 * Follows one message body through the bytes that carry it, without copying them: `feed` says how much of a
 * chunk belongs to the body, so the caller relays exactly that and keeps the rest for the next message. Counts
 * the payload (chunk data, not chunk framing) for the access log.
 */
export class BodyTracker {
  /** Payload bytes seen so far. */
  payload = 0;
  private state: State;
  private remaining = 0;
  private size = 0;
  private digits = 0;
  private inExtension = false;
  /** Whitespace followed the size digits: only more whitespace, `;` or the CR may come. */
  private afterSize = false;
  private lineBytes = 0;
  private trailerBytes = 0;
  private lineEmpty = true;

  constructor(
    private readonly framing: BodyFraming,
    /** The status refusals carry: 400 for a request body, 502 for a response body. */
    private readonly errorStatus: 400 | 502,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.state = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0) ? State.Done : framing.kind === 'chunked' ? State.Size : State.Data;
  }

  /** The body ends with the connection (a response without Content-Length or a final `chunked`). */
  get closeDelimited(): boolean {
    return this.framing.kind === 'close';
  }

  /** The body has ended (never, for a close-delimited body: its end is the connection's). */
  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Consumes body bytes of `chunk` from `start`; returns the index just past the last one (== `start` when the
   * body was already done). `onPayload`, when given, is called with each run `[from, to)` of payload bytes (chunk
   * data without its framing), so that a reader can decode a chunked body without copying it.
   * @throws HttpFramingError on broken chunked framing.
   */
  feed(chunk: Buffer, start: number, onPayload?: (from: number, to: number) => void): number {
    const { framing } = this;
    if (this.state === State.Done) return start;
    if (framing.kind === 'close') {
      this.payload += chunk.length - start;
      if (onPayload !== undefined && chunk.length > start) onPayload(start, chunk.length);
      return chunk.length;
    }
    if (framing.kind === 'length') {
      const take = Math.min(this.remaining, chunk.length - start);
      this.remaining -= take;
      this.payload += take;
      if (this.remaining === 0) this.state = State.Done;
      if (onPayload !== undefined && take > 0) onPayload(start, start + take);
      return start + take;
    }
    return this.feedChunked(chunk, start, onPayload);
  }

  private feedChunked(chunk: Buffer, start: number, onPayload: ((from: number, to: number) => void) | undefined): number {
    let i = start;
    while (i < chunk.length && this.state !== State.Done) {
      if (this.state === State.Data) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        this.payload += take;
        if (onPayload !== undefined && take > 0) onPayload(i, i + take);
        i += take;
        if (this.remaining === 0) this.state = State.DataCr;
        continue;
      }
      const byte = chunk[i++]!;
      switch (this.state) {
        case State.Size:
          this.sizeByte(byte);
          break;
        case State.SizeLf:
          if (byte !== LF) this.fail('chunk size line not ended by CRLF');
          this.endSizeLine();
          break;
        case State.DataCr:
          if (byte !== CR) this.fail('chunk data not followed by CRLF');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (byte !== LF) this.fail('chunk data not followed by CRLF');
          this.state = State.Size;
          break;
        case State.Trailer:
          this.trailerByte(byte);
          break;
      }
    }
    return i;
  }

  private sizeByte(byte: number): void {
    if (++this.lineBytes > MAX_CHUNK_LINE) this.fail(`chunk size line longer than ${MAX_CHUNK_LINE} bytes`);
    if (byte === CR) {
      if (this.digits === 0) this.fail('chunk size missing');
      this.state = State.SizeLf;
      return;
    }
    if (this.inExtension) {
      if (byte === LF || byte === 0) this.fail('bare LF or NUL in a chunk extension');
      return;
    }
    const digit = hexValue(byte);
    if (digit >= 0 && !this.afterSize) {
      if (++this.digits > 13) this.fail('chunk size too large');
      this.size = this.size * 16 + digit;
      return;
    }
    // Whitespace after the size may only lead to an extension or the CRLF (RFC 9112 §7.1.1): `3 3` is no size.
    if (byte === 0x3b && this.digits > 0) {
      this.inExtension = true;
      return;
    }
    if ((byte === 0x20 || byte === 0x09) && this.digits > 0) {
      this.afterSize = true;
      return;
    }
    this.fail(`invalid byte 0x${byte.toString(16).padStart(2, '0')} in a chunk size`);
  }

  private endSizeLine(): void {
    const size = this.size;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.inExtension = false;
    this.afterSize = false;
    if (size === 0) {
      this.state = State.Trailer;
      this.lineEmpty = true;
      return;
    }
    this.remaining = size;
    this.state = State.Data;
  }

  private trailerByte(byte: number): void {
    if (++this.trailerBytes > MAX_TRAILERS) this.fail(`trailers longer than ${MAX_TRAILERS} bytes`);
    if (byte === LF) {
      if (this.lineBytes === 0 || this.lastWasCr !== true) this.fail('trailer line not ended by CRLF');
      if (this.lineEmpty) this.state = State.Done;
      this.lineEmpty = true;
      this.lineBytes = 0;
      this.lastWasCr = false;
      return;
    }
    if (this.lastWasCr === true) this.fail('bare CR in a trailer');
    this.lineBytes++;
    if (byte === CR) {
      this.lastWasCr = true;
      return;
    }
    if (byte === 0) this.fail('NUL in a trailer');
    this.lineEmpty = false;
  }

  private lastWasCr = false;

  private fail(reason: string): never {
    throw new HttpFramingError(this.errorStatus, `broken chunked body: ${reason}`);
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}
