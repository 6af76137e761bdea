import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from '../../../../../src/adapters/platform/config/agent-config.schema.js';
import { configFileSchema } from '../../../../../src/adapters/platform/config/config-file.schema.js';
import { forwardConfigSchema } from '../../../../../src/adapters/platform/config/forward-config.schema.js';
import { agentHelp, forwardHelp, listenerFlagLeaves, serverHelp } from '../../../../../src/adapters/platform/config/help.js';
import { schemaLeaves, type ConfigSchema } from '../../../../../src/adapters/platform/config/schema-tools.js';
import { serverConfigSchema } from '../../../../../src/adapters/platform/config/server-config.schema.js';

/** The help entry of a flag: its line, then its doc with default and variable (wrapped). */
function entryOf(help: string, flag: string): string {
  const start = help.indexOf(`\n      --${flag}`);
  assert.ok(start >= 0, `--${flag} is missing`);
  const rest = help.slice(start + 1);
  const end = rest.search(/\n {2}(?: {4})?-|\n\n/);
  return (end < 0 ? rest : rest.slice(0, end)).replace(/\s+/g, ' ');
}

function flagsOf(...schemas: ConfigSchema[]): string[] {
  return schemas.flatMap((schema) => schemaLeaves(schema).flatMap(({ field }) => (field.arg === undefined ? [] : [field.arg])));
}

function assertListsEveryFlag(help: string, schemas: ConfigSchema[]): void {
  for (const schema of schemas) {
    for (const { field } of schemaLeaves(schema)) {
      if (field.arg === undefined) continue;
      const entry = entryOf(help, field.arg);
      assert.ok(entry.includes(field.doc.split(' ').slice(0, 3).join(' ')), `--${field.arg}: doc`);
      assert.match(entry, /\(default [^,]+, env [A-Z_]+\)$/, `--${field.arg}: default and env`);
      assert.ok(entry.includes(`env ${field.env})`), `--${field.arg}: env`);
    }
  }
  assert.ok(help.includes('  -h, --help'));
}

