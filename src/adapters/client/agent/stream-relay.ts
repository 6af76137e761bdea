import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BodyTracker, requestFraming, responseFraming, wantsClose } from '../../http/relay/http1-body.js';
import { HttpFramingError, MAX_RESPONSE_HEAD, headLength, headerValue, parseRequestHead, parseResponseHead } from '../../http/relay/http1-head.js';
import { REPLAY_SAFE_METHODS } from '../../http/passes/replay.js';
import { ProxyErrors, writeJsonErrorToSocket } from '../../wire/json-error.js';
import { endThenDestroy } from '../../platform/net/close-after-flush.js';
import { accessEntry, type Exchange, type RelayOwner } from './relay-exchange.js';

/**
 * A service connection idle this long is not reused: Node's servers close keep-alive connections after 5 s, and a
 * request written as the service closes is lost (a POST cannot be replayed). As the general path's pool does.
 */
export const SERVICE_IDLE_LIMIT_MS = 4_000;


/** The relay of one tunnel stream; see `HttpRelay`. */
export class StreamRelay {
  private service?: Socket;
  /** The service connection has carried an earlier exchange (a reset on it may be a stale keep-alive). */
  private reused = false;
  /** When the service connection last finished an exchange (clock ms). */
  private idleSince = 0;
  private headBuf?: Buffer;
  private resBuf?: Buffer;
  private exchange?: Exchange;
  /** Stream bytes that arrived while a response was awaited (the next request), read once it is done. */
  private pending: Buffer[] = [];
  private finished = false;
  /** The server has ended its side: the stream closes once the exchange in flight is done. */
  private streamEnded = false;

  constructor(
    private readonly owner: RelayOwner,
    private readonly stream: Duplex,
  ) {
    stream.on('data', (chunk: Buffer) => this.onStreamData(chunk));
    stream.on('end', () => this.onStreamEnd());
    stream.on('error', () => this.destroy());
    stream.on('close', () => this.destroy());
  }

  closeIfIdle(): void {
    if (this.exchange === undefined && this.headBuf === undefined) this.finish();
  }

  /** Ends everything at once; a request still in flight is logged as 499 (the client side went away). */
  destroy(): void {
    if (this.finished) return;
    this.finished = true;
    this.endExchange(499);
    this.service?.destroy();
    this.stream.destroy();
  }

