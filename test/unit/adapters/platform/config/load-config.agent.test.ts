import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAgentConfig } from '../../../../../src/adapters/platform/config/load-config.js';
import type { AccessLogConfig, AgentConfig, ListenerConfig } from '../../../../../src/adapters/platform/config/types.js';
import { agent, assertConfigError, CONFIG_PATH, withFile } from './config-test-helpers.js';

const ACCESS_LOG: AccessLogConfig = {
  level: 'info',
  disable: false,
  requestHeaders: { allowList: [], blockList: [] },
  responseHeaders: { allowList: [], blockList: [] },
};

/** A client TLS group at its defaults: system roots, no client certificate. */
const NO_TLS = { cert: '', key: '', rootCas: '', insecureSkipVerify: false } as const;

const listener = (overrides: Partial<ListenerConfig> = {}): ListenerConfig => ({
  endpointId: 'my-endpoint',
  protocol: 'http',
  addr: 'http://localhost:3000',
  timeoutMs: 10_000,
  maxHeaderBytes: 4_194_304,
  accessLog: ACCESS_LOG,
  tls: NO_TLS,
  ...overrides,
});

/** Every resolved default of `agent http my-endpoint 3000`, written out (T8). */
const DEFAULTS: AgentConfig = {
  listeners: [listener()],
  connect: { url: 'http://localhost:8001', token: '', tokenFile: '', timeoutMs: 30_000, startupDeadlineMs: 0, tls: NO_TLS, tenantId: '' },
  server: { enabled: false, bindAddr: '127.0.0.1:5000' },
  log: { level: 'info', subsystems: [] },
  gracePeriodMs: 60_000,
};

const START_YAML = `
listeners:
  - endpoint_id: web
    addr: "3000"
  - endpoint_id: api
    addr: https://10.0.0.5:8443/v1
    protocol: http
    timeout: 0
    access_log:
      level: debug
      request_headers:
        block_list: [Authorization, Cookie]
    tls:
      root_cas: /etc/piko/service-ca.pem
  - endpoint_id: ssh
    addr: 22
    protocol: tcp
    timeout: 2s
    access_log:
      disable: true
connect:
  url: wss://piko.example.com/base
  token: tok
  timeout: 1m
  tls:
    cert: /etc/piko/agent.crt
    key: /etc/piko/agent.key
    root_cas: /etc/piko/ca.pem
server:
  enabled: true
  bind_addr: "127.0.0.1:5001"
log:
  level: warn
  subsystems: [proxy]
grace_period: 10s
`;

