import type { Duplex } from 'node:stream';

/**
 * Pipes two duplexes both ways, keeping half-close: the end of one side's readable ends the other side's
 * writable only. An error on either side destroys both (a reset propagates as a reset).
 */
export function pipeDuplex(a: Duplex, b: Duplex, onError?: (err: Error) => void): void {
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    onError?.(err);
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
  a.pipe(b);
  b.pipe(a);
  // A side that closes before its readable ended was cut off: reset the other. One that closes after a clean
  // end leaves the other alone, since pipe() is still flushing what it read into the other side.
  const closedEarly = (self: Duplex, other: Duplex) => () => {
    if (!self.readableEnded && !other.destroyed) other.destroy();
  };
  a.once('close', closedEarly(a, b));
  b.once('close', closedEarly(b, a));
}
