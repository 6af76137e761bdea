import { PassThrough } from 'node:stream';
import type { EndpointId } from '../../../src/domain/endpoint/endpoint-id.js';
import {
  UpstreamGoneError,
  type TunnelStream,
  type UpstreamConnection,
} from '../../../src/application/ports/upstream-transport.port.js';

/**
 * An `UpstreamConnection` held in memory. `openStream` hands out `PassThrough` streams and records them;
 * `accepting` can be set directly to simulate a go-away arriving from the agent.
 */
export class FakeUpstreamConnection implements UpstreamConnection {
  /** Settable: false makes `openStream` throw `UpstreamGoneError`, as a connection that received go-away. */
  accepting = true;
  /** Every stream opened, in order. */
  readonly opened: PassThrough[] = [];
  /** Number of `openStream` calls, including those that threw. */
  openStreamCalls = 0;
  /** Number of `goAway` calls. */
  goAwayCalls = 0;
  /** True once `close` was called. */
  closed = false;
  private readonly stopListeners: Array<() => void> = [];

  constructor(
    readonly id: string,
    readonly endpointId: EndpointId,
    readonly remoteAddress = '10.0.0.1:50000',
  ) {}

  openStream(): TunnelStream {
    this.openStreamCalls += 1;
    if (!this.accepting) throw new UpstreamGoneError(`upstream ${this.id} is not accepting`);
    const stream = new PassThrough();
    this.opened.push(stream);
    return stream;
  }

  onStopAccepting(listener: () => void): void {
    if (!this.accepting) listener();
    else this.stopListeners.push(listener);
  }

  goAway(): void {
    this.goAwayCalls += 1;
    this.stopAccepting();
  }

  close(): void {
    this.closed = true;
    this.stopAccepting();
    for (const stream of this.opened) stream.destroy();
  }

  /** Stops accepting and tells the listeners, as a go-away received from the agent does. */
  stopAccepting(): void {
    this.accepting = false;
    for (const l of this.stopListeners.splice(0)) l();
  }
}
