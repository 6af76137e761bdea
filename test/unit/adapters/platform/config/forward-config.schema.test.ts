import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentConfigSchema } from '../../../../../src/adapters/platform/config/agent-config.schema.js';
import { forwardConfigSchema, forwardPortConfigSchema } from '../../../../../src/adapters/platform/config/forward-config.schema.js';
import { schemaLeaves, type ConfigSchema } from '../../../../../src/adapters/platform/config/schema-tools.js';
import { itFollowsTheConventions } from './schema-conventions.js';

const defaultsOf = (schema: ConfigSchema) => new Map(schemaLeaves(schema).map(({ path, field }) => [path, field.default]));

describe('forwardConfigSchema', () => {
  itFollowsTheConventions(forwardConfigSchema, 'PIKO_');

  describe('having Piko defaults (§1.4, §2.4)', () => {
    const defaults = defaultsOf(forwardConfigSchema);
    const table: readonly [string, unknown][] = [
      ['ports', []],
      ['connect.url', 'http://localhost:8000'],
      ['connect.token', ''],
      ['connect.token_file', ''],
      ['connect.timeout', '30s'],
      ['connect.tls.cert', ''],
      ['connect.tls.key', ''],
      ['connect.tls.root_cas', ''],
      ['connect.tls.insecure_skip_verify', false],
      ['log.level', 'info'],
      ['log.subsystems', []],
    ];
    for (const [path, value] of table) {
      it(`${path} defaults to ${JSON.stringify(value)}`, () => assert.deepEqual(defaults.get(path), value));
    }
    it('has no other key', () => assert.deepEqual([...defaults.keys()], table.map(([path]) => path)));
  });

  it('has exactly Piko forward flags', () => {
    const flags = schemaLeaves(forwardConfigSchema).flatMap(({ field }) => (field.arg === undefined ? [] : [field.arg]));
    assert.deepEqual(flags, [
      'connect.url',
      'connect.token',
      'connect.token-file',
      'connect.timeout',
      'connect.tls.cert',
      'connect.tls.key',
      'connect.tls.root-cas',
      'connect.tls.insecure-skip-verify',
      'log.level',
      'log.subsystems',
    ]);
  });

  it('hides the connect token from messages', () => {
    const secret = schemaLeaves(forwardConfigSchema).filter(({ field }) => field.sensitive === true).map(({ path }) => path);
    assert.deepEqual(secret, ['connect.token']);
  });

  it('takes connect.tls as the agent does (active, with flags)', () => {
    const tls = schemaLeaves(forwardConfigSchema).filter(({ path }) => path.startsWith('connect.tls.'));
    assert.equal(tls.length, 4);
    for (const { field } of tls) assert.equal(field.inactive, undefined);
  });

  it('shares the variable names of the agent for the same keys', () => {
    const agentEnv = new Map(schemaLeaves(agentConfigSchema).map(({ path, field }) => [path, field.env]));
    for (const { path, field } of schemaLeaves(forwardConfigSchema)) {
      if (agentEnv.has(path)) assert.equal(field.env, agentEnv.get(path), path);
    }
  });
});

describe('forwardPortConfigSchema', () => {
  itFollowsTheConventions(forwardPortConfigSchema, 'PIKO_PORT_');

  it('has Piko keys, both required and neither a flag', () => {
    const leaves = schemaLeaves(forwardPortConfigSchema);
    assert.deepEqual(leaves.map(({ path }) => path), ['addr', 'endpoint_id']);
    for (const { field } of leaves) {
      assert.equal(field.default, '');
      assert.equal(field.arg, undefined);
    }
  });
});
