import type { Logger } from '../application/ports/logger.port.js';
import { TcpPortForwarder } from '../adapters/client/forward/tcp-port-forwarder.js';
import type { ForwardConfig } from '../adapters/platform/config/types.js';
import { formatAddress } from '../adapters/platform/net/listen.js';

/**
 * A forward process's life: binds every configured local port (each accepted connection gets its own tunnel to
 * the proxy port), and closes them on stop. Built by the container; the composition root calls `start`.
 */
export class ForwardRuntime {
  #forwarders: TcpPortForwarder[] = [];
  #addresses: string[] = [];

  constructor(
    private readonly config: ForwardConfig,
    private readonly logger: Logger,
  ) {}

  /** The local addresses bound, once started. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    const log = logger.child('forwarder');
    this.#forwarders = config.ports.map(
      (p) =>
        new TcpPortForwarder(
          {
            addr: p.addr,
            endpointId: p.endpointId,
            connectUrl: config.connect.url,
            dial: { ...(config.connect.token ? { token: config.connect.token } : {}), handshakeTimeoutMs: config.connect.timeoutMs },
          },
          log,
        ),
    );
    try {
      for (const f of this.#forwarders) this.#addresses.push(formatAddress(await f.listen()));
    } catch (err) {
      for (const f of this.#forwarders) f.close(true);
      throw err;
    }
    logger.child('main').info('forward started', { ports: this.#addresses, url: config.connect.url });
  }

  async stop(): Promise<void> {
    for (const f of this.#forwarders) f.close(true);
  }
}
