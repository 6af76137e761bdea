import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadForwardConfig } from '../../../../../src/adapters/platform/config/load-config.js';
import type { ForwardConfig, ForwardPortConfig } from '../../../../../src/adapters/platform/config/types.js';
import { assertConfigError, CONFIG_PATH, forward, withFile } from './config-test-helpers.js';

/** The client TLS group at its defaults: system roots, no client certificate. */
const NO_TLS = { cert: '', key: '', rootCas: '', insecureSkipVerify: false } as const;

/** Every resolved default of `forward tcp 3000 my-endpoint`, written out. */
const DEFAULTS: ForwardConfig = {
  ports: [{ addr: '127.0.0.1:3000', endpointId: 'my-endpoint' }],
  connect: { url: 'http://localhost:8000', token: '', tokenFile: '', timeoutMs: 30_000, tls: NO_TLS },
  log: { level: 'info', subsystems: [] },
};

const START_YAML = `
ports:
  - addr: "3000"
    endpoint_id: web
  - addr: 0.0.0.0:5432
    endpoint_id: db
  - addr: "[::1]:2222"
    endpoint_id: ssh.internal
connect:
  url: wss://piko.example.com/base
  token: tok
  timeout: 5s
log:
  level: debug
  subsystems: [forwarder]
`;

