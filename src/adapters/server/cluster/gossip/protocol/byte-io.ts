import { GossipCodecError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Byte length of `s` in UTF-8, or -1 when `s` holds a lone surrogate (it has no UTF-8 form; `TextEncoder` would
 * silently replace it, so such strings are refused instead).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return -1;
      n += 4;
      i += 1;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

/**
 * Reads big-endian fields from one datagram. Every read checks the bounds and throws a {@link GossipCodecError}
 * (`truncated`, `invalid-utf8`, `invalid-field`), never anything else.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  /** Reads `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, field: string): void {
    if (this.#end - this.#pos < n) throw new GossipCodecError('truncated', `datagram ends inside ${field}`);
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#view.getUint8(this.#pos++);
  }

  u16(field: string): number {
    this.#need(2, field);
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** A string prefixed by a one-byte length, of `minBytes` to `maxBytes` UTF-8 bytes. */
  str8(field: string, minBytes: number, maxBytes: number): string {
    const len = this.u8(`${field} length`);
    if (len < minBytes || len > maxBytes) {
      throw new GossipCodecError('invalid-field', `${field} is ${len} bytes (allowed ${minBytes} to ${maxBytes})`);
    }
    this.#need(len, field);
    const slice = this.#bytes.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    try {
      return decoder.decode(slice);
    } catch {
      throw new GossipCodecError('invalid-utf8', `${field} is not valid UTF-8`);
    }
  }

  /** Throws `trailing-bytes` unless everything was read. */
  expectEnd(): void {
    if (this.#pos !== this.#end) {
      throw new GossipCodecError('trailing-bytes', `${this.#end - this.#pos} bytes after the last field`);
    }
  }
}

/**
 * Writes big-endian fields into a buffer of a size computed beforehand. Values are checked (range, UTF-8
 * form, length) and a violation throws `invalid-field`/`invalid-utf8`: the message cannot be encoded.
 */
export class ByteWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get position(): number {
    return this.#pos;
  }

  u8(v: number, field: string): void {
    checkUint(v, 0xff, field);
    this.#view.setUint8(this.#pos++, v);
  }

  u16(v: number, field: string): void {
    checkUint(v, 0xffff, field);
    this.#view.setUint16(this.#pos, v);
    this.#pos += 2;
  }

  u32(v: number, field: string): void {
    checkUint(v, 0xffffffff, field);
    this.#view.setUint32(this.#pos, v);
    this.#pos += 4;
  }

  /** A string prefixed by a one-byte length, checked against `minBytes`..`maxBytes`. */
  str8(s: string, field: string, minBytes: number, maxBytes: number): void {
    const len = checkedUtf8Length(s, field, minBytes, maxBytes);
    this.u8(len, `${field} length`);
    const { written } = encoder.encodeInto(s, this.#bytes.subarray(this.#pos, this.#pos + len));
    if (written !== len) throw new GossipCodecError('invalid-field', `${field} did not fit its computed length`);
    this.#pos += len;
  }

  raw(bytes: Uint8Array): void {
    this.#bytes.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** The written bytes (the whole buffer when the size was computed exactly). */
  finish(): Uint8Array {
    return this.#pos === this.#bytes.length ? this.#bytes : this.#bytes.subarray(0, this.#pos);
  }
}

/** UTF-8 length of `s`, checked to be well-formed and within `minBytes`..`maxBytes`. */
export function checkedUtf8Length(s: string, field: string, minBytes: number, maxBytes: number): number {
  const len = utf8Length(s);
  if (len < 0) throw new GossipCodecError('invalid-utf8', `${field} holds a lone surrogate`);
  if (len < minBytes || len > maxBytes) {
    throw new GossipCodecError('invalid-field', `${field} is ${len} bytes (allowed ${minBytes} to ${maxBytes})`);
  }
  return len;
}

function checkUint(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new GossipCodecError('invalid-field', `${field} must be an integer in 0..${max} (got ${v})`);
  }
}
