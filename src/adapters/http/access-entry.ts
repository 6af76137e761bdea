import type { AccessLogRequest } from './access-log.js';

/**
 * What is known of one proxied request when it ends: the access log's request record with every optional fact
 * present. The access log formats and filters it; the agent's metrics count it.
 */
export type AccessEntry = AccessLogRequest & {
  readonly endpointId: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly clientIp: string;
};

/** Receives one entry per finished request. */
export type AccessLogSink = (entry: AccessEntry) => void;

/** The body bytes of one request and its response, counted as they pass. */
export interface BodyByteCount {
  /** Request body bytes received (after de-chunking), whether or not anything read them. */
  readonly bytesIn: number;
  /** Response body bytes handed to the response (before chunked framing), headers excluded. */
  readonly bytesOut: number;
}

/** The request side of {@link countBodyBytes}: a readable that Node's parser feeds through `push`. */
interface PushedBody {
  push(chunk: unknown, encoding?: BufferEncoding): boolean;
}

/** The response side of {@link countBodyBytes}: anything with `write` and `end` like `ServerResponse`. */
interface WrittenBody {
  write(...args: any[]): boolean;
  end(...args: any[]): unknown;
}

/**
 * Starts counting the body bytes of one exchange, so that the server's and the agent's access logs (and
 * metrics) report the same thing: body bytes, never header bytes, in both directions. The request side counts
 * what the HTTP parser pushes, so it neither consumes the body nor switches it to flowing mode (the body may be
 * piped later, after routing); the response side counts what is written through `write` and `end`.
 */
export function countBodyBytes(req: PushedBody, res: WrittenBody): BodyByteCount {
  const count = { bytesIn: 0, bytesOut: 0 };
  const push = req.push;
  req.push = function countedPush(this: PushedBody, chunk: unknown, encoding?: BufferEncoding): boolean {
    count.bytesIn += byteLength(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
  const write = res.write;
  res.write = function countedWrite(this: WrittenBody, chunk: unknown, ...rest: unknown[]): boolean {
    count.bytesOut += byteLength(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    return write.call(this, chunk, ...rest);
  };
  const end = res.end;
  res.end = function countedEnd(this: WrittenBody, chunk?: unknown, ...rest: unknown[]): unknown {
    if (typeof chunk !== 'function') count.bytesOut += byteLength(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    return end.call(this, chunk, ...rest);
  };
  return count;
}

function byteLength(chunk: unknown, encoding: BufferEncoding | undefined): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** The address the server saw a request come from: the last entry of X-Forwarded-For, which it appended. */
export function lastForwardedFor(value: string | readonly string[] | undefined): string {
  const text = typeof value === 'string' ? value : (value ?? []).join(',');
  return text.slice(text.lastIndexOf(',') + 1).trim();
}