describe('loadAgentConfig', () => {
  describe('having agent http <endpoint> <addr> and nothing else', () => {
    it('resolves every default (T8)', () => {
      const result = agent(['http', 'my-endpoint', '3000']);
      assert.deepEqual(result.config, DEFAULTS);
      assert.deepEqual(result.warnings, []);
    });

    it('deep-freezes the result', () => {
      const { config } = agent(['http', 'my-endpoint', '3000']);
      assert.ok(Object.isFrozen(config.listeners));
      assert.ok(Object.isFrozen(config.listeners[0]?.accessLog.requestHeaders));
      assert.throws(() => (config.listeners as ListenerConfig[]).push(listener()), TypeError);
    });
  });

  describe('having agent start with a YAML file', () => {
    it('maps every key, defaulting protocol to http (T8)', () => {
      const { config, warnings } = agent(['start'], {}, START_YAML);
      assert.deepEqual(warnings, []);
      assert.deepEqual(config, {
        listeners: [
          listener({ endpointId: 'web' }),
          listener({
            endpointId: 'api',
            addr: 'https://10.0.0.5:8443/v1',
            timeoutMs: 0,
            accessLog: { ...ACCESS_LOG, level: 'debug', requestHeaders: { allowList: [], blockList: ['authorization', 'cookie'] } },
            tls: { ...NO_TLS, rootCas: '/etc/piko/service-ca.pem' },
          }),
          listener({ endpointId: 'ssh', protocol: 'tcp', addr: 'localhost:22', timeoutMs: 2_000, accessLog: { ...ACCESS_LOG, disable: true } }),
        ],
        connect: {
          url: 'wss://piko.example.com/base',
          token: 'tok',
          tokenFile: '',
          timeoutMs: 60_000,
          startupDeadlineMs: 0,
          tls: { cert: '/etc/piko/agent.crt', key: '/etc/piko/agent.key', rootCas: '/etc/piko/ca.pem', insecureSkipVerify: false },
          tenantId: '',
        },
        server: { enabled: true, bindAddr: '127.0.0.1:5001' },
        log: { level: 'warn', subsystems: ['proxy'] },
        gracePeriodMs: 10_000,
      });
    });

    it('loads the commented example config/agent.yaml', () => {
      const path = fileURLToPath(new URL('../../../../../../config/agent.yaml', import.meta.url));
      const result = loadAgentConfig(['start', '--config.path', path], {});
      assert.deepEqual(result, { kind: 'config', config: { ...DEFAULTS, listeners: [listener()] }, warnings: [] });
    });

    it('reads YAML numbers given for the endpoint, address and token as text', () => {
      const { config } = agent(['start'], {}, 'listeners:\n  - endpoint_id: 123\n    addr: 3000\nconnect:\n  token: 98765\n');
      assert.deepEqual(config.listeners, [listener({ endpointId: '123' })]);
      assert.equal(config.connect.token, '98765');
    });

    it('fails without listeners', () => {
      const message = 'config: listeners: no listeners configured (add listeners: to the config file, or use agent http|tcp)';
      assertConfigError(() => agent(['start']), 'CONFIG_INVALID_VALUE', message);
      assertConfigError(() => agent(['start'], {}, 'listeners: []\n'), 'CONFIG_INVALID_VALUE', message);
    });

    it('takes listeners from PIKO_LISTENERS as YAML or JSON text, over the file', () => {
      const env = { PIKO_LISTENERS: '[{"endpoint_id": "from-env", "addr": "4000", "protocol": "tcp"}]' };
      const { config } = agent(['start'], env, START_YAML);
      assert.deepEqual(config.listeners, [listener({ endpointId: 'from-env', protocol: 'tcp', addr: 'localhost:4000' })]);
    });

    const bad: readonly [string, string][] = [
      ['listeners:\n  - addr: "3000"\n', 'config: listeners[0].endpoint_id: is required (got "")'],
      ['listeners:\n  - endpoint_id: a\n', 'config: listeners[0].addr: is required (got "")'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n    protocol: TCP\n', 'config: listeners[0].protocol: must be one of http, tcp (got "TCP")'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n    protocol: asdf\n', 'config: listeners[0].protocol: must be one of http, tcp (got "asdf")'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n  - endpoint_id: "-b"\n    addr: "3000"\n', 'config: listeners[1].endpoint_id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit (got "-b")'],
      ['listeners:\n  - endpoint_id: a\n    addr: http://x:1\n    protocol: tcp\n', 'config: listeners[0].addr: must be a port or host:port for a tcp listener (got "http://x:1")'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n    timeout: 15\n', 'config: listeners[0].timeout: must be a duration like 30s (got 15)'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n    access_log: true\n', 'config: listeners[0].access_log: must be a mapping (got true)'],
      ['listeners:\n  - endpoint_id: a\n    addr: "3000"\n    access_log:\n      request_headers: {allow_list: [a], block_list: [b]}\n', 'config: listeners[0].access_log.request_headers: allow_list and block_list cannot both be set'],
      ['listeners:\n  - "web"\n', 'config: listeners: must be a list of listener mappings (got ["web"])'],
      ['listeners:\n  endpoint_id: a\n', 'config: listeners: must be a list of listener mappings (got a mapping)'],
    ];
    for (const [yaml, message] of bad) {
      it(message, () => assertConfigError(() => agent(['start'], {}, yaml), 'CONFIG_INVALID_VALUE', message));
    }

    it('rejects an unknown listener key naming the item', () => {
      assertConfigError(
        () => agent(['start'], {}, 'listeners:\n  - endpoint_id: a\n    addr: "3000"\n    endpointId: b\n'),
        'CONFIG_UNKNOWN_KEY',
        'config: listeners[0].endpointId: unknown key (did you mean listeners[0].endpoint_id?)',
      );
    });

    it('rejects listener flags and PIKO_LISTENER_* variables, which only apply to http and tcp', () => {
      assertConfigError(() => agent(['start', '--timeout', '1s']), 'CONFIG_USAGE', 'config: --timeout: only valid with agent http or agent tcp');
      assertConfigError(
        () => agent(['start'], { PIKO_LISTENER_TIMEOUT: '1s' }),
        'CONFIG_USAGE',
        'config: PIKO_LISTENER_TIMEOUT: only applies to agent http and agent tcp; set listeners[] keys in the config file',
      );
    });

    it('rejects positional arguments', () => {
      assertConfigError(() => agent(['start', 'web']), 'CONFIG_USAGE', 'config: agent start: takes no arguments (got 1)');
    });

    it('warns about http_client, and about listener tls for a service that is not https', () => {
      const base = 'listeners:\n  - endpoint_id: a\n    addr: "3000"\n';
      assert.deepEqual(agent(['start'], {}, `${base}    http_client:\n      max_idle_conns: -1\n`).warnings, [
        'config: listeners[0].http_client.max_idle_conns: accepted for Piko compatibility but not used by piko-ts yet; ignored',
      ]);
      assert.deepEqual(agent(['start'], {}, `${base}    tls:\n      root_cas: /ca.pem\n`).warnings, [
        'config: listeners[0].tls: used only with an https or wss service addr; ignored',
      ]);
    });
  });

  describe('having agent http or tcp', () => {
    // §1.3: the positional address, normalised per protocol.
    const table: readonly [string, string, string][] = [
      ['http', '3000', 'http://localhost:3000'],
      ['http', 'localhost:3000', 'http://localhost:3000'],
      ['http', 'host:3000', 'http://host:3000'],
      ['http', '[::1]:3000', 'http://[::1]:3000'],
      ['http', 'https://10.0.0.5:3000', 'https://10.0.0.5:3000'],
      ['http', 'http://localhost:3000/api', 'http://localhost:3000/api'],
      ['tcp', '3000', 'localhost:3000'],
      ['tcp', 'db.internal:5432', 'db.internal:5432'],
      ['tcp', '[fd00::5]:22', '[fd00::5]:22'],
    ];
    for (const [protocol, addr, normalised] of table) {
      it(`agent ${protocol} ep ${addr} → ${normalised}`, () => {
        const { config } = agent([protocol, 'ep', addr]);
        assert.deepEqual(config.listeners, [listener({ endpointId: 'ep', protocol: protocol as 'http' | 'tcp', addr: normalised })]);
      });
    }

    it('reads the listener flags', () => {
      const argv = ['http', 'ep', '3000', '--timeout', '0', '--access-log.level=warn', '--access-log.disable', '--access-log.response-headers.allow-list', 'Content-Type'];
      assert.deepEqual(agent(argv).config.listeners, [
        listener({ endpointId: 'ep', timeoutMs: 0, accessLog: { ...ACCESS_LOG, level: 'warn', disable: true, responseHeaders: { allowList: ['content-type'], blockList: [] } } }),
      ]);
    });

    it('reads flags before, between and after the positionals', () => {
      const { config } = agent(['--log.level', 'debug', 'tcp', '--timeout', '1s', 'ep', '--server.enabled', '22']);
      assert.equal(config.log.level, 'debug');
      assert.equal(config.server.enabled, true);
      assert.deepEqual(config.listeners, [listener({ endpointId: 'ep', protocol: 'tcp', addr: 'localhost:22', timeoutMs: 1_000 })]);
    });

    it('reads PIKO_LISTENER_* variables, below the flags', () => {
      const env = { PIKO_LISTENER_TIMEOUT: '3s', PIKO_LISTENER_ACCESS_LOG_LEVEL: 'error' };
      const [fromEnv] = agent(['http', 'ep', '3000'], env).config.listeners;
      assert.equal(fromEnv?.timeoutMs, 3_000);
      assert.equal(fromEnv?.accessLog.level, 'error');
      assert.equal(agent(['http', 'ep', '3000', '--timeout', '4s'], env).config.listeners[0]?.timeoutMs, 4_000);
    });

    it('replaces the listeners of the file, keeping its other sections', () => {
      const { config } = agent(['http', 'ep', '3000'], {}, START_YAML);
      assert.deepEqual(config.listeners, [listener({ endpointId: 'ep' })]);
      assert.equal(config.connect.url, 'wss://piko.example.com/base');
    });

    it('gives agent tcp only Piko tcp flags', () => {
      assertConfigError(
        () => agent(['tcp', 'ep', '22', '--access-log.request-headers.allow-list', 'x']),
        'CONFIG_USAGE',
        'config: --access-log.request-headers.allow-list: only valid with agent http',
      );
    });

    it('warns about --http-client flags', () => {
      assert.deepEqual(agent(['http', 'ep', '3000', '--http-client.disable-compression']).warnings, [
        'config: listener.http_client.disable_compression: accepted for Piko compatibility but not used by piko-ts yet; ignored',
      ]);
    });

    const bad: readonly [readonly string[], string][] = [
      [['http', 'bad id', '3000'], 'config: listener.endpoint_id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit (got "bad id" from <endpoint>)'],
      [['http', 'ep', 'localhost'], 'config: listener.addr: must be a port, host:port or http(s) URL (got "localhost" from <addr>)'],
      [['http', 'ep', 'ftp://x:21'], 'config: listener.addr: URL scheme must be http or https (got "ftp://x:21" from <addr>)'],
      [['tcp', 'ep', 'https://x:3000'], 'config: listener.addr: must be a port or host:port for a tcp listener (got "https://x:3000" from <addr>)'],
      [['tcp', 'ep', '0'], 'config: listener.addr: must be a port between 1 and 65535 (got "0" from <addr>)'],
      [['http', 'ep', '3000', '--timeout', '10'], 'config: listener.timeout: must be a duration like 30s (got "10" from --timeout)'],
      [['http', 'ep', '3000', '--access-log.level', 'Debug'], 'config: listener.access_log.level: must be one of debug, info, warn, error (got "Debug" from --access-log.level)'],
      [['http', 'ep', '3000', '--connect.url', 'localhost:8001'], 'config: connect.url: must be an http, https, ws or wss URL with a host (got "localhost:8001" from --connect.url)'],
      [['http', 'ep', '3000', '--connect.timeout', '0s'], 'config: connect.timeout: must be a non-zero duration like 30s (got "0s" from --connect.timeout)'],
    ];
    for (const [argv, message] of bad) {
      it(message, () => assertConfigError(() => agent(argv), 'CONFIG_INVALID_VALUE', message));
    }

    it('never quotes the connect token back', () => {
      assert.throws(
        () => agent(['http', 'ep', '3000'], {}, 'connect:\n  token: [s3cr3t]\n'),
        (err: Error) => err.message === 'config: connect.token: must be a string',
      );
    });
  });

  describe('having a malformed command line', () => {
    const table: readonly [readonly string[], string][] = [
      [[], 'config: agent: missing subcommand: start, http or tcp'],
      [['--log.level', 'debug'], 'config: agent: missing subcommand: start, http or tcp'],
      [['forward', 'ep'], 'config: agent: unknown subcommand "forward" (expected start, http or tcp)'],
      [['http', 'ep'], 'config: agent http: expects <endpoint> <addr> (got 1)'],
      [['tcp', 'ep', '22', '23'], 'config: agent tcp: expects <endpoint> <addr> (got 3)'],
      [['http', 'ep', '3000', '--proxy.timeout', '1s'], 'config: --proxy.timeout: unknown flag'],
      [['http', 'ep', '3000', '--timeout'], 'config: --timeout: flag needs a value'],
    ];
    for (const [argv, message] of table) {
      it(message, () => assertConfigError(() => agent(argv), 'CONFIG_USAGE', message));
    }

    it('warns about unknown PIKO_ variables but ignores the server ones', () => {
      assert.deepEqual(agent(['http', 'ep', '3000'], { PIKO_CONECT_URL: 'x' }).warnings, [
        'ignoring unknown environment variable: PIKO_CONECT_URL (did you mean PIKO_CONNECT_URL?)',
      ]);
      assert.deepEqual(agent(['http', 'ep', '3000'], { PIKO_LISTENER_ENDPOINT_ID: 'x' }).warnings, [
        'ignoring unknown environment variable: PIKO_LISTENER_ENDPOINT_ID',
      ]);
      assert.equal(agent(['http', 'ep', '3000'], { PIKO_PROXY_TIMEOUT: 'not-checked-here' }).config.connect.timeoutMs, 30_000);
    });

    it('rejects an unknown agent key in the file', () => {
      assertConfigError(() => agent(['http', 'ep', '3000'], {}, 'connect:\n  urll: x\n'), 'CONFIG_UNKNOWN_KEY', 'config: connect.urll: unknown key (did you mean connect.url?)');
    });

    it('takes connect.tls from flags, and warns when it cannot apply (an http URL) or skips verification', () => {
      const { config, warnings } = agent(['http', 'ep', '3000', '--connect.url', 'https://piko:8001', '--connect.tls.root-cas', '/ca.pem']);
      assert.deepEqual(config.connect.tls, { ...NO_TLS, rootCas: '/ca.pem' });
      assert.deepEqual(warnings, []);
      assert.deepEqual(agent(['http', 'ep', '3000', '--connect.tls.insecure-skip-verify']).warnings, [
        'config: connect.tls: used only with an https or wss connect.url; ignored',
      ]);
      assert.deepEqual(agent(['http', 'ep', '3000', '--connect.url', 'wss://piko', '--connect.tls.insecure-skip-verify']).warnings, [
        "config: connect.tls.insecure_skip_verify: the server's certificates are not verified; use it for testing only",
      ]);
    });
  });

  describe('having --help or -h', () => {
    const table: readonly [readonly string[], RegExp][] = [
      [['--help'], /^Usage: piko-ts agent <command> \[flags\]/],
      [['http', '-h'], /^Usage: piko-ts agent http <endpoint> <addr> \[flags\]/],
      [['tcp', 'ep', '--bogus', '--help'], /^Usage: piko-ts agent tcp <endpoint> <addr> \[flags\]/],
      [['start', '-h'], /^Usage: piko-ts agent start \[flags\]/],
    ];
    for (const [argv, usage] of table) {
      it(`returns the help for ${argv.join(' ')}`, () => {
        const result = loadAgentConfig(argv, {}, withFile(undefined));
        assert.equal(result.kind, 'help');
        assert.match(result.kind === 'help' ? result.text : '', usage);
      });
    }
  });

  it('reads the file named by PIKO_CONFIG_PATH', () => {
    const result = loadAgentConfig(['start'], { PIKO_CONFIG_PATH: CONFIG_PATH }, withFile(START_YAML));
    assert.equal(result.kind === 'config' ? result.config.listeners.length : 0, 3);
  });
});
