/** The address family of a datagram socket, as `node:dgram` names it. */
export type DatagramFamily = 'udp4' | 'udp6';

/** Where a datagram came from, as the socket reports it (IPv6 without brackets). */
export interface DatagramSource {
  readonly address: string;
  readonly port: number;
}

/** The address a datagram socket actually bound (port 0 resolved). */
export interface DatagramBound {
  readonly address: string;
  readonly port: number;
}

/** What a datagram socket reports to its owner. Both are called on the event loop, never synchronously from a call. */
export interface DatagramHandlers {
  /** One datagram arrived. `bytes` belongs to the handler. */
  message(bytes: Uint8Array, from: DatagramSource): void;
  /** The socket failed after binding (the owner logs it; the socket may keep working). */
  error(err: Error): void;
}

/**
 * The few operations of a UDP socket the gossip shell needs, so that unit tests can run the shell on an
 * in-memory network with a fake clock. The real one wraps `node:dgram` (`createUdpSocket` in the shell).
 */
export interface DatagramSocket {
  /** Binds to `host` (`''`: every interface of the family) and `port` (0: any free port). Rejects on failure. */
  bind(host: string, port: number): Promise<DatagramBound>;
  /**
   * Sends one datagram to `host:port` (`host` an IP address or a name the socket resolves). `done` is called once,
   * with the error if the send failed; `send` itself never throws for a network failure.
   */
  send(bytes: Uint8Array, port: number, host: string, done: (err: Error | null) => void): void;
  /** Closes the socket; nothing is delivered afterwards. Calling it twice is harmless. */
  close(): void;
}

/** Creates an unbound socket of `family` that reports to `handlers`. */
export type DatagramSocketFactory = (family: DatagramFamily, handlers: DatagramHandlers) => DatagramSocket;
