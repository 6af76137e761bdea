import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { generateNodeIdSuffix, loadServerConfig } from '../../../../../src/adapters/platform/config/load-config.js';
import type { AccessLogConfig, ServerConfig } from '../../../../../src/adapters/platform/config/types.js';
import { assertConfigError, CONFIG_PATH, loaded, server, withFile } from './config-test-helpers.js';

const ACCESS_LOG: AccessLogConfig = {
  level: 'info',
  disable: false,
  requestHeaders: { allowList: [], blockList: [] },
  responseHeaders: { allowList: [], blockList: [] },
};

/** A port's auth group at its defaults: auth off. */
const NO_AUTH = {
  hmacSecretKey: '',
  rsaPublicKey: '',
  ecdsaPublicKey: '',
  audience: '',
  issuer: '',
  disableDisconnectOnExpiry: false,
  leewayMs: 5_000,
  jwks: { endpoint: '', cacheTtlMs: 0, timeoutMs: 0 },
} as const;

/** A port's TLS group at its defaults: plain HTTP. */
const NO_TLS = { cert: '', key: '', clientCas: '' } as const;
/** The node-to-node client TLS at its defaults. */
const NO_PEER_TLS = { cert: '', key: '', rootCas: '', insecureSkipVerify: false, serverName: '' } as const;

/** Every resolved default, written out (T8): a change here is a visible behaviour change. */
const DEFAULTS: ServerConfig = {
  proxy: {
    bindAddr: ':8000',
    advertiseAddr: '',
    timeoutMs: 30_000,
    accessLog: ACCESS_LOG,
    http: {
      readTimeoutMs: 10_000,
      readHeaderTimeoutMs: 10_000,
      writeTimeoutMs: 10_000,
      idleTimeoutMs: 300_000,
      maxHeaderBytes: 1_048_576,
      trustedProxies: [],
      maxConnectionsPerIp: 0,
    },
    tcp: { maxMessageBytes: 4_194_304 },
    upstreamWaitMs: 0,
    auth: { ...NO_AUTH, passAuthorization: false },
    tls: { ...NO_TLS, client: NO_PEER_TLS },
  },
  upstream: {
    bindAddr: ':8001',
    advertiseAddr: '',
    maxStreamsPerSession: 8192,
    keepaliveIntervalMs: 30_000,
    keepaliveTimeoutMs: 10_000,
    maxQueuedControlFrames: 1024,
    maxMessageBytes: 4_194_304,
    rebalance: { threshold: 0, shedRate: 0.005, minConns: 50 },
    auth: NO_AUTH,
    tls: NO_TLS,
    tenants: [],
  },
  admin: { bindAddr: ':8002', advertiseAddr: '', auth: NO_AUTH, tls: { ...NO_TLS, client: NO_PEER_TLS } },
  cluster: {
    nodeId: 'abc1234',
    nodeIdPrefix: '',
    join: [],
    joinTimeoutMs: 60_000,
    abortIfJoinFails: true,
    gossip: { bindAddr: ':8003', advertiseAddr: '', intervalMs: 100, maxPacketSize: 1400, secretKey: '' },
  },
  log: { level: 'info', subsystems: [] },
  gracePeriodMs: 60_000,
};

const FULL_YAML = `
proxy:
  bind_addr: "127.0.0.1:9000"
  advertise_addr: "10.0.0.1:9000"
  timeout: 45s
  access_log:
    level: warn
    request_headers:
      allow_list: [X-Request-Id, user-agent]
    response_headers:
      block_list: [Set-Cookie]
    disable: true
  http:
    read_timeout: 1m
    read_header_timeout: 2s
    write_timeout: 0
    idle_timeout: 1h30m
    max_header_bytes: 65536
  upstream_wait: 5s
  tls:
    cert: /etc/piko/proxy.crt
    key: /etc/piko/proxy.key
    client_cas: /etc/piko/clients.pem
    client:
      cert: /etc/piko/node.crt
      key: /etc/piko/node.key
      root_cas: /etc/piko/nodes-ca.pem
      server_name: piko.internal
upstream:
  bind_addr: "[::1]:9001"
  advertise_addr: "node-a.internal:9001"
  max_streams_per_session: 100
  keepalive_interval: 15s
  keepalive_timeout: 5s
  max_queued_control_frames: 64
  max_message_bytes: 1048576
  rebalance:
    threshold: 0.2
    shed_rate: 0.01
    min_conns: 10
  auth:
    hmac_secret_key: upstream-secret
    issuer: https://issuer.example.com
    disable_disconnect_on_expiry: true
    leeway: 0s
  tls:
    cert: /etc/piko/upstream.crt
    key: /etc/piko/upstream.key
admin:
  bind_addr: "localhost:0"
  advertise_addr: "10.0.0.1:9002"
  auth:
    audience: piko-admin
    jwks:
      endpoint: https://idp.example.com/jwks.json
      cache_ttl: 10m
      timeout: 5s
cluster:
  node_id: node-a
  node_id_prefix: pod-
  join: [piko-0.piko, "10.0.0.2:8003"]
  join_timeout: 30s
  abort_if_join_fails: false
  gossip:
    bind_addr: "10.0.0.1:9003"
    advertise_addr: "node-a.internal:9003"
    interval: 200ms
    max_packet_size: 9000
    secret_key: gossip-secret
log:
  level: debug
  subsystems: [proxy, upstream]
grace_period: 2m
`;

