import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * An http.Agent that hands out one already-open tunnel stream as the request's socket. One stream carries one
 * request (keep-alive off), as in Piko: streams are cheap, and a stream per request keeps failures isolated.
 */
export class StreamAgent extends Agent {
  constructor(private readonly stream: Duplex) {
    super({ keepAlive: false });
  }

  override createConnection(_options: ClientRequestArgs, _callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    return this.stream;
  }
}
