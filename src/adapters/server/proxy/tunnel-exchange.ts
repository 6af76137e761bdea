import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Cancel } from '../../../application/ports/clock.port.js';
import { BodyTracker, responseFraming, wantsClose, type BodyFraming } from '../../http/relay/http1-body.js';
import { HttpFramingError, MAX_RESPONSE_HEAD, headLength, parseResponseHead, type ResponseHead } from '../../http/relay/http1-head.js';
import { chunkHeader, chunkTrailer, lastChunk } from '../../http/relay/request-head.js';
import { clientConnection } from '../../http/proxy-call.js';
import { stripHopByHopResponseHeaders } from '../../http/passes/hop-by-hop.js';
import type { PooledStream, TunnelStreamPool, TunnelStreamUser } from './tunnel-stream-pool.js';

/** How one request is sent: fixed for every attempt of a call. */
export interface ExchangeRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The serialized request head. */
  readonly head: Buffer;
  /** The body is re-chunked (the client sent it chunked; Node has de-chunked it). */
  readonly chunked: boolean;
  /** Body bytes to pass on when it is framed by Content-Length (0: no body, unless chunked). */
  readonly length: number;
}

/** What an exchange tells the call that runs it. Called at most once per exchange, except `onResponse` then `onCut`. */
export interface ExchangeEvents {
  /** The request has been written in full: the header wait starts. */
  onRequestWritten(ex: TunnelExchange): void;
  /** The response head arrived and has been written to `res`. */
  onResponse(ex: TunnelExchange, status: number): void;
  /** The stream failed before any response head: `err` undefined for a close or end (a reset). */
  onFailedBeforeResponse(ex: TunnelExchange, err: Error | undefined): void;
  /** The agent's response head was refused (malformed, too large, an unasked 101). */
  onBadResponse(ex: TunnelExchange, err: HttpFramingError): void;
}

/**
 * One request and its response on one pooled tunnel stream: writes the head and streams the body (re-chunked if
 * it came chunked), reads the response head with the relay's HTTP/1.1 reader, and streams the body to the
 * client's `ServerResponse` (decoded, so Node frames it for the client), with backpressure both ways. The stream
 * goes back to its pool only after a complete exchange on which neither side asked to close; in every other case
 * it is destroyed, never reused. Mutated only on the event loop.
 */
export class TunnelExchange implements TunnelStreamUser {
  /** Set once the exchange has let go of its stream (released or destroyed): later events are ignored. */
  done = false;
  /** The stream had served an earlier exchange. */
  readonly reused: boolean;
  private readonly pooled: PooledStream;
  private bodyWritten: boolean;
  private sentBody = 0;
  private headBuf?: Buffer;
  private response?: ResponseHead;
  private body?: BodyTracker;
  /** The chunk being fed to the body tracker (for the payload callback). */
  private feeding?: Buffer;
  private resPaused = false;
  private reqPaused = false;
  cancelTimer?: Cancel;
  private readonly onReqData = (chunk: Buffer): void => this.requestData(chunk);
  private readonly onReqEnd = (): void => this.requestEnd();
  private readonly onPayload = (from: number, to: number): void => this.toClient(this.feeding!.subarray(from, to));
  private readonly onWritten = (): void => {
    if (!this.done && this.response === undefined) this.events.onRequestWritten(this);
  };

  /** @throws UpstreamGoneError when the pool can supply no stream (nothing was sent). */
  constructor(
    private readonly request: ExchangeRequest,
    private readonly pool: TunnelStreamPool,
    private readonly events: ExchangeEvents,
  ) {
    this.pooled = pool.acquire(this);
    this.reused = this.pooled.reused;
    const { stream } = this.pooled;
    this.bodyWritten = !request.chunked && request.length === 0;
    if (this.bodyWritten) {
      stream.write(request.head, this.onWritten);
      return;
    }
    stream.write(request.head);
    request.req.on('data', this.onReqData);
    request.req.once('end', this.onReqEnd);
  }

