import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ForwardOptions, ForwardOutcome, ForwardTarget, Forwarder } from '../../application/ports/forwarder.port.js';
import { ProxyCaller, type ProxyCallOptions } from './proxy-call.js';
import { StreamAgent } from './stream-agent.js';

/**
 * The Forwarder port on http-proxy-3. A local upstream is reached through its tunnel stream, handed to the
 * proxy as the socket of a one-request Agent (Piko's ReverseProxy with a custom dialer). A peer node is reached
 * over a pooled keep-alive connection (Piko opens a TCP connection per forwarded request: its §15 #13).
 */
export class HttpProxyForwarder implements Forwarder {
  private readonly caller: ProxyCaller;
  private readonly peerAgent = new Agent({ keepAlive: true, maxFreeSockets: 256 });

  constructor(clock: Clock) {
    this.caller = new ProxyCaller(clock);
  }

  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, options: ForwardOptions): Promise<ForwardOutcome> {
    return this.caller.web(req, res, this.callOptions(target, options));
  }

  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: ForwardTarget,
    options: ForwardOptions,
  ): Promise<ForwardOutcome> {
    return this.caller.upgrade(req, socket, head, this.callOptions(target, options));
  }

  /** Closes pooled peer connections. */
  close(): void {
    this.peerAgent.destroy();
  }

  private callOptions(target: ForwardTarget, options: ForwardOptions): ProxyCallOptions {
    if (target.kind === 'stream') {
      const stream = target.stream;
      return {
        target: 'http://tunnel',
        agent: new StreamAgent(stream),
        headerTimeoutMs: options.headerTimeoutMs,
        xfwd: true,
        oneShot: true,
        abort: () => stream.destroy(),
      };
    }
    return { target: `http://${target.proxyAddr}`, agent: this.peerAgent, headerTimeoutMs: options.headerTimeoutMs, xfwd: false };
  }
}
