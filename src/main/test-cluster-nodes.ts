import type { LogFields, Logger, LogLevel } from '../application/ports/logger.port.js';
import type { FrontTarget } from '../adapters/front/front-proxy.js';
import { formatAddress } from '../adapters/platform/net/listen.js';
import { GossipClusterMembership } from '../adapters/server/cluster/gossip/gossip-cluster-membership.adapter.js';
import { buildServerContainer } from './create-server.js';
import type { ServerNode } from './server-node.js';
import { testClusterNodeConfig, type TestClusterConfig } from './test-cluster-config.js';
import { TOKENS } from './tokens.js';

/** The port of a node a front stands for. */
export type NodePort = 'proxy' | 'upstream' | 'admin';

/** A started node of the test cluster and where it listens (`host:port` each). */
export interface TestClusterNodeInfo {
  readonly id: string;
  readonly proxy: string;
  readonly upstream: string;
  readonly admin: string;
  readonly gossip: string;
}

interface RunningNode {
  readonly info: TestClusterNodeInfo;
  readonly node: ServerNode;
}

/**
 * Adds `node` (the ID of the node that logs) to every record of a node, so that the lines of N nodes sharing one
 * stderr can be told apart; `node-id` stays what the record says (the peer a gossip line is about). Children keep
 * the tag.
 */
export class NodeTaggedLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly nodeId: string,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.inner.debug(message, this.#tag(fields));
  }

  info(message: string, fields?: LogFields): void {
    this.inner.info(message, this.#tag(fields));
  }

  warn(message: string, fields?: LogFields): void {
    this.inner.warn(message, this.#tag(fields));
  }

  error(message: string, fields?: LogFields): void {
    this.inner.error(message, this.#tag(fields));
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.inner.log(level, message, this.#tag(fields));
  }

  child(subsystem: string): Logger {
    return new NodeTaggedLogger(this.inner.child(subsystem), this.nodeId);
  }

  #tag(fields: LogFields | undefined): LogFields {
    return { node: this.nodeId, ...fields };
  }
}

/**
 * The nodes of `piko-ts test cluster`, oldest first. Each node is a full server built by the server's container
 * (`buildServerContainer`) from a loopback configuration, and joins the gossip addresses of every node already
 * running. Changes are applied one at a time, in the order asked (a SIGHUP while nodes are starting waits for
 * them); a node leaves {@link targets} before it is stopped, so the fronts stop choosing it first.
 * Mutated only on the event loop.
 */
export class TestClusterNodes {
  #running: RunningNode[] = [];
  #started = 0;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();
  readonly #log: Logger;

  constructor(
    private readonly config: TestClusterConfig,
    private readonly logger: Logger,
  ) {
    this.#log = logger.child('test-cluster');
  }

  /** The running nodes, oldest first. */
  get nodes(): readonly TestClusterNodeInfo[] {
    return this.#running.map((r) => r.info);
  }

  /** Where a front sends: the given port of every running node, oldest first. */
  targets(port: NodePort): FrontTarget[] {
    return this.#running.map(({ info }) => ({ nodeId: info.id, addr: info[port] }));
  }

  /**
   * Starts nodes, or stops the oldest ones, until `count` are running. Resolves when done; rejects with the first
   * node that failed to start (the nodes started before it keep running). Does nothing once {@link stopAll} ran.
   */
  resize(count: number): Promise<void> {
    return this.#enqueue(async () => {
      while (!this.#closed && this.#running.length < count) await this.#startOne();
      while (!this.#closed && this.#running.length > count) await this.#stopOldest();
    });
  }

  /**
   * Stops every node, newest first, each with the server's ordered stop (not ready, leave the cluster, go-away to
   * its agents, drain, close) within the grace period. Calling it again returns once the first call is done.
   */
  stopAll(): Promise<void> {
    this.#closed = true;
    return this.#enqueue(async () => {
      while (this.#running.length > 0) {
        const last = this.#running.pop() as RunningNode;
        await this.#stop(last);
      }
    });
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    // The queue goes on after a failed task; the caller sees the failure through `run`.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #startOne(): Promise<void> {
    const id = `node-${++this.#started}`;
    const join = this.#running.map((r) => r.info.gossip);
    const config = testClusterNodeConfig(this.config, id, join);
    const container = buildServerContainer(config, { logger: new NodeTaggedLogger(this.logger, id) });
    const node = container.get(TOKENS.ServerNode);
    const addresses = await node.start();
    const membership = container.get(GossipClusterMembership);
    // As `startServerNode` does: wait for the join, and do not run a node that could not reach the others.
    if (join.length > 0) {
      const result = await membership.joined;
      if (!result.joined) {
        await node.stop();
        throw new Error(`test cluster: ${id} could not join ${join.join(', ')} within ${config.cluster.joinTimeoutMs} ms`);
      }
    }
    const info: TestClusterNodeInfo = {
      id,
      proxy: formatAddress(addresses.proxy),
      upstream: formatAddress(addresses.upstream),
      admin: formatAddress(addresses.admin),
      gossip: membership.advertiseAddr,
    };
    this.#running.push({ info, node });
    this.#log.info('node started', {
      'node-id': id,
      'proxy-addr': info.proxy,
      'upstream-addr': info.upstream,
      'admin-addr': info.admin,
      'gossip-addr': info.gossip,
      nodes: this.#running.length,
    });
  }

  async #stopOldest(): Promise<void> {
    const oldest = this.#running.shift();
    if (oldest !== undefined) await this.#stop(oldest);
  }

  async #stop({ info, node }: RunningNode): Promise<void> {
    this.#log.info('stopping node', { 'node-id': info.id });
    await node.stop();
    this.#log.info('node stopped', { 'node-id': info.id, nodes: this.#running.length });
  }
}
