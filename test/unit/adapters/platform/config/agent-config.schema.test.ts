import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentConfigSchema, listenerConfigSchema, TCP_LISTENER_KEYS } from '../../../../../src/adapters/platform/config/agent-config.schema.js';
import { schemaLeaves } from '../../../../../src/adapters/platform/config/schema-tools.js';
import { itFollowsTheConventions } from './schema-conventions.js';

const defaultsOf = (schema: typeof agentConfigSchema) =>
  new Map(schemaLeaves(schema).map(({ path, field }) => [path, field.default]));

describe('agentConfigSchema', () => {
  itFollowsTheConventions(agentConfigSchema, 'PIKO_');

  describe('having Piko defaults (§16)', () => {
    const defaults = defaultsOf(agentConfigSchema);
    const table: readonly [string, unknown][] = [
      ['listeners', []],
      ['connect.url', 'http://localhost:8001'],
      ['connect.token', ''],
      ['connect.token_file', ''],
      ['connect.timeout', '30s'],
      ['connect.startup_deadline', '0s'],
      ['server.enabled', false],
      ['server.bind_addr', '127.0.0.1:5000'],
      ['log.level', 'info'],
      ['log.subsystems', []],
      ['grace_period', '1m'],
    ];
    for (const [path, value] of table) {
      it(`${path} defaults to ${JSON.stringify(value)}`, () => assert.deepEqual(defaults.get(path), value));
    }
  });

  it('hides the connect token from messages', () => {
    const secret = schemaLeaves(agentConfigSchema).filter(({ field }) => field.sensitive === true).map(({ path }) => path);
    assert.deepEqual(secret, ['connect.token']);
  });
});

describe('listenerConfigSchema', () => {
  itFollowsTheConventions(listenerConfigSchema, 'PIKO_LISTENER_');

  it('defaults protocol to http (T8) and timeout to 10s', () => {
    const defaults = defaultsOf(listenerConfigSchema);
    assert.equal(defaults.get('protocol'), 'http');
    assert.equal(defaults.get('timeout'), '10s');
    assert.equal(defaults.get('access_log.level'), 'info');
  });

  it('takes endpoint_id, addr and protocol from the command line shape, not flags, and tls from YAML only', () => {
    const noArg = schemaLeaves(listenerConfigSchema).filter(({ field }) => field.noArg === true).map(({ path }) => path);
    assert.deepEqual(noArg, ['endpoint_id', 'addr', 'protocol', 'tls.cert', 'tls.key', 'tls.root_cas', 'tls.insecure_skip_verify']);
  });

  it('gives agent tcp only the flags Piko gives it', () => {
    assert.deepEqual([...TCP_LISTENER_KEYS].sort(), ['access_log.disable', 'access_log.level', 'timeout']);
  });

  it('has no flag that collides with an agent flag', () => {
    const agentFlags = new Set(schemaLeaves(agentConfigSchema).map(({ field }) => field.arg));
    for (const { field } of schemaLeaves(listenerConfigSchema)) {
      if (field.arg !== undefined) assert.ok(!agentFlags.has(field.arg), field.arg);
    }
  });
});
