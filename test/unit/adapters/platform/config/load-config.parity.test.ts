import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { agentConfigSchema, listenerConfigSchema } from '../../../../../src/adapters/platform/config/agent-config.schema.js';
import { configFileSchema } from '../../../../../src/adapters/platform/config/config-file.schema.js';
import { ConfigError } from '../../../../../src/adapters/platform/config/errors.js';
import { CONFIG_FORMATS, type FormatName } from '../../../../../src/adapters/platform/config/formats.js';
import { forwardConfigSchema } from '../../../../../src/adapters/platform/config/forward-config.schema.js';
import { loadAgentConfig, loadForwardConfig, loadServerConfig, type Env, type LoadResult } from '../../../../../src/adapters/platform/config/load-config.js';
import { schemaLeaves, type SchemaLeaf } from '../../../../../src/adapters/platform/config/schema-tools.js';
import { serverConfigSchema } from '../../../../../src/adapters/platform/config/server-config.schema.js';
import { CONFIG_PATH, withFile } from './config-test-helpers.js';

// T11: every flag has a config file key, and a variable, with the same effect. Generated from the schemas,
// so a field added without one of the three spellings working fails here.

const encodings = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;

/** A valid, non-default value per format (schema-shaped). */
const SAMPLES: Readonly<Record<FormatName, unknown>> = {
  duration: '7s',
  'nonzero-duration': '7s',
  'bind-addr': '127.0.0.1:9999',
  'advertise-addr': '10.0.0.1:9999',
  'log-level': 'debug',
  protocol: 'tcp',
  bool: true,
  'positive-int': 4242,
  uint: 7,
  'idle-conns': -1,
  'packet-size': 1500,
  'non-negative-number': 0.5,
  ratio: 0.5,
  text: 'sample',
  'header-list': ['x-a', 'x-b'],
  'name-list': ['proxy', 'upstream'],
  'address-list': ['10.0.0.2:8003', 'node-b'],
  'ip-cidr-list': ['10.0.0.0/8', '::1'],
  'node-id': 'node-x',
  'node-id-prefix': 'pod-',
  'connect-url': 'https://piko.example.com:8001/base',
  'optional-url': 'http://proxy.example.com:3128',
  'endpoint-id': 'sample-endpoint',
  'listener-addr': '4000',
  'forward-addr': '4000',
  listeners: [{ endpoint_id: 'sample', addr: '4000' }],
  ports: [{ addr: '4000', endpoint_id: 'sample' }],
  tenants: [{ id: 'tenant-1', auth: { hmac_secret_key: 'tenant-1-secret' } }],
  'tenant-id': 'tenant-1',
  'rsa-public-key': generateKeyPairSync('rsa', { modulusLength: 1024, ...encodings }).publicKey,
  'ec-public-key': generateKeyPairSync('ec', { namedCurve: 'P-256', ...encodings }).publicKey,
  'jwks-url': 'https://idp.example.com/.well-known/jwks.json',
};

function sampleFor(leaf: SchemaLeaf): unknown {
  const { format, default: def } = leaf.field;
  return format === 'bool' ? !def : SAMPLES[format];
}

function flagArgs(leaf: SchemaLeaf, value: unknown): string[] {
  const name = `--${leaf.field.arg ?? ''}`;
  if (CONFIG_FORMATS[leaf.field.format].flag === 'bool') return value === true ? [name] : [`${name}=false`];
  return [name, Array.isArray(value) ? value.join(',') : String(value)];
}

