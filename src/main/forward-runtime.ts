import type { Clock } from '../application/ports/clock.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import { TcpPortForwarder } from '../adapters/client/forward/tcp-port-forwarder.js';
import type { ForwardConfig } from '../adapters/platform/config/types.js';
import { formatAddress } from '../adapters/platform/net/listen.js';
import { FileTokenSource, staticToken, type TokenSource } from '../adapters/client/token-source.js';
import { clientTlsFor } from '../adapters/platform/tls/client-tls.js';
import { TlsReloadGroup, type ReloadOutcome } from '../adapters/platform/tls/reloadable-tls.js';

/**
 * A forward process's life: binds every configured local port (each accepted connection gets its own tunnel to
 * the proxy port), and closes them on stop. Built by the container; the composition root calls `start`.
 */
export class ForwardRuntime {
  #forwarders: TcpPortForwarder[] = [];
  #addresses: string[] = [];
  /** `connect.tls`, read at start and reloaded on SIGHUP or when its files change. */
  readonly #tls = new TlsReloadGroup();
  /** `connect.token`, or `connect.token_file` read again when it changes; asked for every tunnel. */
  #tokens: TokenSource = staticToken('');

  constructor(
    private readonly config: ForwardConfig,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Reads the TLS files again (SIGHUP); the next tunnels use them. Returns each part's outcome by name. */
  reloadTls(reason = 'SIGHUP'): Record<string, ReloadOutcome> {
    return this.#tls.reloadAll(reason);
  }

  /** The local addresses bound, once started. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    const log = logger.child('forwarder');
    // Read before any port opens: a TLS file that cannot be used stops forward with the key and the reason.
    const tls = clientTlsFor(config.connect.tls, 'connect.tls', config.connect.url, { clock: this.clock, log: logger.child('tls'), group: this.#tls });
    this.#tokens = config.connect.tokenFile !== '' ? new FileTokenSource(config.connect.tokenFile, this.clock, log) : staticToken(config.connect.token);
    const tokens = this.#tokens;
    this.#forwarders = config.ports.map(
      (p) =>
        new TcpPortForwarder(
          {
            addr: p.addr,
            endpointId: p.endpointId,
            connectUrl: config.connect.url,
            tokens,
            dial: {
              handshakeTimeoutMs: config.connect.timeoutMs,
              ...(tls !== undefined && { tls: () => tls.current }),
            },
          },
          log,
        ),
    );
    try {
      for (const f of this.#forwarders) this.#addresses.push(formatAddress(await f.listen()));
    } catch (err) {
      for (const f of this.#forwarders) f.close(true);
      this.#tokens.close();
      throw err;
    }
    this.#tls.watchAll();
    logger.child('main').info('forward started', { ports: this.#addresses, url: config.connect.url });
  }

  async stop(): Promise<void> {
    this.#tls.close();
    this.#tokens.close();
    for (const f of this.#forwarders) f.close(true);
  }
}