  private onStreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.exchange?.sent === true || this.pending.length > 0) {
      this.pending.push(chunk);
      this.stream.pause();
      return;
    }
    try {
      this.consume(chunk);
    } catch (err) {
      this.refuse(err);
    }
  }

  private consume(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.finished) {
      const ex = this.exchange;
      if (ex === undefined) {
        off = this.readRequestHead(chunk, off);
      } else if (!ex.sent) {
        const end = ex.body.feed(chunk, off);
        if (end > off) this.toService(chunk.subarray(off, end));
        off = end;
        if (ex.body.done) this.requestSent(ex);
      } else {
        this.pending.push(chunk.subarray(off));
        this.stream.pause();
        return;
      }
    }
  }

  /** Adds `chunk[off..]` to the request head; returns how far the chunk was used. */
  private readRequestHead(chunk: Buffer, off: number): number {
    const piece = chunk.subarray(off);
    const before = this.headBuf?.length ?? 0;
    const buf = this.headBuf === undefined ? piece : Buffer.concat([this.headBuf, piece]);
    const length = headLength(buf, this.owner.settings.maxHeaderBytes, before - 3, 431);
    if (length < 0) {
      this.headBuf = buf;
      return chunk.length;
    }
    this.headBuf = undefined;
    const head = parseRequestHead(buf, length);
    if (head.target === '*') throw new HttpFramingError(400, `${head.method} * (a request for the server as a whole) is not supported: ask for a path`);
    if (!head.target.startsWith('/')) throw new HttpFramingError(400, `request target must be a path: ${JSON.stringify(head.target.slice(0, 64))}`);
    if (headerValue(head.headers, 'host') === undefined) throw new HttpFramingError(400, 'missing Host header');
    const framing = requestFraming(head);
    const upgrade = headerValue(head.headers, 'upgrade')?.trim().toLowerCase() === 'websocket';
    const ex: Exchange = {
      head,
      headBytes: buf.subarray(0, length),
      started: this.owner.clock.now(),
      body: new BodyTracker(framing, 400),
      upgrade,
      replayable: framing.kind === 'none' && REPLAY_SAFE_METHODS.has(head.method) && !upgrade,
      sent: false,
    };
    this.exchange = ex;
    this.owner.requestsInFlight++;
    // A connection idle for longer than Node's keep-alive (5 s) allows may be closing under us: start afresh.
    if (this.service !== undefined && this.owner.clock.now() - this.idleSince >= SERVICE_IDLE_LIMIT_MS) this.dropService();
    this.toService(ex.headBytes);
    if (ex.body.done) this.requestSent(ex);
    return off + (length - before);
  }

  private toService(bytes: Buffer): void {
    const service = this.connected();
    if (!service.write(bytes)) {
      this.stream.pause();
      service.once('drain', () => {
        if (this.exchange?.sent !== true && this.pending.length === 0) this.stream.resume();
      });
    }
  }

  /** The connection to the service, dialled if there is none. */
  private connected(): Socket {
    if (this.service !== undefined) return this.service;
    const { settings } = this.owner;
    const service = this.owner.dial(settings.port, settings.host);
    this.service = service;
    this.reused = false;
    service.on('data', (chunk: Buffer) => this.onServiceData(service, chunk));
    service.on('error', () => {});
    service.once('close', () => this.onServiceClose(service));
    const { timeoutMs } = settings;
    if (timeoutMs > 0) {
      // A service that never accepts the connection must not hold an upload (or the stream) forever.
      const cancel = this.owner.clock.schedule(timeoutMs, () => {
        if (service === this.service && service.connecting) this.fail(504, ProxyErrors.timeout);
      });
      service.once('connect', cancel);
      service.once('close', cancel);
    }
    return service;
  }

  private requestSent(ex: Exchange): void {
    ex.sent = true;
    const { timeoutMs } = this.owner.settings;
    if (timeoutMs > 0 && ex.response === undefined) {
      ex.timer = this.owner.clock.schedule(timeoutMs, () => this.fail(504, ProxyErrors.timeout));
    }
  }

  private onServiceData(service: Socket, chunk: Buffer): void {
    if (service !== this.service || this.finished) return;
    try {
      this.consumeResponse(chunk);
    } catch (err) {
      const status = err instanceof HttpFramingError ? err.status : 502;
      this.owner.log?.warn('service response refused', { 'endpoint-id': this.owner.settings.endpointId, status, reason: String((err as Error).message) });
      this.fail(502, ProxyErrors.unreachable);
    }
  }

  private consumeResponse(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.finished) {
      const ex = this.exchange;
      if (ex === undefined) {
        // Bytes from the service with no request outstanding: it is out of step; drop the connection.
        this.dropService();
        return;
      }
      if (ex.responseBody === undefined) {
        const used = this.readResponseHead(ex, chunk, off);
        if (used < 0 || this.exchange !== ex) return; // incomplete, or switched protocols
        off = used;
        if (ex.responseBody === undefined) continue; // interim
      } else {
        const end = ex.responseBody.feed(chunk, off);
        if (end > off) this.toStream(chunk.subarray(off, end));
        off = end;
      }
      if (ex.responseBody.done) {
        // More than one answer to one request: the service is out of step. Dropped before the exchange ends, so
        // that a request held meanwhile goes to a new connection rather than to this one.
        if (off < chunk.length) this.dropService();
        this.responseDone(ex, false);
        return;
      }
    }
  }

  /** Adds `chunk[off..]` to the response head; returns how far the chunk was used, or -1 while incomplete. */
  private readResponseHead(ex: Exchange, chunk: Buffer, off: number): number {
    const piece = chunk.subarray(off);
    const before = this.resBuf?.length ?? 0;
    const buf = this.resBuf === undefined ? piece : Buffer.concat([this.resBuf, piece]);
    const length = headLength(buf, MAX_RESPONSE_HEAD, before - 3, 502);
    if (length < 0) {
      this.resBuf = buf;
      return -1;
    }
    this.resBuf = undefined;
    const head = parseResponseHead(buf, length);
    const framing = responseFraming(head, ex.head.method, ex.upgrade);
    const used = off + (length - before);
    if (framing.kind === 'interim') {
      this.toStream(buf.subarray(0, length));
      return used;
    }
    ex.timer?.();
    ex.response = head;
    if (framing.kind === 'switch') {
      this.toStream(buf.subarray(0, length));
      this.switchProtocols(chunk.subarray(used));
      return chunk.length;
    }
    ex.responseBody = new BodyTracker(framing, 502);
    this.toStream(buf.subarray(0, length));
    return used;
  }

  private toStream(bytes: Buffer): void {
    const service = this.service;
    if (!this.stream.write(bytes) && service !== undefined) {
      service.pause();
      this.stream.once('drain', () => service.resume());
    }
  }

  /** The exchange ended with its response complete (or cut short by the service's close, `byClose`). */
  private responseDone(ex: Exchange, byClose: boolean): void {
    const closeService = byClose || !ex.sent || wantsClose(ex.response?.version ?? '1.1', ex.response?.headers ?? []);
    // A server that ended its side after pipelined requests still gets their answers (`pending`).
    const closeStream = byClose || !ex.sent || (this.streamEnded && this.pending.length === 0) || wantsClose(ex.head.version, ex.head.headers);
    this.endExchange(ex.response?.status ?? 502);
    if (closeService) this.dropService();
    else {
      this.reused = true;
      this.idleSince = this.owner.clock.now();
    }
    if (closeStream) {
      this.finish();
      return;
    }
    const pending = this.pending;
    this.pending = [];
    for (const chunk of pending) this.onStreamData(chunk);
    if (this.streamEnded) {
      this.onStreamEnd();
      return;
    }
    if (this.exchange?.sent !== true && this.pending.length === 0 && !this.finished) this.stream.resume();
  }

  private onServiceClose(service: Socket): void {
    if (service !== this.service || this.finished) return;
    this.service = undefined;
    const ex = this.exchange;
    if (ex === undefined) return; // closed while idle: the next request dials again
    if (ex.responseBody !== undefined) {
      // A body delimited by the close is complete; any other is cut, and so is the client's response.
      if (ex.responseBody.closeDelimited) {
        this.responseDone(ex, true);
      } else {
        this.destroy();
      }
      return;
    }
    if (ex.replayable && this.reused && ex.response === undefined && ex.sent) {
      // A keep-alive connection the service closed just as the request went out: send it again, once.
      const replay = ex.headBytes;
      this.exchange = { ...ex, replayable: false };
      this.toService(replay);
      return;
    }
    this.fail(502, ProxyErrors.unreachable);
  }

  private onStreamEnd(): void {
    // The server will send nothing more: finish the exchange in flight, if any, then close.
    this.streamEnded = true;
    if (this.finished || this.pending.length > 0) return; // held requests are read once the exchange is done
    const ex = this.exchange;
    if (ex === undefined) this.finish();
    else if (!ex.sent && ex.response === undefined) this.destroy(); // its body can no longer come, nor an answer to it
  }

  /** Answers the request in flight with a JSON error (if nothing of the response was sent yet) and closes. */
  private fail(status: 502 | 504, message: string): void {
    const ex = this.exchange;
    if (ex === undefined || this.finished) return;
    if (ex.responseBody !== undefined) {
      this.destroy();
      return;
    }
    this.endExchange(status);
    this.finished = true;
    this.service?.destroy();
    writeJsonErrorToSocket(this.stream, status, STATUS_CODES[status]!, message);
  }

  /** A request the relay cannot pass on (malformed, too large): answered on the stream, logged, stream closed. */
  private refuse(err: unknown): void {
    const status = err instanceof HttpFramingError ? err.status : 400;
    const message = err instanceof Error ? err.message : String(err);
    const { settings } = this.owner;
    this.owner.log?.warn('request refused before forwarding', {
      'endpoint-id': settings.endpointId,
      status,
      reason: message,
      ...(status === 431 ? { 'max-header-bytes': settings.maxHeaderBytes, hint: 'raise the listener max_header_bytes' } : {}),
    });
    if (this.exchange !== undefined && this.exchange.responseBody !== undefined) {
      this.destroy();
      return;
    }
    this.endExchange(status);
    this.finished = true;
    this.service?.destroy();
    writeJsonErrorToSocket(this.stream, status, STATUS_CODES[status] ?? 'Bad Request', message);
  }

  /** The service answered 101 to an upgrade: from here on the stream and the connection are one raw pipe. */
  private switchProtocols(rest: Buffer): void {
    const service = this.service!;
    this.endExchange(101);
    this.finished = true;
    service.removeAllListeners('data');
    this.stream.removeAllListeners('data');
    if (rest.length > 0) this.stream.write(rest);
    for (const chunk of this.pending) service.write(chunk);
    this.pending = [];
    this.stream.on('close', () => service.destroy());
    service.on('close', () => this.stream.destroy());
    this.stream.pipe(service);
    service.pipe(this.stream);
  }

  private endExchange(status: number): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    this.exchange = undefined;
    ex.timer?.();
    this.owner.requestsInFlight--;
    const sink = this.owner.accessLog;
    // Upgrades are not access-logged (as on the general path); their traffic is a raw pipe.
    if (sink === undefined || ex.upgrade) return;
    sink(accessEntry(ex, status, this.owner.clock.now() - ex.started, this.owner.settings.endpointId));
  }

  private dropService(): void {
    const service = this.service;
    this.service = undefined;
    service?.destroy();
  }

  /** Ends the stream gracefully (its last response written) and frees the service connection. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.dropService();
    endThenDestroy(this.stream);
  }
}
