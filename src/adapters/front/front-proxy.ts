import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../application/ports/clock.port.js';
import type { ForwardOutcome } from '../../application/ports/forwarder.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { clientErrorAnswer } from '../http/client-error.js';
import { TrustedProxies } from '../http/passes/forwarded-headers.js';
import { isWebSocketUpgrade } from '../http/passes/hop-by-hop.js';
import { ProxyCaller, type ProxyCallOptions } from '../http/proxy-call.js';
import { formatAddress, listen, type BoundAddress } from '../platform/net/listen.js';
import { ProxyErrors, writeJsonError, writeJsonErrorToSocket } from '../wire/json-error.js';
import type { NodePicker } from './node-picker.js';

/** One node port a front may send to. */
export interface FrontTarget {
  readonly nodeId: string;
  /** `host:port` of the node's port behind this front (its proxy, upstream or admin port). */
  readonly addr: string;
}

/**
 * Response header naming the node a front sent the request to, so that a client (or a test) can see the load
 * spread. Set by the front on every answer to a plain request, the node's own answers and the front's 502 alike.
 */
export const FRONT_NODE_HEADER = 'x-piko-front-node';

/** The answer when no node is behind the front (every node stopped, or none started yet). */
export const NO_NODES_ERROR = 'no nodes available';

/** What a front needs. */
export interface FrontProxyOptions {
  /** The port it stands for (`proxy`, `upstream`, `admin`), for its log lines. */
  readonly name: string;
  /** The nodes behind the front, read afresh for every request and connection. */
  readonly targets: () => readonly FrontTarget[];
  readonly picker: NodePicker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Largest request line plus headers accepted (Node's `maxHeaderSize`); 1 MiB, as a node's proxy port, by default. */
  readonly maxHeaderBytes?: number;
}

const DEFAULT_MAX_HEADER_BYTES = 1_048_576;

/**
 * A small HTTP load balancer in front of one kind of node port (the front of `piko-ts test cluster`): each
 * request, and each WebSocket upgrade (an agent's connection, a client's WebSocket or TCP tunnel), goes to a
 * node chosen by the picker, through the project's http-proxy-3 caller (hop-by-hop headers removed, the client
 * appended to `X-Forwarded-For`, no timeout of its own: the node's apply). A node that cannot be reached is
 * answered `502 {"error":"upstream unreachable"}` with {@link FRONT_NODE_HEADER} naming it; no node at all is
 * `503 {"error":"no nodes available"}`. A bad request, a client or node that resets, or a dead node costs only
 * that request or connection: every socket's errors are handled here or by the caller.
 * Mutated only on the event loop.
 */
export class FrontProxy {
  readonly server: Server;
  readonly #caller: ProxyCaller;
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly #forwarded = new TrustedProxies([]);
  readonly #log: Logger;
  /** Client sockets handed over by an upgrade: no longer the HTTP server's, so closed by {@link close}. */
  readonly #upgraded = new Set<Duplex>();
  #address: BoundAddress | undefined;

  constructor(private readonly options: FrontProxyOptions) {
    this.#caller = new ProxyCaller(options.clock);
    this.#log = options.logger.child('front');
    this.server = createServer({
      maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      // Node's default requestTimeout (300 s) would cut long uploads; the nodes bound what they must.
      requestTimeout: 0,
      // A request without Host gets the caller's JSON 400 that says so, not Node's bare 400.
      requireHostHeader: false,
      // Only WebSocket upgrades are carried; any other Upgrade (h2c...) is an ordinary request.
      shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketUpgrade(req.headers),
    });
    this.server.on('request', (req, res) => this.#onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket));
  }

  /** The bound address; throws before {@link listen} has resolved. */
  get address(): BoundAddress {
    if (this.#address === undefined) throw new Error(`${this.options.name} front not listening`);
    return this.#address;
  }

  /** Binds `addr` (`127.0.0.1:8000`, `:8000`, port 0 for a free port); rejects naming the address when it cannot. */
  async listen(addr: string): Promise<BoundAddress> {
    this.#address = await listen(this.server, addr);
    return this.#address;
  }

  /** Stops accepting connections and closes idle keep-alive ones; requests and tunnels in progress go on. */
  stopAccepting(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Closes everything still open: connections, upgraded tunnels and the pooled connections to the nodes. */
  close(): void {
    this.stopAccepting();
    this.server.closeAllConnections();
    for (const socket of this.#upgraded) socket.destroy();
    this.#upgraded.clear();
    this.#agent.destroy();
  }

  #callOptions(target: FrontTarget): ProxyCallOptions {
    return { target: `http://${target.addr}`, agent: this.#agent, headerTimeoutMs: 0, forwarded: this.#forwarded };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = this.options.picker.pick(this.options.targets());
    if (target === undefined) {
      writeJsonError(res, 503, NO_NODES_ERROR);
      return;
    }
    res.setHeader(FRONT_NODE_HEADER, target.nodeId);
    void this.#caller.web(req, res, this.#callOptions(target)).then((outcome) => {
      // Nothing was sent and nothing answered (the connection could not be had): the client still gets its 502.
      if (outcome.kind === 'not-sent' && !res.destroyed) writeJsonError(res, 502, ProxyErrors.unreachable);
      this.#report(outcome, target, req);
    });
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // The socket is ours from here: an error (a reset client) must not become an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
    const target = this.options.picker.pick(this.options.targets());
    if (target === undefined) {
      writeJsonErrorToSocket(socket, 503, 'Service Unavailable', NO_NODES_ERROR);
      return;
    }
    void this.#caller.upgrade(req, socket, head, this.#callOptions(target)).then((outcome) => {
      if (outcome.kind === 'not-sent' && !socket.destroyed) writeJsonErrorToSocket(socket, 502, 'Bad Gateway', ProxyErrors.unreachable);
      this.#report(outcome, target, req);
    });
  }

  /** A request that could not be parsed or whose headers came too slowly: answered as a node's proxy port does. */
  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const answer = clientErrorAnswer(err.code, err.message);
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (answer === undefined || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    writeJsonErrorToSocket(socket, answer.status, answer.reason, answer.message);
  }

  /** Logs a node the front could not reach (a client that went away is not news). */
  #report(outcome: ForwardOutcome, target: FrontTarget, req: IncomingMessage): void {
    if (outcome.kind === 'ok' || (outcome.kind === 'failed' && outcome.status < 500)) return;
    this.#log.warn('node unreachable', {
      front: this.options.name,
      'front-addr': this.#address === undefined ? '' : formatAddress(this.#address),
      'node-id': target.nodeId,
      'node-addr': target.addr,
      method: req.method,
      path: req.url,
      error: outcome.error.message,
    });
  }
}
