#!/usr/bin/env node
import { runAgent } from './agent.js';
import { runForward } from './forward.js';
import { runServer } from './server.js';
import { runStatus } from './status.js';

const USAGE = `Usage: piko-ts <command> [flags]

Commands:
  server    Run a server node (proxy, upstream, admin ports).
  agent     Register listeners on endpoints and forward to local services (http, tcp, start).
  forward   Map a local TCP port to an endpoint (tcp, start).
  status    Query a node's admin status API.
  bench     Run the benchmark suite (needs a development checkout: npm run bench).
  test      Run a cluster of nodes in one process behind a load-balancing front (test cluster --nodes 3).

Run 'piko-ts <command> --help' for the flags of a command.
`;

/** The `piko-ts` command. */
async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case 'agent':
      return runAgent(rest);
    case 'forward':
      return runForward(rest);
    case 'status':
      return runStatus(rest);
    case 'test': {
      const { runTestCommand } = await import('./test-cluster.js');
      return runTestCommand(rest);
    }
    case 'bench': {
      const { runBench } = await import('./bench.js');
      return runBench(rest);
    }
    case undefined:
      // A bare command is a usage error (a script that forgot its subcommand must not look successful).
      process.stderr.write(`piko-ts: missing command\n\n${USAGE}`);
      process.exit(1);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return;
    case '--version':
      process.stdout.write('piko-ts 0.1.0\n');
      return;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      process.exit(1);
  }
}

void main(process.argv.slice(2));