  /** Ends the exchange at once (timeout, client gone): the stream is destroyed. */
  abort(): void {
    this.finish(false);
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      if (this.response === undefined) this.readHead(chunk);
      else this.feedBody(chunk, 0);
    } catch (err) {
      if (!(err instanceof HttpFramingError)) throw err;
      if (this.response === undefined) {
        this.finish(false);
        this.events.onBadResponse(this, err);
      } else {
        this.cut();
      }
    }
  }

  onEnd(): void {
    if (this.done) return;
    if (this.response === undefined) {
      this.finish(false);
      this.events.onFailedBeforeResponse(this, undefined);
    } else if (this.body?.closeDelimited === true) {
      this.finish(false);
      this.request.res.end();
    } else {
      this.cut();
    }
  }

  onGone(err: Error | undefined): void {
    if (this.done) return;
    if (this.response === undefined) {
      this.finish(false);
      this.events.onFailedBeforeResponse(this, err);
    } else {
      this.cut();
    }
  }

  private requestData(chunk: Buffer): void {
    if (this.done) return;
    const { stream } = this.pooled;
    const { request } = this;
    let ok: boolean;
    if (request.chunked) {
      if (chunk.length === 0) return;
      stream.write(chunkHeader(chunk.length));
      stream.write(chunk);
      ok = stream.write(chunkTrailer());
    } else {
      this.sentBody += chunk.length;
      if (this.sentBody >= request.length) {
        this.bodyWritten = true;
        ok = stream.write(chunk, this.onWritten);
      } else {
        ok = stream.write(chunk);
      }
    }
    if (!ok && !this.reqPaused) {
      this.reqPaused = true;
      request.req.pause();
      stream.once('drain', () => {
        this.reqPaused = false;
        if (!this.done) request.req.resume();
      });
    }
  }

  private requestEnd(): void {
    if (this.done) return;
    if (this.request.chunked) {
      this.bodyWritten = true;
      this.pooled.stream.write(lastChunk(), this.onWritten);
    } else if (!this.bodyWritten) {
      // The body ended short of its Content-Length (Node's parser does not allow it): the agent would wait.
      this.finish(false);
      this.events.onFailedBeforeResponse(this, new Error('request body ended before its Content-Length'));
    }
  }

  private readHead(chunk: Buffer): void {
    const before = this.headBuf?.length ?? 0;
    let buf = this.headBuf === undefined ? chunk : Buffer.concat([this.headBuf, chunk]);
    let from = before - 3;
    for (;;) {
      const length = headLength(buf, MAX_RESPONSE_HEAD, from, 502);
      if (length < 0) {
        this.headBuf = buf;
        return;
      }
      this.headBuf = undefined;
      const head = parseResponseHead(buf, length);
      const framing = responseFraming(head, this.request.method, false);
      if (framing.kind === 'interim') {
        // 100 Continue, 103 Early Hints: not passed on, as on the general path.
        buf = buf.subarray(length);
        from = 0;
        if (buf.length === 0) return;
        continue;
      }
      if (framing.kind === 'switch') throw new HttpFramingError(502, 'the service switched protocols');
      this.respond(head, framing, length < buf.length);
      if (!this.done && this.body !== undefined && length < buf.length) this.feedBody(buf, length);
      return;
    }
  }

  /** Writes the status and headers to the client; the body (if any) follows. `more`: bytes follow the head. */
  private respond(head: ResponseHead, framing: BodyFraming, more: boolean): void {
    const { req, res } = this.request;
    const headers = headerObject(head);
    stripHopByHopResponseHeaders(headers);
    const connection = clientConnection(res);
    headers.connection = connection;
    req.headers.connection = connection;
    this.response = head;
    this.cancelTimer?.();
    try {
      for (const name in headers) res.setHeader(name, headers[name]!);
      res.statusCode = head.status;
      if (head.reason !== undefined && head.reason.length > 0) res.statusMessage = head.reason;
    } catch (err) {
      throw new HttpFramingError(502, `the service's response head cannot be passed on: ${(err as Error).message}`);
    }
    this.events.onResponse(this, head.status);
    if (framing.kind === 'none') {
      // Bytes after a body-less response: the agent is out of step; the stream is not reused.
      this.complete(more);
      return;
    }
    this.body = new BodyTracker(framing, 502);
  }

  private feedBody(buf: Buffer, off: number): void {
    const body = this.body!;
    this.feeding = buf;
    const end = body.feed(buf, off, this.onPayload);
    this.feeding = undefined;
    // More bytes than the response holds: the agent is out of step; the stream is not reused.
    if (body.done && !this.done) this.complete(end < buf.length);
  }

  private toClient(bytes: Buffer): void {
    const { res } = this.request;
    if (res.write(bytes) || this.resPaused) return;
    this.resPaused = true;
    const { stream } = this.pooled;
    stream.pause();
    res.once('drain', () => {
      this.resPaused = false;
      // A stream released meanwhile was resumed then, and may now be paused by the exchange holding it.
      if (!this.done) stream.resume();
    });
  }

  /** The response is complete: the client's response ends, and the stream is kept if the exchange was clean. */
  private complete(extraBytes: boolean): void {
    const head = this.response!;
    const reuse = !extraBytes && this.bodyWritten && !wantsClose(head.version, head.headers);
    this.finish(reuse);
    this.request.res.end();
  }

  /** The agent died mid-body: the client's response is cut, never left hanging. */
  private cut(): void {
    this.finish(false);
    this.request.res.destroy();
  }

  private finish(reuse: boolean): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimer?.();
    const { req } = this.request;
    req.off('data', this.onReqData);
    req.off('end', this.onReqEnd);
    // A body not passed on (the answer came first) is read and dropped, so the client's connection stays usable.
    if (!req.complete) req.resume();
    const pooled = this.pooled;
    if (reuse) {
      if (this.resPaused) pooled.stream.resume();
      this.pool.release(pooled);
      return;
    }
    pooled.user = undefined;
    pooled.dead = true;
    pooled.stream.destroy();
  }
}

/** The headers of a response head as `res.setHeader` takes them: a list for a header sent more than once. */
function headerObject(head: ResponseHead): IncomingHttpHeaders & Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of head.headers) {
    const seen = out[name];
    if (seen === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'content-length') continue; // repeats agree (the framing checked it): one is enough
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}