describe('loadForwardConfig', () => {
  describe('having forward tcp <addr> <endpoint> and nothing else', () => {
    it('resolves every default', () => {
      const result = forward(['tcp', '3000', 'my-endpoint']);
      assert.deepEqual(result.config, DEFAULTS);
      assert.deepEqual(result.warnings, []);
    });

    it('deep-freezes the result', () => {
      const { config } = forward(['tcp', '3000', 'my-endpoint']);
      assert.ok(Object.isFrozen(config));
      assert.ok(Object.isFrozen(config.ports));
      assert.ok(Object.isFrozen(config.ports[0]));
      assert.ok(Object.isFrozen(config.connect));
      assert.throws(() => (config.ports as ForwardPortConfig[]).push({ addr: 'x', endpointId: 'y' }), TypeError);
    });
  });

  describe('having forward tcp', () => {
    // §1.4: the local address first, then the endpoint; a bare port listens on loopback only.
    const table: readonly [string, string][] = [
      ['3000', '127.0.0.1:3000'],
      ['0', '127.0.0.1:0'],
      ['localhost:3000', 'localhost:3000'],
      ['0.0.0.0:3000', '0.0.0.0:3000'],
      [':3000', ':3000'],
      ['[::1]:3000', '[::1]:3000'],
      ['db.internal:5432', 'db.internal:5432'],
    ];
    for (const [addr, normalised] of table) {
      it(`forward tcp ${addr} ep → ${normalised}`, () => {
        assert.deepEqual(forward(['tcp', addr, 'ep']).config.ports, [{ addr: normalised, endpointId: 'ep' }]);
      });
    }

    it('reads flags before, between and after the positionals', () => {
      const { config } = forward(['--log.level', 'warn', 'tcp', '--connect.token', 't', '3000', '--connect.timeout=2s', 'ep', '--log.subsystems', 'a,b']);
      assert.deepEqual(config, {
        ports: [{ addr: '127.0.0.1:3000', endpointId: 'ep' }],
        connect: { url: 'http://localhost:8000', token: 't', tokenFile: '', timeoutMs: 2_000, tls: NO_TLS },
        log: { level: 'warn', subsystems: ['a', 'b'] },
      });
    });

    it('replaces the ports of the file and PIKO_PORTS, keeping the other sections', () => {
      const { config } = forward(['tcp', '4000', 'ep'], { PIKO_PORTS: '[{addr: "5000", endpoint_id: env}]' }, START_YAML);
      assert.deepEqual(config.ports, [{ addr: '127.0.0.1:4000', endpointId: 'ep' }]);
      assert.equal(config.connect.url, 'wss://piko.example.com/base');
      assert.equal(config.log.level, 'debug');
    });

    it('takes -- as the end of flags, so an endpoint may follow it', () => {
      assert.deepEqual(forward(['tcp', '--', '3000', 'ep']).config.ports, [{ addr: '127.0.0.1:3000', endpointId: 'ep' }]);
    });

    const bad: readonly [readonly string[], string | RegExp][] = [
      [['tcp', 'my-endpoint', '3000'], 'config: port.addr: must be a port or host:port (got "my-endpoint" from <addr>)'],
      [['tcp', 'localhost', 'ep'], 'config: port.addr: must be a port or host:port (got "localhost" from <addr>)'],
      [['tcp', '70000', 'ep'], 'config: port.addr: must be a port between 0 and 65535 (got "70000" from <addr>)'],
      [['tcp', 'tcp://x:1', 'ep'], 'config: port.addr: must be a port or host:port (got "tcp://x:1" from <addr>)'],
      [['tcp', '', 'ep'], 'config: port.addr: is required (got "" from <addr>)'],
      [['tcp', '3000', 'bad id'], 'config: port.endpoint_id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit (got "bad id" from <endpoint>)'],
      [['tcp', '3000', 'a'.repeat(129)], /^config: port\.endpoint_id: must be at most 128 characters \(got "a+\.\.\. from <endpoint>\)$/],
      [['tcp', '3000', 'ep', '--connect.url', 'localhost:8000'], 'config: connect.url: must be an http, https, ws or wss URL with a host (got "localhost:8000" from --connect.url)'],
      [['tcp', '3000', 'ep', '--connect.url', 'ftp://x'], 'config: connect.url: must be an http, https, ws or wss URL with a host (got "ftp://x" from --connect.url)'],
      [['tcp', '3000', 'ep', '--connect.timeout', '0s'], 'config: connect.timeout: must be a non-zero duration like 30s (got "0s" from --connect.timeout)'],
      [['tcp', '3000', 'ep', '--connect.timeout', '30'], 'config: connect.timeout: must be a non-zero duration like 30s (got "30" from --connect.timeout)'],
      [['tcp', '3000', 'ep', '--log.level', 'Debug'], 'config: log.level: must be one of debug, info, warn, error (got "Debug" from --log.level)'],
    ];
    for (const [argv, message] of bad) {
      it(String(message), () => assertConfigError(() => forward(argv), 'CONFIG_INVALID_VALUE', message));
    }

    it('accepts ws and https server URLs with a base path', () => {
      for (const url of ['ws://10.0.0.1:8000', 'https://piko.example.com/base']) {
        assert.equal(forward(['tcp', '3000', 'ep', '--connect.url', url]).config.connect.url, url);
      }
    });
  });

  describe('having forward start with a YAML file', () => {
    it('maps every key', () => {
      const { config, warnings } = forward(['start'], {}, START_YAML);
      assert.deepEqual(warnings, []);
      assert.deepEqual(config, {
        ports: [
          { addr: '127.0.0.1:3000', endpointId: 'web' },
          { addr: '0.0.0.0:5432', endpointId: 'db' },
          { addr: '[::1]:2222', endpointId: 'ssh.internal' },
        ],
        connect: { url: 'wss://piko.example.com/base', token: 'tok', tokenFile: '', timeoutMs: 5_000, tls: NO_TLS },
        log: { level: 'debug', subsystems: ['forwarder'] },
      });
    });

    it('loads the commented example config/forward.yaml', () => {
      const path = fileURLToPath(new URL('../../../../../../config/forward.yaml', import.meta.url));
      const result = loadForwardConfig(['start', '--config.path', path], {});
      assert.deepEqual(result, { kind: 'config', config: { ...DEFAULTS, ports: [{ addr: '127.0.0.1:15432', endpointId: 'my-db' }] }, warnings: [] });
    });

    it('reads YAML numbers given for the address, endpoint and token as text', () => {
      const { config } = forward(['start'], {}, 'ports:\n  - addr: 3000\n    endpoint_id: 123\nconnect:\n  token: 98765\n');
      assert.deepEqual(config.ports, [{ addr: '127.0.0.1:3000', endpointId: '123' }]);
      assert.equal(config.connect.token, '98765');
    });

    it('fails without ports', () => {
      const message = 'config: ports: no ports configured (add ports: to the config file, or use forward tcp)';
      assertConfigError(() => forward(['start']), 'CONFIG_INVALID_VALUE', message);
      assertConfigError(() => forward(['start'], {}, 'ports: []\n'), 'CONFIG_INVALID_VALUE', message);
      assertConfigError(() => forward(['start'], {}, 'connect:\n  token: x\n'), 'CONFIG_INVALID_VALUE', message);
    });

    it('takes ports from PIKO_PORTS as YAML or JSON text, over the file', () => {
      const env = { PIKO_PORTS: '[{"addr": "4000", "endpoint_id": "from-env"}]' };
      assert.deepEqual(forward(['start'], env, START_YAML).config.ports, [{ addr: '127.0.0.1:4000', endpointId: 'from-env' }]);
    });

    it('expands the environment in the file with --config.expand-env', () => {
      const yaml = 'ports:\n  - addr: "${PORT}"\n    endpoint_id: ${EP:fallback}\nconnect:\n  token: $TOKEN\n';
      const { config } = forward(['start', '--config.expand-env'], { PORT: '7000', TOKEN: 's3cr3t' }, yaml);
      assert.deepEqual(config.ports, [{ addr: '127.0.0.1:7000', endpointId: 'fallback' }]);
      assert.equal(config.connect.token, 's3cr3t');
    });

    const bad: readonly [string, string][] = [
      ['ports:\n  - endpoint_id: a\n', 'config: ports[0].addr: is required (got "")'],
      ['ports:\n  - addr: "3000"\n', 'config: ports[0].endpoint_id: is required (got "")'],
      ['ports:\n  - addr: "3000"\n    endpoint_id: a\n  - addr: nope\n    endpoint_id: b\n', 'config: ports[1].addr: must be a port or host:port (got "nope")'],
      ['ports:\n  - addr: "3000"\n    endpoint_id: "-a"\n', 'config: ports[0].endpoint_id: may contain only letters, digits, ".", "_" and "-", and must start and end with a letter or digit (got "-a")'],
      ['ports:\n  - addr: "3000"\n    endpoint_id: a\n  - addr: 127.0.0.1:3000\n    endpoint_id: b\n', 'config: ports[1].addr: overlaps ports[0].addr ("127.0.0.1:3000")'],
      ['ports:\n  - addr: 127.0.0.1:3000\n    endpoint_id: a\n  - addr: :3000\n    endpoint_id: b\n', 'config: ports[1].addr: overlaps ports[0].addr ("127.0.0.1:3000")'],
      ['ports:\n  - "3000"\n', 'config: ports: must be a list of port mappings (got ["3000"])'],
      ['ports:\n  addr: "3000"\n', 'config: ports: must be a list of port mappings (got a mapping)'],
      ['connect:\n  timeout: 30\nports:\n  - {addr: "1", endpoint_id: a}\n', 'config: connect.timeout: must be a non-zero duration like 30s (got 30)'],
      ['connect: http://x\n', 'config: connect: must be a mapping (got "http://x")'],
    ];
    for (const [yaml, message] of bad) {
      it(message, () => assertConfigError(() => forward(['start'], {}, yaml), 'CONFIG_INVALID_VALUE', message));
    }

    it('allows several ports on port 0 and on different hosts', () => {
      const yaml = 'ports:\n  - {addr: "0", endpoint_id: a}\n  - {addr: "0", endpoint_id: b}\n  - {addr: "10.0.0.1:3000", endpoint_id: c}\n  - {addr: "3000", endpoint_id: d}\n';
      assert.equal(forward(['start'], {}, yaml).config.ports.length, 4);
    });

    it('rejects an unknown port key naming the item', () => {
      assertConfigError(
        () => forward(['start'], {}, 'ports:\n  - addr: "3000"\n    endpointId: a\n'),
        'CONFIG_UNKNOWN_KEY',
        'config: ports[0].endpointId: unknown key (did you mean ports[0].endpoint_id?)',
      );
    });

    it('rejects positional arguments', () => {
      assertConfigError(() => forward(['start', '3000']), 'CONFIG_USAGE', 'config: forward start: takes no arguments (got 1)');
    });
  });

  describe('having values in several layers', () => {
    const yaml = 'ports:\n  - {addr: "3000", endpoint_id: a}\nconnect:\n  url: http://file:8000\n  timeout: 1s\nlog:\n  level: warn\n';

    it('takes flags over PIKO_* variables over the file over defaults', () => {
      const env = { PIKO_CONNECT_URL: 'http://env:8000', PIKO_CONNECT_TIMEOUT: '2s' };
      const { config } = forward(['start', '--connect.url', 'http://flag:8000'], env, yaml);
      assert.equal(config.connect.url, 'http://flag:8000');
      assert.equal(config.connect.timeoutMs, 2_000);
      assert.equal(config.log.level, 'warn');
      assert.equal(config.connect.token, '');
    });

    it('treats an empty variable as unset', () => {
      assert.equal(forward(['start'], { PIKO_CONNECT_URL: '' }, yaml).config.connect.url, 'http://file:8000');
    });

    it('reads the token from PIKO_CONNECT_TOKEN and never quotes it back', () => {
      assert.equal(forward(['tcp', '3000', 'ep'], { PIKO_CONNECT_TOKEN: 'jwt' }).config.connect.token, 'jwt');
      assert.throws(
        () => forward(['tcp', '3000', 'ep'], {}, 'connect:\n  token: [s3cr3t]\n'),
        (err: Error) => err.message === 'config: connect.token: must be a string',
      );
    });

    it('reads the file named by PIKO_CONFIG_PATH', () => {
      const result = loadForwardConfig(['start'], { PIKO_CONFIG_PATH: CONFIG_PATH }, withFile(START_YAML));
      assert.equal(result.kind === 'config' ? result.config.ports.length : 0, 3);
    });
  });

  describe('having a malformed command line', () => {
    const table: readonly [readonly string[], string][] = [
      [[], 'config: forward: missing subcommand: start or tcp'],
      [['--log.level', 'debug'], 'config: forward: missing subcommand: start or tcp'],
      [['http', '3000', 'ep'], 'config: forward: unknown subcommand "http" (expected start or tcp)'],
      [['tcp', '3000'], 'config: forward tcp: expects <addr> <endpoint> (got 1)'],
      [['tcp', '3000', 'ep', 'extra'], 'config: forward tcp: expects <addr> <endpoint> (got 3)'],
      [['tcp', '3000', 'ep', '--timeout', '1s'], 'config: --timeout: unknown flag'],
      [['tcp', '3000', 'ep', '--grace-period', '1s'], 'config: --grace-period: unknown flag'],
      [['tcp', '3000', 'ep', '--connect.tenant-id', 't'], 'config: --connect.tenant-id: unknown flag'],
      [['tcp', '3000', 'ep', '--connect.ur', 'x'], 'config: --connect.ur: unknown flag (did you mean --connect.url?)'],
      [['tcp', '3000', 'ep', '--connect.url'], 'config: --connect.url: flag needs a value'],
    ];
    for (const [argv, message] of table) {
      it(message, () => assertConfigError(() => forward(argv), 'CONFIG_USAGE', message));
    }

    it('warns about unknown PIKO_ variables but ignores those of the agent and server', () => {
      assert.deepEqual(forward(['tcp', '3000', 'ep'], { PIKO_CONECT_URL: 'x' }).warnings, [
        'ignoring unknown environment variable: PIKO_CONECT_URL (did you mean PIKO_CONNECT_URL?)',
      ]);
      assert.match(forward(['tcp', '3000', 'ep'], { PIKO_PORT_ADDR: '1' }).warnings[0] ?? '', /^ignoring unknown environment variable: PIKO_PORT_ADDR/);
      const env = { PIKO_LISTENERS: 'not-checked-here', PIKO_GRACE_PERIOD: 'x', PIKO_PROXY_TIMEOUT: 'x' };
      assert.deepEqual(forward(['tcp', '3000', 'my-endpoint'], env).config, DEFAULTS);
    });

    it('rejects agent and unknown keys in the file', () => {
      assertConfigError(() => forward(['tcp', '3000', 'ep'], {}, 'connect:\n  urll: x\n'), 'CONFIG_UNKNOWN_KEY', 'config: connect.urll: unknown key (did you mean connect.url?)');
      assertConfigError(() => forward(['tcp', '3000', 'ep'], {}, 'grace_period: 1m\n'), 'CONFIG_UNKNOWN_KEY', 'config: grace_period: unknown key');
      assertConfigError(() => forward(['tcp', '3000', 'ep'], {}, 'listeners: []\n'), 'CONFIG_UNKNOWN_KEY', /^config: listeners: unknown key/);
    });

    it('takes connect.tls from a flag, a variable or the file (as the agent), and checks cert and key come together', () => {
      const https = ['tcp', '3000', 'ep', '--connect.url', 'https://piko:8000'];
      assert.equal(forward([...https, '--connect.tls.insecure-skip-verify']).config.connect.tls.insecureSkipVerify, true);
      const env = { PIKO_CONNECT_TLS_CERT: '/c.pem', PIKO_CONNECT_TLS_KEY: '/k.pem' };
      assert.deepEqual(forward(https, env).config.connect.tls, { ...NO_TLS, cert: '/c.pem', key: '/k.pem' });
      assert.equal(forward(https, {}, 'connect:\n  tls:\n    root_cas: /ca.pem\n').config.connect.tls.rootCas, '/ca.pem');
      assertConfigError(() => forward(https, { PIKO_CONNECT_TLS_CERT: '/c.pem' }), 'CONFIG_INVALID_VALUE', 'config: connect.tls.key: is required when connect.tls.cert is set');
    });

    it('accepts connect.tls keys left at their defaults, as Piko configs write them', () => {
      const yaml = 'connect:\n  tls: { cert: "", key: "", root_cas: "", insecure_skip_verify: false }\n';
      assert.deepEqual(forward(['tcp', '3000', 'my-endpoint'], {}, yaml).config, DEFAULTS);
    });

    it('reports a missing config file', () => {
      assertConfigError(
        () => loadForwardConfig(['start', '--config.path', '/nope.yaml'], {}, withFile(undefined)),
        'CONFIG_FILE',
        /^config: \/nope\.yaml: cannot read file/,
      );
    });
  });

  describe('having --help or -h', () => {
    const table: readonly [readonly string[], RegExp][] = [
      [['--help'], /^Usage: piko-ts forward <command> \[flags\]/],
      [['-h', '--bogus'], /^Usage: piko-ts forward <command> \[flags\]/],
      [['tcp', '-h'], /^Usage: piko-ts forward tcp <addr> <endpoint> \[flags\]/],
      [['tcp', '3000', '--bogus', '--help'], /^Usage: piko-ts forward tcp <addr> <endpoint> \[flags\]/],
      [['start', '-h'], /^Usage: piko-ts forward start \[flags\]/],
    ];
    for (const [argv, usage] of table) {
      it(`returns the help for ${argv.join(' ')}`, () => {
        const result = loadForwardConfig(argv, {}, withFile(undefined));
        assert.equal(result.kind, 'help');
        assert.match(result.kind === 'help' ? result.text : '', usage);
      });
    }
  });
});
