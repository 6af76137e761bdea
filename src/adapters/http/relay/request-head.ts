import { HttpFramingError } from './http1-head.js';

/**
 * HTTP/1.1 request heads and chunked body framing written from parsed values, for the server's pass-through
 * that sends a request on a tunnel stream without node:http's ClientRequest. Pure: no I/O, no time. The values
 * come from Node's parser (already validated); they are checked again here, because a CR or LF in a value would
 * let one request be read as two by the next hop.
 */

/** Header values as Node presents them on an incoming message: a list for a header sent more than once. */
export type OutgoingHeaderRecord = Readonly<Record<string, string | readonly string[] | number | undefined>>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
/** A request target the URL parser would leave as it is: a plain path and an optional plain query. */
const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-_.~!$&()*+,;=:@/]*(?:\?[A-Za-z0-9\-_.~!$&()*+,;=:@/?%]+)?$/;
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The request line and headers of a request to `target` (origin form), ending with the blank line, as latin1
 * bytes (each char one byte, as Node writes header strings). A header given as a list is written as one line per
 * value, in order; undefined values are skipped.
 * @throws HttpFramingError 400 for a method or header name that is no token, or a target or value holding a CR,
 *   LF or NUL: such a head cannot be written without changing what the next hop reads.
 */
export function serializeRequestHead(method: string, target: string, headers: OutgoingHeaderRecord): Buffer {
  if (!TOKEN.test(method)) throw new HttpFramingError(400, `invalid method: ${JSON.stringify(method.slice(0, 32))}`);
  if (!/^[\x21-\x7e]+$/.test(target)) throw new HttpFramingError(400, 'request target holds a control character or whitespace');
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw new HttpFramingError(400, `invalid header name: ${JSON.stringify(name.slice(0, 64))}`);
    if (typeof value === 'object') {
      for (const v of value) head += headerLine(name, v);
    } else {
      head += headerLine(name, String(value));
    }
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/**
 * The origin-form target the server sends for an incoming request target `url`, exactly as the general path
 * (http-proxy-3 with target `http://tunnel`) computes it: the path and query of the URL as the WHATWG URL parser
 * reads it (dot segments resolved, an absolute form reduced to its path), an empty query dropped. A plain path
 * is returned as it is without parsing.
 */
export function outgoingTarget(url: string): string {
  if (PLAIN_TARGET.test(url) && !url.includes('/.')) return url;
  let path = url;
  if (url !== '' && !url.startsWith('?')) {
    const u = new URL(url.startsWith('//') ? `http://base.invalid${url}` : url, 'http://base.invalid');
    path = `${u.pathname}${u.search}`;
  }
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? '' : path.slice(q + 1);
  const joined = pathname.startsWith('/') ? pathname : `/${pathname}`;
  return query.length > 0 ? `${joined}?${query}` : joined;
}

/** The chunk-size line of a chunk of `length` bytes (`length` > 0): hex size and CRLF. */
export function chunkHeader(length: number): Buffer {
  return Buffer.from(`${length.toString(16)}\r\n`, 'latin1');
}

/** The CRLF that ends a chunk's data. */
export function chunkTrailer(): Buffer {
  return CRLF;
}

/** The last chunk and the empty trailer section that end a chunked body. */
export function lastChunk(): Buffer {
  return LAST_CHUNK;
}

function headerLine(name: string, value: string): string {
  if (BAD_VALUE.test(value)) throw new HttpFramingError(400, `header ${name} holds a CR, LF or NUL`);
  return `${name}: ${value}\r\n`;
}
