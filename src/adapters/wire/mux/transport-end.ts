import type { Clock } from '../../../application/ports/clock.port.js';
import type { MuxTransport } from './transport.js';

/** How long a closed session waits for its transport to flush before destroying it. */
export const TRANSPORT_FLUSH_TIMEOUT_MS = 10_000;

/**
 * Ends a session's transport: with `flush`, lets what was written drain (`end()`), destroying the transport
 * once it has finished or after {@link TRANSPORT_FLUSH_TIMEOUT_MS}, whichever comes first; without, destroys it
 * at once. A transport closed without finishing (its peer went away) drops the deadline, so no timer keeps the
 * process alive for nothing. The caller keeps its own `'error'` listener, so a late error is never uncaught.
 */
export function endTransport(transport: MuxTransport, clock: Clock, flush: boolean): void {
  if (transport.destroyed) return;
  if (!flush || !transport.writable) {
    transport.destroy();
    return;
  }
  const cancel = clock.schedule(TRANSPORT_FLUSH_TIMEOUT_MS, () => transport.destroy());
  transport.once('finish', () => {
    cancel();
    transport.destroy();
  });
  transport.once('close', cancel);
  transport.end();
}