describe('serverHelp', () => {
  const help = serverHelp();

  it('starts with the usage line', () => assert.match(help, /^Usage: piko-ts server \[flags\]\n/));

  it('lists every flag with its doc, default and variable', () => {
    assertListsEveryFlag(help, [configFileSchema, serverConfigSchema]);
  });

  it('shows defaults as they are typed', () => {
    assert.match(entryOf(help, 'proxy.bind-addr'), /\(default ":8000", env PIKO_PROXY_BIND_ADDR\)/);
    assert.match(entryOf(help, 'proxy.timeout'), /\(default 30s, env PIKO_PROXY_TIMEOUT\)/);
    assert.match(entryOf(help, 'proxy.http.max-header-bytes'), /\(default 1048576,/);
    assert.match(entryOf(help, 'log.subsystems'), /\(default \[\],/);
    assert.match(entryOf(help, 'cluster.abort-if-join-fails'), /\(default true,/);
  });

  it('shows the value placeholder, none for booleans', () => {
    assert.match(entryOf(help, 'proxy.timeout'), /^ *--proxy\.timeout duration /);
    assert.match(entryOf(help, 'proxy.access-log.disable'), /^ *--proxy\.access-log\.disable Turn/);
  });

  it('states the precedence', () => assert.match(help, /Precedence: flags > PIKO_\* environment variables > config file > defaults/));

  it('keeps lines within 100 columns', () => {
    for (const line of help.split('\n')) assert.ok(line.length <= 100, line);
  });

  it('lists no agent flag', () => assert.ok(!help.includes('--connect.url')));
});

describe('agentHelp', () => {
  it('lists the subcommands and every shared flag', () => {
    const help = agentHelp();
    assert.match(help, /^Usage: piko-ts agent <command> \[flags\]\n/);
    for (const command of ['start ', 'http <endpoint> <addr>', 'tcp <endpoint> <addr>']) assert.ok(help.includes(`\n  ${command}`));
    assertListsEveryFlag(help, [configFileSchema, agentConfigSchema]);
    assert.ok(!help.includes('--timeout'));
  });

  it('lists every listener flag for http', () => {
    const help = agentHelp('http');
    assert.match(help, /^Usage: piko-ts agent http <endpoint> <addr> \[flags\]\n/);
    assertListsEveryFlag(help, [configFileSchema, agentConfigSchema, listenerConfigSchema]);
    assert.match(entryOf(help, 'timeout'), /\(default 10s, env PIKO_LISTENER_TIMEOUT\)/);
  });

  it('lists only the tcp listener flags for tcp', () => {
    const help = agentHelp('tcp');
    for (const flag of flagsOf(listenerConfigSchema)) {
      const listed = help.includes(`\n      --${flag} `) || help.includes(`\n      --${flag}\n`);
      assert.equal(listed, TCP_LISTENER_KEYS.has(flag.replaceAll('-', '_')), flag);
    }
    assert.deepEqual(listenerFlagLeaves('tcp').map((leaf) => leaf.path).sort(), [...TCP_LISTENER_KEYS].sort());
  });

  it('lists the listener keys for start, and no listener flag', () => {
    const help = agentHelp('start');
    assert.ok(help.includes('Keys of each listeners[] item: endpoint_id, addr, protocol,'));
    assert.ok(!help.includes('--timeout'));
    assertListsEveryFlag(help, [configFileSchema, agentConfigSchema]);
  });

  it('keeps lines within 100 columns', () => {
    for (const sub of [undefined, 'start', 'http', 'tcp'] as const) {
      for (const line of agentHelp(sub).split('\n')) assert.ok(line.length <= 100, line);
    }
  });
});

describe('forwardHelp', () => {
  it('lists the subcommands, in Piko argument order, and every flag', () => {
    const help = forwardHelp();
    assert.match(help, /^Usage: piko-ts forward <command> \[flags\]\n/);
    for (const command of ['start ', 'tcp <addr> <endpoint>']) assert.ok(help.includes(`\n  ${command}`), command);
    assertListsEveryFlag(help, [configFileSchema, forwardConfigSchema]);
  });

  it('lists every flag for each subcommand', () => {
    assert.match(forwardHelp('tcp'), /^Usage: piko-ts forward tcp <addr> <endpoint> \[flags\]\n/);
    assert.match(forwardHelp('start'), /^Usage: piko-ts forward start \[flags\]\n/);
    for (const sub of ['start', 'tcp'] as const) assertListsEveryFlag(forwardHelp(sub), [configFileSchema, forwardConfigSchema]);
  });

  it('shows the forward defaults', () => {
    const help = forwardHelp();
    assert.match(entryOf(help, 'connect.url'), /\(default "http:\/\/localhost:8000", env PIKO_CONNECT_URL\)/);
    assert.match(entryOf(help, 'connect.timeout'), /\(default 30s, env PIKO_CONNECT_TIMEOUT\)/);
    assert.match(entryOf(help, 'connect.tls.insecure-skip-verify'), /\(default false, env PIKO_CONNECT_TLS_INSECURE_SKIP_VERIFY\)/);
    assert.match(entryOf(help, 'log.level'), /\(default "info", env PIKO_LOG_LEVEL\)/);
    assert.match(entryOf(help, 'config.expand-env'), /\(default false, env PIKO_CONFIG_EXPAND_ENV\)/);
  });

  it('explains the address of tcp and the keys of start', () => {
    assert.ok(forwardHelp('tcp').replace(/\s+/g, ' ').includes('3000 listens on 127.0.0.1:3000, loopback only'));
    assert.ok(forwardHelp('start').includes('Keys of each ports[] item: addr, endpoint_id.'));
  });

  it('lists no agent or server flag', () => {
    for (const sub of [undefined, 'start', 'tcp'] as const) {
      const help = forwardHelp(sub);
      for (const flag of ['--connect.tenant-id', '--server.enabled', '--grace-period', '--timeout', '--proxy.bind-addr']) {
        assert.ok(!help.includes(`${flag} `) && !help.includes(`${flag}\n`), flag);
      }
    }
  });

  it('keeps lines within 100 columns', () => {
    for (const sub of [undefined, 'start', 'tcp'] as const) {
      for (const line of forwardHelp(sub).split('\n')) assert.ok(line.length <= 100, line);
    }
  });
});