const FULL: ServerConfig = {
  proxy: {
    bindAddr: '127.0.0.1:9000',
    advertiseAddr: '10.0.0.1:9000',
    timeoutMs: 45_000,
    accessLog: {
      level: 'warn',
      disable: true,
      requestHeaders: { allowList: ['x-request-id', 'user-agent'], blockList: [] },
      responseHeaders: { allowList: [], blockList: ['set-cookie'] },
    },
    http: { readTimeoutMs: 60_000, readHeaderTimeoutMs: 2_000, writeTimeoutMs: 0, idleTimeoutMs: 5_400_000, maxHeaderBytes: 65_536, trustedProxies: [], maxConnectionsPerIp: 0 },
    tcp: { maxMessageBytes: 4_194_304 },
    upstreamWaitMs: 5_000,
    auth: { ...NO_AUTH, passAuthorization: false },
    tls: {
      cert: '/etc/piko/proxy.crt',
      key: '/etc/piko/proxy.key',
      clientCas: '/etc/piko/clients.pem',
      client: { cert: '/etc/piko/node.crt', key: '/etc/piko/node.key', rootCas: '/etc/piko/nodes-ca.pem', insecureSkipVerify: false, serverName: 'piko.internal' },
    },
  },
  upstream: {
    bindAddr: '[::1]:9001',
    advertiseAddr: 'node-a.internal:9001',
    maxStreamsPerSession: 100,
    keepaliveIntervalMs: 15_000,
    keepaliveTimeoutMs: 5_000,
    maxQueuedControlFrames: 64,
    maxMessageBytes: 1_048_576,
    rebalance: { threshold: 0.2, shedRate: 0.01, minConns: 10 },
    auth: { ...NO_AUTH, hmacSecretKey: 'upstream-secret', issuer: 'https://issuer.example.com', disableDisconnectOnExpiry: true, leewayMs: 0 },
    tls: { cert: '/etc/piko/upstream.crt', key: '/etc/piko/upstream.key', clientCas: '' },
    tenants: [],
  },
  admin: {
    bindAddr: 'localhost:0',
    advertiseAddr: '10.0.0.1:9002',
    auth: { ...NO_AUTH, audience: 'piko-admin', jwks: { endpoint: 'https://idp.example.com/jwks.json', cacheTtlMs: 600_000, timeoutMs: 5_000 } },
    tls: { ...NO_TLS, client: NO_PEER_TLS },
  },
  cluster: {
    nodeId: 'node-a',
    nodeIdPrefix: 'pod-',
    join: ['piko-0.piko', '10.0.0.2:8003'],
    joinTimeoutMs: 30_000,
    abortIfJoinFails: false,
    gossip: { bindAddr: '10.0.0.1:9003', advertiseAddr: 'node-a.internal:9003', intervalMs: 200, maxPacketSize: 9000, secretKey: 'gossip-secret' },
  },
  log: { level: 'debug', subsystems: ['proxy', 'upstream'] },
  gracePeriodMs: 120_000,
};

