import type { Duplex } from 'node:stream';

/** How long a tunnel stream given {@link SocketShaped.destroySoon} waits for the peer's end before it is destroyed. */
export const DESTROY_SOON_GRACE_MS = 10_000;

/**
 * The `net.Socket` methods that code handling a connection may call on it without checking, and that a tunnel
 * stream (a plain `Duplex`) must therefore have. Audit of what runs on a tunnel stream:
 *
 * - http-proxy-3 (WebSocket passes, on the client socket and on the upstream socket): `setTimeout(0)`,
 *   `setNoDelay(true)`, `setKeepAlive(true, 0)` and, unchecked, `destroySoon()` after a refused upgrade or an
 *   upstream error; `remoteAddress` (X-Forwarded-For, which we set ourselves), `connecting` (connect timeout;
 *   `undefined` reads as connected).
 * - `node:http` server (`_http_server`): `setTimeout`, `setNoDelay`, `setKeepAlive` (each checked with
 *   `typeof`), `destroySoon` (checked; falls back to `end`), `remoteAddress`, `bytesWritten`, `cork`/`uncork`.
 * - `node:http` client and Agent (`_http_client`, `_http_agent`): `setTimeout`, `setNoDelay`, `setKeepAlive`,
 *   `ref`, `unref` (unchecked), `destroySoon` (checked), `timeout` (read; undefined only re-arms the timer).
 * - Applications served through the SDK (express, ws): `remoteAddress`, `address()`, `setTimeout`, `setNoDelay`.
 *
 * Node's `net.Socket#destroySoon` ends the writable side and destroys the socket once it is flushed. On a tunnel
 * stream, destroying before the peer has ended its side would reset the stream under a response the peer is
 * still reading, so here the stream is ended, further input is discarded, and the stream closes when the peer
 * ends its side too (or after {@link DESTROY_SOON_GRACE_MS} of silence).
 */
export interface SocketShaped {
  setTimeout(ms: number, callback?: () => void): this;
  setNoDelay(noDelay?: boolean): this;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  ref(): this;
  unref(): this;
  destroySoon(): void;
  address(): { address?: string; family?: string; port?: number };
}

type Shapeable = Duplex & Partial<SocketShaped> & { localAddress?: string; localPort?: number };

/**
 * Gives `stream` every method of {@link SocketShaped} it lacks, in place, and returns it. Methods the stream
 * already has (a mux stream's inactivity `setTimeout`, say) are kept. Missing `setTimeout`, `setNoDelay`,
 * `setKeepAlive`, `ref` and `unref` are no-ops: a tunnel stream has no Nagle algorithm, no TCP keep-alive and no
 * handle that holds the event loop.
 */
export function withSocketShape<T extends Duplex>(stream: T): T & SocketShaped {
  const methods = stream as unknown as Record<string, unknown>;
  for (const name of SHAPE) if (typeof methods[name] !== 'function') methods[name] = FALLBACKS[name];
  return stream as T & SocketShaped;
}

function returnThis(this: Shapeable): Shapeable {
  return this;
}

function destroySoon(this: Shapeable): void {
  if (this.destroyed) return;
  if (this.writable) this.end();
  // Nobody reads the stream any more: drain what the peer still sends so that its end is seen.
  this.resume();
  this.setTimeout?.(DESTROY_SOON_GRACE_MS, () => this.destroy());
}

function address(this: Shapeable): { address?: string; family?: string; port?: number } {
  if (this.localAddress === undefined) return {};
  return { address: this.localAddress, family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4', port: this.localPort ?? 0 };
}

const FALLBACKS: { readonly [K in keyof SocketShaped]: (this: Shapeable, ...args: never[]) => unknown } = {
  setTimeout: returnThis,
  setNoDelay: returnThis,
  setKeepAlive: returnThis,
  ref: returnThis,
  unref: returnThis,
  destroySoon,
  address,
};
const SHAPE = Object.keys(FALLBACKS) as ReadonlyArray<keyof SocketShaped>;
