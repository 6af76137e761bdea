import type { UpstreamConnection, UpstreamTransport } from '../../../src/application/ports/upstream-transport.port.js';
import type { FakeUpstreamConnection } from './fake-upstream-connection.js';

/**
 * An `UpstreamTransport` over in-memory {@link FakeUpstreamConnection}s. `shed` honours the port's contract:
 * it sends go-away on a connection it holds that is still accepting, hands it to `onShed` (a test passes the
 * unregister use case there, as the real adapter unregisters it) and records it; anything else returns false.
 */
export class FakeUpstreamTransport implements UpstreamTransport {
  /** Connections open on this transport; add to it as agents "connect". */
  readonly connections = new Set<FakeUpstreamConnection>();
  /** Every connection shed, in order. */
  readonly shedConnections: UpstreamConnection[] = [];
  goAwayAllCalls = 0;
  closeAllCalls = 0;

  constructor(private readonly onShed: (connection: FakeUpstreamConnection) => void = () => undefined) {}

  get size(): number {
    return this.connections.size;
  }

  shed(connection: UpstreamConnection): boolean {
    const held = [...this.connections].find((c) => c === connection);
    if (held === undefined || !held.accepting) return false;
    held.goAway();
    this.shedConnections.push(held);
    this.onShed(held);
    return true;
  }

  goAwayAll(): void {
    this.goAwayAllCalls += 1;
    for (const c of this.connections) c.goAway();
  }

  closeAll(): void {
    this.closeAllCalls += 1;
    for (const c of this.connections) c.close();
    this.connections.clear();
  }
}
