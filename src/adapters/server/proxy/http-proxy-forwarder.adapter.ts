import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../../application/ports/clock.port.js';
import type { ForwardOptions, ForwardOutcome, ForwardTarget, Forwarder } from '../../../application/ports/forwarder.port.js';
import { TrustedProxies } from '../../http/passes/forwarded-headers.js';
import { ReloadingHttpsAgent, type ClientTlsSource } from '../../platform/tls/reloading-https-agent.js';
import { ProxyCaller, type ProxyCallOptions } from '../../http/proxy-call.js';
import { UpstreamStreamAgent } from './stream-agent.js';
import { stripInternalHeaders } from './passes/strip-internal-headers.js';
import { UpstreamGoneError, type UpstreamConnection } from '../../../application/ports/upstream-transport.port.js';
import { TunnelPassThrough } from './tunnel-pass-through.js';

/** The header that marks a request forwarded by another node: it may only be served by a local upstream. */
export const FORWARDED_HOP_HEADER = 'x-piko-forward';

/** Nothing was sent: the tunnel stream could not be opened, or the peer node refused the connection. */
const notSent = (err: Error): boolean => err instanceof UpstreamGoneError || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';

/** Settings of the server's forwarder. */
export interface HttpProxyForwarderOptions {
  /**
   * IP addresses and CIDR blocks of proxies in front of the proxy port (`proxy.http.trusted_proxies`): when the
   * direct peer is one of them, its X-Forwarded-Host/-Proto/-Port are kept (X-Forwarded-For is always appended to).
   */
  readonly trustedProxies?: readonly string[];
  /** True for the IP address of another node of the cluster: its X-Forwarded-* values are kept too. */
  readonly isClusterPeer?: (ip: string) => boolean;
  /**
   * Node-to-node client TLS (`proxy.tls.client`), set when this node's proxy port serves TLS: peers' proxy
   * ports then serve TLS too (every node of a cluster agrees), so their gossiped proxy addresses are dialled
   * over HTTPS with these options, read again for each new connection (they reload).
   */
  readonly peerTls?: ClientTlsSource;
  /**
   * False sends plain requests for a local upstream through http-proxy-3 as well (the general path); by default
   * they take the pass-through ({@link TunnelPassThrough}), which costs the server less CPU per request.
   */
  readonly passThrough?: boolean;
}

/**
 * The Forwarder port on http-proxy-3. A plain request for a local upstream takes the pass-through
 * ({@link TunnelPassThrough}) over pooled tunnel streams; an upgrade for one is reached through tunnel streams
 * handed to the proxy by a keep-alive Agent per upstream connection (Piko's ReverseProxy with a custom dialer,
 * plus reuse). A peer node is reached over a pooled keep-alive connection (Piko opens a TCP connection per
 * forwarded request: its §15 #13).
 */
export class HttpProxyForwarder implements Forwarder {
  private readonly caller: ProxyCaller;
  private readonly peerAgent: Agent;
  private readonly peerScheme: 'http' | 'https';
  /** One stream pool per upstream connection; dropped with the connection. */
  private readonly agents = new WeakMap<UpstreamConnection, UpstreamStreamAgent>();
  private readonly trusted: TrustedProxies;
  /** Plain requests for a local upstream; undefined when turned off. */
  private readonly passThrough?: TunnelPassThrough;

  /** @throws Error when a trusted proxy entry is not an IP address or CIDR block (the config loader checks first). */
  constructor(clock: Clock, options: HttpProxyForwarderOptions = {}) {
    this.caller = new ProxyCaller(clock);
    this.trusted = new TrustedProxies(options.trustedProxies ?? [], options.isClusterPeer);
    const pool = { keepAlive: true, maxFreeSockets: 256 };
    this.peerAgent = options.peerTls === undefined ? new Agent(pool) : new ReloadingHttpsAgent(options.peerTls, pool);
    this.peerScheme = options.peerTls === undefined ? 'http' : 'https';
    if (options.passThrough !== false) this.passThrough = new TunnelPassThrough(clock);
  }

  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome> {
    if (target.kind === 'upstream' && this.passThrough !== undefined) {
      // What an earlier attempt toward a peer node set (hop marker and proof) never reaches a service.
      stripInternalHeaders(req.headers);
      return this.passThrough.web(req, res, target.upstream, { headerTimeoutMs: options.headerTimeoutMs, forwarded: this.trusted });
    }
    return this.caller.web(req, res, this.callOptions(target, options, req.headers));
  }

  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: ForwardTarget,
    options: ForwardOptions,
  ): Promise<ForwardOutcome> {
    return this.caller.upgrade(req, socket, head, this.callOptions(target, options, req.headers));
  }

  /** Closes pooled peer connections. */
  close(): void {
    this.peerAgent.destroy();
  }

  private callOptions(target: ForwardTarget, options: ForwardOptions, headers: IncomingMessage['headers']): ProxyCallOptions {
    if (target.kind === 'upstream') {
      // What an earlier attempt toward a peer node set (hop marker and proof) never reaches a service.
      stripInternalHeaders(headers);
      let agent = this.agents.get(target.upstream);
      if (agent === undefined) {
        agent = new UpstreamStreamAgent(target.upstream);
        this.agents.set(target.upstream, agent);
      }
      return { target: 'http://tunnel', agent, headerTimeoutMs: options.headerTimeoutMs, forwarded: this.trusted, notSent, replaySafeOnReset: true };
    }
    // This node sees the client: it applies the X-Forwarded-* policy, and the peer (which trusts cluster
    // members) keeps those values. The hop marker makes the peer serve it locally or not at all.
    return {
      target: `${this.peerScheme}://${target.proxyAddr}`,
      agent: this.peerAgent,
      headerTimeoutMs: options.headerTimeoutMs,
      forwarded: this.trusted,
      // The client's own x-piko-endpoint was stripped at the edge; the peer is told the endpoint chosen here.
      setHeaders: { [FORWARDED_HOP_HEADER]: 'true', 'x-piko-endpoint': target.endpointId, ...options.peerHeaders },
      notSent,
      replaySafeOnReset: true,
      // A peer without an upstream for it says so instead of waiting: this node tries another holder or waits.
      peerUnserved: true,
    };
  }
}
