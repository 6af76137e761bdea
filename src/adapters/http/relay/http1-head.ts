/**
 * HTTP/1.1 message heads (RFC 9112 §2–§5) read from raw bytes, for the agent's relay that passes requests and
 * responses through without rebuilding them. Pure: no I/O, no time. Strict where a lax reading would let two
 * hops disagree on where a message ends (bare CR or LF, obs-fold, a header name that is no token, whitespace
 * before the colon): such a head is refused with the status a proxy answers (400 from the server side, 502 when
 * the service sent it), never guessed at.
 */

/** Why a message head or body framing was refused; `status` is what the relay answers with. */
export class HttpFramingError extends Error {
  constructor(
    readonly status: 400 | 431 | 502,
    message: string,
  ) {
    super(message);
    this.name = 'HttpFramingError';
  }
}

/** One header line as it came: the name lower-cased, the value without surrounding whitespace. */
export type HeaderField = readonly [name: string, value: string];

/** A request line and its headers. */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** `1.1` or `1.0`. */
  readonly version: string;
  readonly headers: readonly HeaderField[];
}

/** A status line and its headers. */
export interface ResponseHead {
  readonly version: string;
  readonly status: number;
  /** The reason phrase as sent (latin1), empty when there was none. */
  readonly reason?: string;
  readonly headers: readonly HeaderField[];
}

/** Largest response head accepted from the next hop (the service, or the agent), status line and headers. */
export const MAX_RESPONSE_HEAD = 1024 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const BAD_VALUE = /[\0\r\n]/;

/**
 * The length of the head at the start of `buf` (through its blank line), or -1 while it is incomplete. `from`
 * is where to resume the search (the previous length less 3, so a CRLFCRLF split across reads is found).
 * @throws HttpFramingError 431 (`tooLargeStatus`) when no head end lies within `limit` bytes.
 */
export function headLength(buf: Buffer, limit: number, from = 0, tooLargeStatus: 431 | 502 = 431): number {
  const at = buf.indexOf(CRLFCRLF, Math.max(0, from));
  if (at >= 0 && at + 4 <= limit) return at + 4;
  if (at >= 0 || buf.length > limit) {
    const what = tooLargeStatus === 431 ? 'request header fields too large' : 'response head too large';
    throw new HttpFramingError(tooLargeStatus, `${what}: over ${limit} bytes`);
  }
  return -1;
}

/** Parses the request head `buf[0, length)` (a value {@link headLength} returned). */
export function parseRequestHead(buf: Buffer, length: number): RequestHead {
  const lines = headLines(buf, length, 400);
  const match = REQUEST_LINE.exec(lines[0] ?? '');
  if (match === null) throw new HttpFramingError(400, `malformed request line: ${quote(lines[0] ?? '')}`);
  return { method: match[1]!, target: match[2]!, version: `1.${match[3]!}`, headers: headerFields(lines, 400) };
}

/** Parses the response head `buf[0, length)` (a value {@link headLength} returned). */
export function parseResponseHead(buf: Buffer, length: number): ResponseHead {
  const lines = headLines(buf, length, 502);
  const match = STATUS_LINE.exec(lines[0] ?? '');
  if (match === null) throw new HttpFramingError(502, `malformed status line from the service: ${quote(lines[0] ?? '')}`);
  return { version: `1.${match[1]!}`, status: Number(match[2]), reason: match[3] ?? '', headers: headerFields(lines, 502) };
}

/** Every value of header `name` (lower case), joined as one list with `, ` (RFC 9110 §5.3); undefined if absent. */
export function headerValue(headers: readonly HeaderField[], name: string): string | undefined {
  let out: string | undefined;
  for (const [n, v] of headers) if (n === name) out = out === undefined ? v : `${out}, ${v}`;
  return out;
}

/** The comma-separated tokens of header `name`, lower case, empty ones dropped. */
export function headerTokens(headers: readonly HeaderField[], name: string): string[] {
  const value = headerValue(headers, name);
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token.length > 0) out.push(token);
  }
  return out;
}

/**
 * The headers as Node presents them on a message (`IncomingHttpHeaders`): repeated headers joined with `, `,
 * `set-cookie` kept as a list. Built only for the access log.
 */
export function headerRecord(headers: readonly HeaderField[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const seen = out[name];
    if (name === 'set-cookie') out[name] = Array.isArray(seen) ? [...seen, value] : [value];
    else out[name] = seen === undefined ? value : `${String(seen)}, ${value}`;
  }
  return out;
}

function headLines(buf: Buffer, length: number, status: 400 | 502): string[] {
  // latin1 maps every byte to one char, so no byte sequence is lost or merged before the checks below.
  const lines = buf.toString('latin1', 0, length - 4).split('\r\n');
  if (lines.length > 1 + 1000) throw new HttpFramingError(status, `more than 1000 header lines`);
  return lines;
}

function headerFields(lines: readonly string[], status: 400 | 502): HeaderField[] {
  const fields: HeaderField[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpFramingError(status, `malformed header line: ${quote(line)}`);
    const name = line.slice(0, colon);
    // Also refuses obs-fold (a line starting with whitespace) and whitespace before the colon (RFC 9112 §5.1).
    if (!TOKEN.test(name)) throw new HttpFramingError(status, `invalid header name: ${quote(name)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (BAD_VALUE.test(value)) throw new HttpFramingError(status, `header ${name} holds a bare CR, LF or NUL`);
    fields.push([name.toLowerCase(), value]);
  }
  return fields;
}

/** A fragment of untrusted input, printable and short, for an error message. */
function quote(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return JSON.stringify(shown);
}