function envText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function nested(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** What a load produced, comparable across spellings: the config and warnings, or the error's code and key. */
function outcome(load: () => LoadResult<unknown>, listenerPrefix = ''): unknown {
  try {
    const result = load();
    if (result.kind === 'help') return 'help';
    const warnings = result.warnings.map((w) => w.replace(listenerPrefix, 'LISTENER.'));
    return { config: result.config, warnings };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { error: err.code, subject: err.subject.replace(listenerPrefix, 'LISTENER.') };
  }
}

function flaggedLeaves(schema: typeof serverConfigSchema): SchemaLeaf[] {
  return schemaLeaves(schema).filter((leaf) => leaf.field.arg !== undefined);
}

describe('every flag, config key and variable', () => {
  describe('of the server', () => {
    const load = (argv: string[], env: Env, yaml?: string) => () =>
      loadServerConfig(yaml === undefined ? argv : [...argv, '--config.path', CONFIG_PATH], env, withFile(yaml));
    const defaults = outcome(load([], {}));

    for (const leaf of flaggedLeaves(serverConfigSchema)) {
      it(`--${leaf.field.arg} = ${leaf.path} = ${leaf.field.env}`, () => {
        const value = sampleFor(leaf);
        const byFlag = outcome(load(flagArgs(leaf, value), {}));
        assert.notDeepEqual(byFlag, defaults, 'the sample must change something');
        assert.deepEqual(outcome(load([], {}, stringify(nested(leaf.path, value)))), byFlag);
        assert.deepEqual(outcome(load([], { [leaf.field.env]: envText(value) })), byFlag);
      });
    }
  });

  describe('of the agent', () => {
    const load = (argv: string[], env: Env, yaml?: string) => () =>
      loadAgentConfig(['http', 'ep', '3000', ...argv, ...(yaml === undefined ? [] : ['--config.path', CONFIG_PATH])], env, withFile(yaml));
    const defaults = outcome(load([], {}));

    for (const leaf of flaggedLeaves(agentConfigSchema)) {
      it(`--${leaf.field.arg} = ${leaf.path} = ${leaf.field.env}`, () => {
        const value = sampleFor(leaf);
        const byFlag = outcome(load(flagArgs(leaf, value), {}));
        assert.notDeepEqual(byFlag, defaults, 'the sample must change something');
        assert.deepEqual(outcome(load([], {}, stringify(nested(leaf.path, value)))), byFlag);
        assert.deepEqual(outcome(load([], { [leaf.field.env]: envText(value) })), byFlag);
      });
    }
  });

  describe('of an agent listener', () => {
    // The flag form is `agent http ep 3000 --flag`; the key form is a listeners[] item of `agent start`.
    const byFlags = (argv: string[], env: Env) => () => loadAgentConfig(['http', 'ep', '3000', ...argv], env, withFile(undefined));
    const byFile = (item: Record<string, unknown>) => () =>
      loadAgentConfig(
        ['start', '--config.path', CONFIG_PATH],
        {},
        withFile(stringify({ listeners: [{ endpoint_id: 'ep', addr: '3000', ...item }] })),
      );
    const defaults = outcome(byFlags([], {}), 'listener.');

    for (const leaf of flaggedLeaves(listenerConfigSchema)) {
      it(`--${leaf.field.arg} = listeners[].${leaf.path} = ${leaf.field.env}`, () => {
        const value = sampleFor(leaf);
        const byFlag = outcome(byFlags(flagArgs(leaf, value), {}), 'listener.');
        assert.notDeepEqual(byFlag, defaults, 'the sample must change something');
        assert.deepEqual(outcome(byFile(nested(leaf.path, value)), 'listeners[0].'), byFlag);
        assert.deepEqual(outcome(byFlags([], { [leaf.field.env]: envText(value) }), 'listener.'), byFlag);
      });
    }
  });

  describe('of forward', () => {
    const load = (argv: string[], env: Env, yaml?: string) => () =>
      loadForwardConfig(['tcp', '3000', 'ep', ...argv, ...(yaml === undefined ? [] : ['--config.path', CONFIG_PATH])], env, withFile(yaml));
    const defaults = outcome(load([], {}));

    for (const leaf of flaggedLeaves(forwardConfigSchema)) {
      it(`--${leaf.field.arg} = ${leaf.path} = ${leaf.field.env}`, () => {
        const value = sampleFor(leaf);
        const byFlag = outcome(load(flagArgs(leaf, value), {}));
        assert.notDeepEqual(byFlag, defaults, 'the sample must change something');
        assert.deepEqual(outcome(load([], {}, stringify(nested(leaf.path, value)))), byFlag);
        assert.deepEqual(outcome(load([], { [leaf.field.env]: envText(value) })), byFlag);
      });
    }
  });

  it('leaves only --config.* without a config key, by design', () => {
    const keyed = new Set([serverConfigSchema, agentConfigSchema, listenerConfigSchema, forwardConfigSchema].flatMap((s) => schemaLeaves(s).map((l) => l.field.arg)));
    const unkeyed = schemaLeaves(configFileSchema).map((l) => l.field.arg);
    assert.deepEqual(unkeyed, ['config.path', 'config.expand-env']);
    for (const flag of unkeyed) assert.ok(!keyed.has(flag));
  });

  it('has a sample for every format', () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), Object.keys(CONFIG_FORMATS).sort());
  });
});
