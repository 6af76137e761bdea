import type { Logger } from '../application/ports/logger.port.js';
import { FrontProxy } from '../adapters/front/front-proxy.js';
import { pickerFor } from '../adapters/front/node-picker.js';
import { SystemClock } from '../adapters/platform/clock/system-clock.js';
import { formatAddress } from '../adapters/platform/net/listen.js';
import { failStartup, loadOrExit, onShutdownSignal } from './run.js';
import { table } from './status.js';
import { loadTestClusterConfig, type TestClusterConfig } from './test-cluster-config.js';
import { TestClusterNodes, type NodePort, type TestClusterNodeInfo } from './test-cluster-nodes.js';

const TEST_USAGE = `Usage: piko-ts test <command> [flags]

Commands:
  cluster   Run a cluster of server nodes in this process behind a load-balancing front (try piko-ts on one machine).

Run 'piko-ts test cluster --help' for its flags.
`;

/** `piko-ts test <command>`: only `cluster` for now, as in Piko. */
export async function runTestCommand(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'cluster') return runTestCluster(rest);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(TEST_USAGE);
    return;
  }
  process.stderr.write(`test: ${command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}`}\n\n${TEST_USAGE}`);
  process.exit(1);
}

const PORTS: readonly NodePort[] = ['proxy', 'upstream', 'admin'];

/**
 * `piko-ts test cluster`: binds the three fronts (proxy, upstream, admin; 127.0.0.1:8000/8001/8002 by default),
 * starts `nodes` server nodes on loopback, each joining those before it, prints the fronts and the nodes (one
 * JSON log line on stderr, a table on stdout), then runs until SIGTERM/SIGINT: the fronts stop accepting, every
 * node is stopped with the server's ordered stop, and the process exits 0. SIGHUP re-reads the configuration and
 * starts nodes or stops the oldest until `nodes` run. A bad configuration or a front that cannot bind exits 1.
 */
export async function runTestCluster(argv: readonly string[]): Promise<void> {
  const loaded = loadOrExit(() => loadTestClusterConfig(argv, process.env), 'test-cluster');
  if (loaded === undefined) return;
  const { config, logger } = loaded;
  const log = logger.child('test-cluster');
  const nodes = new TestClusterNodes(config, logger);
  const clock = new SystemClock();
  const fronts = new Map(
    PORTS.map((port) => [
      port,
      new FrontProxy({ name: port, targets: () => nodes.targets(port), picker: pickerFor(config.balance), clock, logger }),
    ]),
  );
  const closeFronts = (): void => fronts.forEach((front) => front.close());
  let stopping = false;
  // Installed before anything starts: a signal during start-up stops what has started (the nodes' queue lets the
  // node being started finish, then stops every node) and still exits 0.
  onShutdownSignal(async () => {
    stopping = true;
    // No new client, agent or status connection; those open finish while their node drains.
    fronts.forEach((front) => front.stopAccepting());
    await nodes.stopAll();
    closeFronts();
    log.info('test cluster stopped');
  }, log);
  process.on('SIGHUP', () => {
    if (!stopping) reload(argv, nodes, log);
  });
  try {
    // The fronts first: a taken port fails at once, before any node has started.
    for (const [port, front] of fronts) await front.listen(config[port].bindAddr);
    await nodes.resize(config.nodes);
  } catch (err) {
    if (stopping) return;
    closeFronts();
    await nodes.stopAll();
    failStartup(err);
  }
  if (stopping) return;
  const frontAddr = (port: NodePort): string => formatAddress((fronts.get(port) as FrontProxy).address);
  log.info('test cluster started', {
    'proxy-addr': frontAddr('proxy'),
    'upstream-addr': frontAddr('upstream'),
    'admin-addr': frontAddr('admin'),
    balance: config.balance,
    nodes: nodes.nodes.map(nodeFields),
  });
  process.stdout.write(summary(config, frontAddr, nodes.nodes));
}

/** SIGHUP: the configuration again (flags > environment > file), and `nodes` applied; anything else is kept. */
function reload(argv: readonly string[], nodes: TestClusterNodes, log: Logger): void {
  let wanted: number;
  try {
    const loaded = loadTestClusterConfig(argv, process.env);
    if (loaded.kind !== 'config') return;
    wanted = loaded.config.nodes;
  } catch (err) {
    log.error('reload failed: the cluster is unchanged', { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  log.info('reloading: resizing the cluster', { nodes: wanted, running: nodes.nodes.length });
  nodes.resize(wanted).then(
    () => log.info('cluster resized', { nodes: nodes.nodes.map(nodeFields) }),
    (err: unknown) => log.error('resize failed', { error: err instanceof Error ? err.message : String(err), running: nodes.nodes.length }),
  );
}

const nodeFields = (n: TestClusterNodeInfo) => ({
  'node-id': n.id,
  'proxy-addr': n.proxy,
  'upstream-addr': n.upstream,
  'admin-addr': n.admin,
  'gossip-addr': n.gossip,
});

/** The readable start-up summary: the fronts with what to point at them, then every node. */
export function summary(config: TestClusterConfig, frontAddr: (port: NodePort) => string, nodes: readonly TestClusterNodeInfo[]): string {
  const fronts = table(
    ['FRONT', 'ADDRESS', 'FOR'],
    [
      ['proxy', frontAddr('proxy'), `clients: curl -H 'x-piko-endpoint: my-app' http://${frontAddr('proxy')}/`],
      ['upstream', frontAddr('upstream'), `agents: piko-ts agent http my-app 3000 --connect.url http://${frontAddr('upstream')}`],
      ['admin', frontAddr('admin'), `status: piko-ts status cluster nodes --server.url http://${frontAddr('admin')}`],
    ],
  );
  const rows = table(
    ['NODE', 'PROXY', 'UPSTREAM', 'ADMIN', 'GOSSIP'],
    nodes.map((n) => [n.id, n.proxy, n.upstream, n.admin, n.gossip]),
  );
  return `piko-ts test cluster: ${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${config.balance} (Ctrl-C stops them)\n\n${fronts}\n${rows}`;
}
