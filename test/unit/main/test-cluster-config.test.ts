import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/adapters/platform/config/errors.js';
import {
  loadTestClusterConfig,
  MAX_TEST_CLUSTER_NODES,
  testClusterHelp,
  testClusterNodeConfig,
  type TestClusterConfig,
} from '../../../src/main/test-cluster-config.js';

/** Loads with `argv`, `env` and an in-memory file system; fails the test on help. */
function load(argv: readonly string[], env: Record<string, string> = {}, files: Record<string, string> = {}): TestClusterConfig {
  const result = loadTestClusterConfig(argv, env, (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
    return text;
  });
  if (result.kind !== 'config') throw new Error('unexpected help');
  return result.config;
}

/** The message of the ConfigError `argv` raises. */
function errorOf(argv: readonly string[], env: Record<string, string> = {}, files: Record<string, string> = {}): string {
  try {
    load(argv, env, files);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('loadTestClusterConfig', () => {
  describe('having no flag', () => {
    it("is Piko's three nodes behind fronts on 127.0.0.1:8000/8001/8002, round-robin", () => {
      assert.deepEqual(load([]), {
        nodes: 3,
        balance: 'round-robin',
        proxy: { bindAddr: '127.0.0.1:8000' },
        upstream: { bindAddr: '127.0.0.1:8001' },
        admin: { bindAddr: '127.0.0.1:8002' },
        gossipIntervalMs: 50,
        gracePeriodMs: 10_000,
        log: { level: 'info', subsystems: [] },
      });
    });
  });

  describe('having flags, variables and a file', () => {
    it('reads every key from its flag', () => {
      const config = load([
        '--nodes', '5', '--balance', 'random', '--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr=127.0.0.1:0',
        '--admin.bind-addr', '[::1]:0', '--cluster.gossip.interval', '20ms', '--grace-period', '1m', '--log.level', 'debug',
        '--log.subsystems', 'proxy,front',
      ]);
      assert.equal(config.nodes, 5);
      assert.equal(config.balance, 'random');
      assert.deepEqual([config.proxy.bindAddr, config.upstream.bindAddr, config.admin.bindAddr], ['127.0.0.1:0', '127.0.0.1:0', '[::1]:0']);
      assert.equal(config.gossipIntervalMs, 20);
      assert.equal(config.gracePeriodMs, 60_000);
      assert.deepEqual(config.log, { level: 'debug', subsystems: ['proxy', 'front'] });
    });

    it('applies flags over variables over the file over defaults', () => {
      const files = { '/c.yaml': 'nodes: 4\nbalance: random\ngrace_period: 3s\nproxy:\n  bind_addr: 127.0.0.1:9000\n' };
      const env = { PIKO_NODES: '6', PIKO_GRACE_PERIOD: '4s' };
      const config = load(['--config.path', '/c.yaml', '--nodes', '2'], env, files);
      assert.equal(config.nodes, 2, 'the flag wins');
      assert.equal(config.gracePeriodMs, 4_000, 'the variable beats the file');
      assert.equal(config.balance, 'random', 'the file beats the default');
      assert.equal(config.proxy.bindAddr, '127.0.0.1:9000');
      assert.equal(config.upstream.bindAddr, '127.0.0.1:8001', 'the default when nothing sets it');
    });

    it('is frozen', () => {
      assert.ok(Object.isFrozen(load([])));
    });
  });

  describe('having bad input', () => {
    const cases: readonly [string, readonly string[], string | RegExp][] = [
      ['no node', ['--nodes', '0'], 'config: nodes: must be a positive integer (got 0 from --nodes)'],
      ['too many nodes', ['--nodes', String(MAX_TEST_CLUSTER_NODES + 1)], `config: nodes: must be at most ${MAX_TEST_CLUSTER_NODES} (got ${MAX_TEST_CLUSTER_NODES + 1} from --nodes)`],
      ['a count that is not a number', ['--nodes', 'three'], /^config: nodes: must be a positive integer/],
      ['an unknown strategy', ['--balance', 'least-conn'], 'config: balance: must be one of round-robin, random (got "least-conn" from --balance)'],
      ['two fronts on one port', ['--proxy.bind-addr', ':9000', '--admin.bind-addr', '127.0.0.1:9000'], 'config: admin.bind_addr: overlaps proxy.bind_addr (":9000")'],
      ['a bind address without a port', ['--upstream.bind-addr', '127.0.0.1'], /^config: upstream\.bind_addr: must be host:port/],
      ['a zero gossip interval', ['--cluster.gossip.interval', '0s'], /^config: cluster\.gossip\.interval: must be a non-zero duration/],
      ['an unknown flag', ['--node', '3'], /^config: --node: unknown flag \(did you mean --nodes\?\)/],
      ['a server flag', ['--proxy.timeout', '5s'], /^config: --proxy\.timeout: unknown flag/],
      ['a positional', ['extra'], 'config: test cluster: unexpected argument "extra"'],
    ];
    for (const [what, argv, expected] of cases) {
      it(`refuses ${what} with one line naming it`, () => {
        const message = errorOf(argv);
        if (typeof expected === 'string') assert.equal(message, expected);
        else assert.match(message, expected);
      });
    }

    it('names an unknown key of the file', () => {
      assert.match(errorOf(['--config.path', '/c.yaml'], {}, { '/c.yaml': 'node: 3\n' }), /^config: node: unknown key \(did you mean nodes\?\)/);
    });

    it('names a file it cannot read', () => {
      assert.match(errorOf(['--config.path', '/missing.yaml']), /^config: \/missing\.yaml: cannot read file/);
    });
  });

  describe('having --help', () => {
    it('returns the help page, whatever else is wrong', () => {
      const result = loadTestClusterConfig(['--nodes', '0', '--help'], {});
      assert.equal(result.kind, 'help');
    });
  });
});

describe('testClusterHelp', () => {
  it('lists every flag with its default and variable, and says how the cluster stops', () => {
    const help = testClusterHelp();
    assert.match(help, /^Usage: piko-ts test cluster \[flags\]/);
    for (const flag of ['--nodes int', '--balance string', '--proxy.bind-addr host:port', '--upstream.bind-addr', '--admin.bind-addr', '--cluster.gossip.interval duration', '--grace-period', '--log.level', '--config.path']) {
      assert.ok(help.includes(flag), flag);
    }
    assert.match(help, /\(default 3, env PIKO_NODES\)/);
    assert.match(help, /\(default\s+"127\.0\.0\.1:8000", env\s+PIKO_PROXY_BIND_ADDR\)/);
    assert.match(help, /SIGTERM or SIGINT stops every node/);
    assert.match(help, /x-piko-front-node/);
    for (const line of help.split('\n')) assert.ok(line.length <= 100, `line too long: ${line}`);
  });
});

describe('testClusterNodeConfig', () => {
  const cluster = load(['--cluster.gossip.interval', '20ms', '--grace-period', '2s', '--log.level', 'warn', '--log.subsystems', 'gossip']);

  it('puts every port of the node on 127.0.0.1 with a free port, whatever the fronts use', () => {
    const config = testClusterNodeConfig(cluster, 'node-1', []);
    assert.equal(config.cluster.nodeId, 'node-1');
    assert.deepEqual(
      [config.proxy.bindAddr, config.upstream.bindAddr, config.admin.bindAddr, config.cluster.gossip.bindAddr],
      ['127.0.0.1:0', '127.0.0.1:0', '127.0.0.1:0', '127.0.0.1:0'],
    );
  });

  it("carries the cluster's gossip interval, grace period and log settings", () => {
    const config = testClusterNodeConfig(cluster, 'node-1', []);
    assert.equal(config.cluster.gossip.intervalMs, 20);
    assert.equal(config.gracePeriodMs, 2_000);
    assert.deepEqual(config.log, { level: 'warn', subsystems: ['gossip'] });
  });

  it('joins the nodes already running, and nobody for the first', () => {
    assert.deepEqual(testClusterNodeConfig(cluster, 'node-1', []).cluster.join, []);
    assert.deepEqual(testClusterNodeConfig(cluster, 'node-3', ['127.0.0.1:4001', '127.0.0.1:4002']).cluster.join, ['127.0.0.1:4001', '127.0.0.1:4002']);
  });

  it("trusts the front's X-Forwarded-Host/-Proto/-Port (it connects from 127.0.0.1)", () => {
    assert.deepEqual(testClusterNodeConfig(cluster, 'node-1', []).proxy.http.trustedProxies, ['127.0.0.1']);
  });

  it('keeps the server defaults for everything else', () => {
    const config = testClusterNodeConfig(cluster, 'node-1', []);
    assert.equal(config.proxy.timeoutMs, 30_000);
    assert.equal(config.cluster.abortIfJoinFails, true);
  });
});