describe('loadServerConfig', () => {
  describe('having no flags, variables or file', () => {
    it('resolves every default (T8)', () => {
      const result = server();
      assert.deepEqual(result.config, DEFAULTS);
      assert.deepEqual(result.warnings, []);
    });

    it('deep-freezes the result', () => {
      const { config, warnings } = server();
      for (const part of [config, config.proxy, config.proxy.http, config.proxy.accessLog.requestHeaders.allowList, config.log.subsystems, warnings]) {
        assert.ok(Object.isFrozen(part));
      }
      assert.throws(() => {
        (config.proxy as { timeoutMs: number }).timeoutMs = 1;
      }, TypeError);
    });
  });

  describe('having a YAML file', () => {
    it('maps every key to the typed config', () => assert.deepEqual(server([], {}, FULL_YAML).config, FULL));

    it('accepts an empty file and a file of comments', () => {
      assert.deepEqual(server([], {}, '').config, DEFAULTS);
      assert.deepEqual(server([], {}, '# nothing here\n').config, DEFAULTS);
    });

    it('treats a group whose keys are all commented out as absent', () => {
      assert.deepEqual(server([], {}, 'proxy:\n#  bind_addr: ":1"\nlog:\n').config, DEFAULTS);
    });

    it('reads a YAML number given for a text key as its digits, as yaml.v3 does', () => {
      const { config } = server([], {}, 'cluster:\n  node_id: 42\n  node_id_prefix: 7\n');
      assert.equal(config.cluster.nodeId, '42');
      assert.equal(config.cluster.nodeIdPrefix, '7');
    });

    it('accepts a YAML number for an integer and quoted text for a boolean', () => {
      const { config } = server([], {}, 'proxy:\n  http:\n    max_header_bytes: "4096"\n  access_log:\n    disable: "true"\n');
      assert.equal(config.proxy.http.maxHeaderBytes, 4096);
      assert.equal(config.proxy.accessLog.disable, true);
    });

    it('loads the commented example config/server.yaml to the defaults, so it documents them', () => {
      const path = fileURLToPath(new URL('../../../../../../config/server.yaml', import.meta.url));
      const result = loaded(loadServerConfig(['--config.path', path], {}, { nodeIdSuffix: () => 'abc1234' }));
      assert.deepEqual(result, { kind: 'config', config: DEFAULTS, warnings: [] });
    });

    it('reads the file from disk by default', () => {
      const dir = mkdtempSync(join(tmpdir(), 'piko-config-'));
      try {
        const path = join(dir, 'server.yaml');
        writeFileSync(path, 'proxy:\n  timeout: 5s\n');
        const { config } = loaded(loadServerConfig(['--config.path', path], {}));
        assert.equal(config.proxy.timeoutMs, 5_000);
      } finally {
        rmSync(dir, { recursive: true });
      }
    });
  });

  describe('having PIKO_* variables', () => {
    const table: readonly [Record<string, string>, (c: ServerConfig) => unknown, unknown][] = [
      [{ PIKO_PROXY_BIND_ADDR: ':7000' }, (c) => c.proxy.bindAddr, ':7000'],
      [{ PIKO_PROXY_TIMEOUT: '1s' }, (c) => c.proxy.timeoutMs, 1_000],
      [{ PIKO_PROXY_ACCESS_LOG_DISABLE: 'true' }, (c) => c.proxy.accessLog.disable, true],
      [{ PIKO_PROXY_ACCESS_LOG_REQUEST_HEADERS_BLOCK_LIST: 'Cookie,authorization' }, (c) => c.proxy.accessLog.requestHeaders.blockList, ['cookie', 'authorization']],
      [{ PIKO_PROXY_HTTP_MAX_HEADER_BYTES: '2048' }, (c) => c.proxy.http.maxHeaderBytes, 2048],
      [{ PIKO_UPSTREAM_MAX_STREAMS_PER_SESSION: '16' }, (c) => c.upstream.maxStreamsPerSession, 16],
      [{ PIKO_CLUSTER_NODE_ID: 'env-node' }, (c) => c.cluster.nodeId, 'env-node'],
      [{ PIKO_LOG_SUBSYSTEMS: 'proxy,admin' }, (c) => c.log.subsystems, ['proxy', 'admin']],
      [{ PIKO_GRACE_PERIOD: '5s' }, (c) => c.gracePeriodMs, 5_000],
    ];
    for (const [env, read, expected] of table) {
      it(`maps ${Object.keys(env).join()}`, () => assert.deepEqual(read(server([], env).config), expected));
    }

    it('treats empty variables as unset', () => {
      assert.deepEqual(server([], { PIKO_PROXY_TIMEOUT: '', PIKO_NOT_A_KEY: '' }).config, DEFAULTS);
    });

    it('ignores variables of the agent and variables without the PIKO_ prefix', () => {
      assert.deepEqual(server([], { PIKO_CONNECT_URL: 'http://x:1', PIKO_LISTENER_TIMEOUT: '1s', PATH: '/bin', piko_proxy_timeout: 'x' }).config, DEFAULTS);
    });

    it('warns once about PIKO_ variables that match no key, and starts', () => {
      const loaded = server([], { PIKO_PROXY_TIMEOUTS: '1s' });
      assert.deepEqual(loaded.config, DEFAULTS);
      assert.deepEqual(loaded.warnings, ['ignoring unknown environment variable: PIKO_PROXY_TIMEOUTS (did you mean PIKO_PROXY_TIMEOUT?)']);
    });

    it('starts with the variables Kubernetes injects for a Service named piko (issue 7)', () => {
      const env = {
        PIKO_PORT: 'tcp://10.0.0.1:8000',
        PIKO_SERVICE_HOST: '10.0.0.1',
        PIKO_SERVICE_PORT: '8000',
        PIKO_PORT_8000_TCP: 'tcp://10.0.0.1:8000',
        PIKO_PORT_8000_TCP_ADDR: '10.0.0.1',
        PIKO_PORT_8000_TCP_PORT: '8000',
        PIKO_PORT_8000_TCP_PROTO: 'tcp',
        PIKO_TOKEN: 'secret-used-by-expand-env',
      };
      const loaded = server([], env);
      assert.deepEqual(loaded.config, DEFAULTS);
      assert.equal(loaded.warnings.length, 1);
      assert.match(loaded.warnings[0] ?? '', /^ignoring unknown environment variables: PIKO_PORT/);
      assert.match(loaded.warnings[0] ?? '', /PIKO_TOKEN/);
      assert.doesNotMatch(loaded.warnings[0] ?? '', /secret-used-by-expand-env/, 'values are never printed');
    });

    it('still rejects an unknown flag', () => {
      assertConfigError(() => server(['--proxy.timeouts', '1s']), 'CONFIG_USAGE', /proxy\.timeouts/);
    });
  });

  describe('having one key set in several layers', () => {
    // Flags > env > file > defaults. Piko lets the file win over flags (§15 #1); we do not.
    const table: readonly [string, { file?: string; env?: string; flag?: string }, number][] = [
      ['default', {}, 30_000],
      ['file over default', { file: '1s' }, 1_000],
      ['env over file', { file: '1s', env: '2s' }, 2_000],
      ['flag over env', { file: '1s', env: '2s', flag: '3s' }, 3_000],
      ['flag over file', { file: '1s', flag: '3s' }, 3_000],
      ['env over default', { env: '2s' }, 2_000],
    ];
    for (const [name, layers, expected] of table) {
      it(`${name} → ${expected} ms`, () => {
        const yaml = layers.file === undefined ? undefined : `proxy:\n  timeout: ${layers.file}\n`;
        const env = layers.env === undefined ? {} : { PIKO_PROXY_TIMEOUT: layers.env };
        const argv = layers.flag === undefined ? [] : ['--proxy.timeout', layers.flag];
        assert.equal(server(argv, env, yaml).config.proxy.timeoutMs, expected);
      });
    }

    it('replaces a list rather than merging it', () => {
      const { config } = server(['--log.subsystems', 'admin'], { PIKO_LOG_SUBSYSTEMS: 'upstream' }, 'log:\n  subsystems: [proxy]\n');
      assert.deepEqual(config.log.subsystems, ['admin']);
    });

    it('lets a flag clear a list set in the file', () => {
      assert.deepEqual(server(['--log.subsystems='], {}, 'log:\n  subsystems: [proxy]\n').config.log.subsystems, []);
    });

    it('finds the file from PIKO_CONFIG_PATH, and --config.path wins over it', () => {
      const options = withFile('proxy:\n  timeout: 9s\n');
      assert.equal(loaded(loadServerConfig([], { PIKO_CONFIG_PATH: CONFIG_PATH }, options)).config.proxy.timeoutMs, 9_000);
      assertConfigError(
        () => loadServerConfig(['--config.path', '/elsewhere.yaml'], { PIKO_CONFIG_PATH: CONFIG_PATH }, options),
        'CONFIG_FILE',
        "config: /elsewhere.yaml: cannot read file (ENOENT: no such file or directory, open '/elsewhere.yaml')",
      );
    });
  });

  describe('having --config.expand-env', () => {
    const yaml = 'proxy:\n  bind_addr: "${HOST:0.0.0.0}:$PORT"\n  advertise_addr: ${ADVERTISE}\ncluster:\n  node_id: ${NODE:node-x}\n';
    const env = { PORT: '7000', ADVERTISE: '10.1.1.1:7000', NODE: '' };

    it('expands ${VAR}, $VAR and ${VAR:default} from the environment given', () => {
      const { config } = server(['--config.expand-env'], env, yaml);
      assert.equal(config.proxy.bindAddr, '0.0.0.0:7000');
      assert.equal(config.proxy.advertiseAddr, '10.1.1.1:7000');
      assert.equal(config.cluster.nodeId, 'node-x');
    });

    it('is also turned on by PIKO_CONFIG_EXPAND_ENV', () => {
      assert.equal(server([], { ...env, PIKO_CONFIG_EXPAND_ENV: 'true' }, yaml).config.proxy.bindAddr, '0.0.0.0:7000');
    });

    it('leaves the text alone without it', () => {
      assertConfigError(
        () => server([], env, yaml),
        'CONFIG_INVALID_VALUE',
        'config: proxy.bind_addr: must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000 (got "${HOST:0.0.0.0}:$PORT")',
      );
    });

    it('names the file when an expansion is malformed', () => {
      assertConfigError(
        () => server(['--config.expand-env'], {}, 'a: ${B\n'),
        'CONFIG_FILE',
        `config: ${CONFIG_PATH}: cannot expand environment: unterminated \${ on line 1`,
      );
    });
  });

  describe('having unknown keys or flags', () => {
    const table: readonly [string, string][] = [
      ['nope: 1\n', 'config: nope: unknown key'],
      ['proxy:\n  bindAddr: ":1"\n', 'config: proxy.bindAddr: unknown key (did you mean proxy.bind_addr?)'],
      ['proxy:\n  bind-addr: ":1"\n', 'config: proxy.bind-addr: unknown key (did you mean proxy.bind_addr?)'],
      ['proxy:\n  access_log:\n    levle: info\n', 'config: proxy.access_log.levle: unknown key (did you mean proxy.access_log.level?)'],
      ['proxy:\n  http:\n    max_header_bytes: 1\n    foo: 1\n', 'config: proxy.http.foo: unknown key'],
      ['config:\n  path: x\n', 'config: config: unknown key'],
      ['__proto__:\n  x: 1\n', 'config: __proto__: unknown key'],
      ['upstream:\n  tenants:\n  - id: a\n    x: 1\n', 'config: upstream.tenants[0].x: unknown key'],
    ];
    for (const [yaml, message] of table) {
      const code = message.includes('unknown key') ? 'CONFIG_UNKNOWN_KEY' : 'CONFIG_UNSUPPORTED';
      it(`rejects ${JSON.stringify(yaml)}`, () => assertConfigError(() => server([], {}, yaml), code, message));
    }

    it('rejects an unknown flag with a suggestion', () => {
      assertConfigError(() => server(['--proxy.timout', '1s']), 'CONFIG_USAGE', 'config: --proxy.timout: unknown flag (did you mean --proxy.timeout?)');
    });

    it('rejects a flag of the agent', () => {
      assertConfigError(() => server(['--connect.url', 'http://x']), 'CONFIG_USAGE', 'config: --connect.url: unknown flag');
    });

    it('rejects positional arguments', () => {
      assertConfigError(() => server(['start']), 'CONFIG_USAGE', 'config: server: unexpected argument "start"');
    });
  });

  describe('having bad values', () => {
    const table: readonly [readonly string[], Record<string, string>, string | undefined, string][] = [
      [['--proxy.timeout', '30'], {}, undefined, 'config: proxy.timeout: must be a duration like 30s (got "30" from --proxy.timeout)'],
      [[], { PIKO_PROXY_TIMEOUT: '30' }, undefined, 'config: proxy.timeout: must be a duration like 30s (got "30" from PIKO_PROXY_TIMEOUT)'],
      [[], {}, 'proxy:\n  timeout: 30\n', 'config: proxy.timeout: must be a duration like 30s (got 30)'],
      [[], {}, 'proxy:\n  timeout: "30"\n', 'config: proxy.timeout: must be a duration like 30s (got "30")'],
      [[], {}, 'proxy:\n  timeout: -1s\n', 'config: proxy.timeout: must be a duration like 30s (got "-1s")'],
      [[], {}, 'proxy:\n  timeout: 30d\n', 'config: proxy.timeout: must be a duration like 30s (got "30d")'],
      [[], {}, 'proxy:\n  timeout: 1000h\n', 'config: proxy.timeout: must be at most 596h (Node timers overflow beyond that) (got "1000h")'],
      [[], {}, 'grace_period: 0s\n', 'config: grace_period: must be a non-zero duration like 30s (got "0s")'],
      [['--log.level', 'INFO'], {}, undefined, 'config: log.level: must be one of debug, info, warn, error (got "INFO" from --log.level)'],
      [[], {}, 'proxy:\n  access_log:\n    level: verbose\n', 'config: proxy.access_log.level: must be one of debug, info, warn, error (got "verbose")'],
      [['--proxy.bind-addr', '8000'], {}, undefined, 'config: proxy.bind_addr: must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000 (got "8000" from --proxy.bind-addr)'],
      [[], {}, 'admin:\n  bind_addr: "::1:8002"\n', 'config: admin.bind_addr: must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000 (got "::1:8002")'],
      [[], {}, 'proxy:\n  advertise_addr: ":8000"\n', 'config: proxy.advertise_addr: must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000 (got ":8000")'],
      [['--proxy.access-log.disable=yes'], {}, undefined, 'config: proxy.access_log.disable: must be true or false (got "yes" from --proxy.access-log.disable)'],
      [[], {}, 'proxy:\n  access_log:\n    disable: yes\n', 'config: proxy.access_log.disable: must be true or false (got "yes")'],
      [['--proxy.http.max-header-bytes', '1MB'], {}, undefined, 'config: proxy.http.max_header_bytes: must be a positive integer (got "1MB" from --proxy.http.max-header-bytes)'],
      [[], {}, 'proxy:\n  access_log:\n    request_headers:\n      allow_list: [bad header]\n', 'config: proxy.access_log.request_headers.allow_list: must be a list of HTTP header names (got ["bad header"])'],
      [[], {}, 'proxy:\n  access_log: true\n', 'config: proxy.access_log: must be a mapping (got true)'],
      [[], {}, 'proxy:\n  timeout:\n    seconds: 30\n', 'config: proxy.timeout: must be a duration like 30s (got a mapping)'],
      [[], {}, 'proxy: ":8000"\n', 'config: proxy: must be a mapping (got ":8000")'],
      [['--cluster.node-id', 'a/b'], {}, undefined, 'config: cluster.node_id: must be empty (generated) or 1 to 128 characters of [A-Za-z0-9._-] (got "a/b" from --cluster.node-id)'],
    ];
    for (const [argv, env, yaml, message] of table) {
      it(message, () => assertConfigError(() => server(argv, env, yaml), 'CONFIG_INVALID_VALUE', message));
    }

    it('reports the first bad key in schema order, whatever the order of the layers and flags', () => {
      const message = 'config: proxy.timeout: must be a duration like 30s (got "30" from --proxy.timeout)';
      assertConfigError(() => server(['--grace-period', '0', '--log.level', 'x', '--proxy.timeout', '30']), 'CONFIG_INVALID_VALUE', message);
      assertConfigError(() => server([], { PIKO_PROXY_BIND_ADDR: 'x' }, 'grace_period: 0s\n'), 'CONFIG_INVALID_VALUE', /^config: proxy\.bind_addr: /);
    });
  });

  describe('having timeouts set to 0 (T10)', () => {
    const table: readonly [string, (c: ServerConfig) => number][] = [
      ['proxy.timeout', (c) => c.proxy.timeoutMs],
      ['proxy.http.read_timeout', (c) => c.proxy.http.readTimeoutMs],
      ['proxy.http.write_timeout', (c) => c.proxy.http.writeTimeoutMs],
      ['proxy.http.idle_timeout', (c) => c.proxy.http.idleTimeoutMs],
      ['upstream.keepalive_interval', (c) => c.upstream.keepaliveIntervalMs],
    ];
    for (const [key, read] of table) {
      for (const zero of ['0', '0s', '"0"']) {
        it(`accepts ${key}: ${zero} as no timeout`, () => {
          const [group, ...rest] = key.split('.');
          const yaml = rest.length === 1 ? `${group}:\n  ${rest[0]}: ${zero}\n` : `${group}:\n  ${rest[0]}:\n    ${rest[1]}: ${zero}\n`;
          assert.equal(read(server([], {}, yaml).config), 0);
        });
      }
      it(`accepts --${key.replaceAll('_', '-')}=0`, () => assert.equal(read(server([`--${key.replaceAll('_', '-')}=0`]).config), 0));
    }

    it('falls back to read_timeout when read_header_timeout is 0, as Go does', () => {
      const { config } = server(['--proxy.http.read-header-timeout', '0', '--proxy.http.read-timeout', '7s']);
      assert.equal(config.proxy.http.readHeaderTimeoutMs, 7_000);
    });

    it('rejects 0 where Piko requires a value', () => {
      assertConfigError(() => server(['--grace-period', '0']), 'CONFIG_INVALID_VALUE', 'config: grace_period: must be a non-zero duration like 30s (got "0" from --grace-period)');
      assertConfigError(
        () => server(['--upstream.keepalive-timeout', '0']),
        'CONFIG_INVALID_VALUE',
        'config: upstream.keepalive_timeout: must be a non-zero duration like 30s (got "0" from --upstream.keepalive-timeout)',
      );
    });
  });

  describe('having cross-field conflicts', () => {
    it('rejects allow_list together with block_list', () => {
      assertConfigError(
        () => server(['--proxy.access-log.response-headers.allow-list', 'a', '--proxy.access-log.response-headers.block-list', 'b']),
        'CONFIG_INVALID_VALUE',
        'config: proxy.access_log.response_headers: allow_list and block_list cannot both be set',
      );
    });

    it('lower-cases and de-duplicates header names', () => {
      const { config } = server(['--proxy.access-log.request-headers.block-list', 'Cookie,cookie,X-A']);
      assert.deepEqual(config.proxy.accessLog.requestHeaders.blockList, ['cookie', 'x-a']);
    });

    it('rejects two ports on the same address', () => {
      assertConfigError(() => server(['--admin.bind-addr', '127.0.0.1:8000']), 'CONFIG_INVALID_VALUE', 'config: admin.bind_addr: overlaps proxy.bind_addr (":8000")');
    });

    it('allows several ports on 0', () => {
      const { config } = server(['--proxy.bind-addr', ':0', '--upstream.bind-addr', ':0', '--admin.bind-addr', ':0']);
      assert.equal(config.admin.bindAddr, ':0');
    });
  });

  describe('having no node id', () => {
    it('generates one with the prefix', () => {
      assert.equal(server(['--cluster.node-id-prefix', 'pod-0-']).config.cluster.nodeId, 'pod-0-abc1234');
    });

    it('keeps a configured one and ignores the prefix', () => {
      assert.equal(server(['--cluster.node-id', 'fixed', '--cluster.node-id-prefix', 'pod-']).config.cluster.nodeId, 'fixed');
    });

    it('draws 7 characters of [a-z0-9] by default', () => {
      const { config } = loaded(loadServerConfig(['--cluster.node-id-prefix', 'p-'], {}));
      assert.match(config.cluster.nodeId, /^p-[a-z0-9]{7}$/);
      assert.match(generateNodeIdSuffix(), /^[a-z0-9]{7}$/);
    });
  });

  describe('having Piko options piko-ts does not implement', () => {
    it('loads them at their defaults, so Piko configs with empty sections load', () => {
      const yaml = 'proxy:\n  tls:\n    cert: ""\n  auth:\n    jwks:\n      cache_ttl: 0s\n    leeway: 5s\nupstream:\n  tenants: []\n  rebalance:\n    shed_rate: 0.005\n';
      assert.deepEqual(server([], {}, yaml), { kind: 'config', config: DEFAULTS, warnings: [] });
    });

    const rejected: readonly [readonly string[], Record<string, string>, string | undefined, string][] = [
    ];
    for (const [argv, env, yaml, message] of rejected) {
      it(`rejects ${message.split(':')[1]?.trim() ?? ''} when set (auth and TLS would silently be off)`, () => {
        assertConfigError(() => server(argv, env, yaml), 'CONFIG_UNSUPPORTED', message);
      });
    }

    it('never quotes a secret back', () => {
      assert.throws(
        () => server([], {}, 'proxy:\n  auth:\n    hmac_secret_key: [s3cr3t]\n'),
        (err: Error) => !err.message.includes('s3cr3t') && err.message.startsWith('config: proxy.auth.hmac_secret_key: '),
      );
    });

  });

  describe('having cluster, rebalance and upstream-wait settings (issue 10)', () => {
    // [key, flag value, PIKO_* value, read, value from the flag, value from the variable]
    const table: readonly [string, string, string, (c: ServerConfig) => unknown, unknown, unknown][] = [
      ['cluster.join', 'piko-0.piko,10.0.0.2:8003', 'a, b:1', (c) => c.cluster.join, ['piko-0.piko', '10.0.0.2:8003'], ['a', 'b:1']],
      ['cluster.join_timeout', '10s', '2m', (c) => c.cluster.joinTimeoutMs, 10_000, 120_000],
      ['cluster.abort_if_join_fails', 'false', 'f', (c) => c.cluster.abortIfJoinFails, false, false],
      ['cluster.gossip.bind_addr', '127.0.0.1:7946', '[::1]:7946', (c) => c.cluster.gossip.bindAddr, '127.0.0.1:7946', '[::1]:7946'],
      ['cluster.gossip.advertise_addr', '10.0.0.9:7946', 'node-a:7946', (c) => c.cluster.gossip.advertiseAddr, '10.0.0.9:7946', 'node-a:7946'],
      ['cluster.gossip.interval', '50ms', '1s', (c) => c.cluster.gossip.intervalMs, 50, 1_000],
      ['cluster.gossip.max_packet_size', '1200', '65507', (c) => c.cluster.gossip.maxPacketSize, 1200, 65_507],
      ['cluster.gossip.secret_key', 'from-flag', 'from-env', (c) => c.cluster.gossip.secretKey, 'from-flag', 'from-env'],
      ['proxy.upstream_wait', '5s', '1m30s', (c) => c.proxy.upstreamWaitMs, 5_000, 90_000],
      ['upstream.rebalance.threshold', '0.25', '3', (c) => c.upstream.rebalance.threshold, 0.25, 3],
      ['upstream.rebalance.shed_rate', '0.1', '1', (c) => c.upstream.rebalance.shedRate, 0.1, 1],
      ['upstream.rebalance.min_conns', '0', '500', (c) => c.upstream.rebalance.minConns, 0, 500],
    ];
    for (const [key, flagValue, envValue, read, fromFlag, fromEnv] of table) {
      const flag = `--${key.replaceAll('_', '-')}`;
      const variable = `PIKO_${key.toUpperCase().replaceAll('.', '_')}`;
      it(`reads ${key} from ${flag} and ${variable}, over its default`, () => {
        assert.notDeepEqual(read(DEFAULTS), fromFlag);
        assert.deepEqual(read(server([`${flag}=${flagValue}`]).config), fromFlag);
        assert.deepEqual(read(server([], { [variable]: envValue }).config), fromEnv);
        assert.deepEqual(server([`${flag}=${flagValue}`]).warnings, [], 'active: no warning');
      });
    }

    const bad: readonly [readonly string[], Record<string, string>, string | undefined, string][] = [
      [['--cluster.join', 'a b'], {}, undefined, 'config: cluster.join: must be a list of host or host:port (got ["a b"] from --cluster.join)'],
      [['--cluster.join-timeout', '0'], {}, undefined, 'config: cluster.join_timeout: must be a non-zero duration like 30s (got "0" from --cluster.join-timeout)'],
      [[], { PIKO_CLUSTER_ABORT_IF_JOIN_FAILS: 'nope' }, undefined, 'config: cluster.abort_if_join_fails: must be true or false (got "nope" from PIKO_CLUSTER_ABORT_IF_JOIN_FAILS)'],
      [['--cluster.gossip.bind-addr', '8003'], {}, undefined, 'config: cluster.gossip.bind_addr: must be host:port like :8000, 127.0.0.1:8000 or [::1]:8000 (got "8003" from --cluster.gossip.bind-addr)'],
      [[], {}, 'cluster:\n  gossip:\n    advertise_addr: ":8003"\n', 'config: cluster.gossip.advertise_addr: must be empty (inferred) or host:port with a host and a non-zero port, like 10.0.0.1:8000 (got ":8003")'],
      [['--cluster.gossip.interval', '0'], {}, undefined, 'config: cluster.gossip.interval: must be a non-zero duration like 30s (got "0" from --cluster.gossip.interval)'],
      [['--cluster.gossip.max-packet-size', '512'], {}, undefined, 'config: cluster.gossip.max_packet_size: must be an integer between 1200 and 65507 (got 512 from --cluster.gossip.max-packet-size)'],
      [[], { PIKO_CLUSTER_GOSSIP_MAX_PACKET_SIZE: '65508' }, undefined, 'config: cluster.gossip.max_packet_size: must be an integer between 1200 and 65507 (got 65508 from PIKO_CLUSTER_GOSSIP_MAX_PACKET_SIZE)'],
      [[], {}, 'cluster:\n  gossip:\n    secret_key: [s3cr3t]\n', 'config: cluster.gossip.secret_key: must be a string'],
      [['--proxy.upstream-wait', '5'], {}, undefined, 'config: proxy.upstream_wait: must be a duration like 30s (got "5" from --proxy.upstream-wait)'],
      [[], { PIKO_UPSTREAM_REBALANCE_THRESHOLD: '-1' }, undefined, 'config: upstream.rebalance.threshold: must be a number >= 0 (got "-1" from PIKO_UPSTREAM_REBALANCE_THRESHOLD)'],
      [['--upstream.rebalance.shed-rate', '2'], {}, undefined, 'config: upstream.rebalance.shed_rate: must be a number between 0 and 1 (got 2 from --upstream.rebalance.shed-rate)'],
      [[], {}, 'upstream:\n  rebalance:\n    min_conns: -1\n', 'config: upstream.rebalance.min_conns: must be an integer >= 0 (got -1)'],
    ];
    for (const [argv, env, yaml, message] of bad) {
      it(message, () => assertConfigError(() => server(argv, env, yaml), 'CONFIG_INVALID_VALUE', message));
    }

    it('leaves an empty gossip advertise address empty, to be resolved at start-up, with or without a bind host', () => {
      for (const bind of [':8003', '10.0.0.1:8003']) {
        assert.equal(server(['--cluster.gossip.bind-addr', bind]).config.cluster.gossip.advertiseAddr, '');
      }
    });

    it('accepts the packet size limits and a join list of DNS names, IPs and host:port', () => {
      assert.equal(server(['--cluster.gossip.max-packet-size', '65507']).config.cluster.gossip.maxPacketSize, 65_507);
      const { config } = server([], {}, 'cluster:\n  join:\n    - piko.default.svc.cluster.local\n    - 10.0.0.2\n    - "[fd00::2]:8003"\n');
      assert.deepEqual(config.cluster.join, ['piko.default.svc.cluster.local', '10.0.0.2', '[fd00::2]:8003']);
    });
  });

  describe('having a broken file', () => {
    const table: readonly [string | undefined, string][] = [
      [undefined, `config: ${CONFIG_PATH}: cannot read file (ENOENT: no such file or directory, open '${CONFIG_PATH}')`],
      ['proxy: [1\n', `config: ${CONFIG_PATH}: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1`],
      ['proxy:\n  timeout: 1s\n  timeout: 2s\n', `config: ${CONFIG_PATH}: invalid YAML: Map keys must be unique at line 3, column 3`],
      ['a: 1\n---\nb: 2\n', `config: ${CONFIG_PATH}: invalid YAML: Source contains multiple documents; please use YAML.parseAllDocuments() at line 2, column 1`],
      ['- proxy\n', `config: ${CONFIG_PATH}: the top level must be a mapping of config keys`],
      ['just text\n', `config: ${CONFIG_PATH}: the top level must be a mapping of config keys`],
    ];
    for (const [yaml, message] of table) {
      it(message, () => assertConfigError(() => loadServerConfig(['--config.path', CONFIG_PATH], {}, withFile(yaml)), 'CONFIG_FILE', message));
    }
  });

  describe('having --help or -h', () => {
    for (const argv of [['--help'], ['-h'], ['--proxy.timeout', 'bad', '--unknown', '-h']]) {
      it(`returns the help for ${argv.join(' ')}, whatever else is wrong`, () => {
        const result = loadServerConfig(argv, { PIKO_NOPE: 'x' });
        assert.equal(result.kind, 'help');
        assert.match(result.kind === 'help' ? result.text : '', /^Usage: piko-ts server \[flags\]/);
      });
    }
  });
});
