import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFileSchema } from '../../../../../src/adapters/platform/config/config-file.schema.js';
import { schemaLeaves } from '../../../../../src/adapters/platform/config/schema-tools.js';
import { serverConfigSchema } from '../../../../../src/adapters/platform/config/server-config.schema.js';
import { itFollowsTheConventions } from './schema-conventions.js';

const defaults = new Map(schemaLeaves(serverConfigSchema).map(({ path, field }) => [path, field.default]));

describe('serverConfigSchema', () => {
  itFollowsTheConventions(serverConfigSchema, 'PIKO_');

  describe('having Piko defaults (§16)', () => {
    const table: readonly [string, unknown][] = [
      ['proxy.bind_addr', ':8000'],
      ['proxy.advertise_addr', ''],
      ['proxy.timeout', '30s'],
      ['proxy.access_log.level', 'info'],
      ['proxy.access_log.disable', false],
      ['proxy.http.read_timeout', '10s'],
      ['proxy.http.read_header_timeout', '10s'],
      ['proxy.http.write_timeout', '10s'],
      ['proxy.http.idle_timeout', '5m'],
      ['proxy.http.max_header_bytes', 1_048_576],
      ['proxy.upstream_wait', '0s'],
      ['upstream.bind_addr', ':8001'],
      ['upstream.max_streams_per_session', 8192],
      ['upstream.keepalive_interval', '30s'],
      ['upstream.keepalive_timeout', '10s'],
      ['upstream.max_queued_control_frames', 1024],
      ['upstream.max_message_bytes', 4_194_304],
      ['upstream.rebalance.threshold', 0],
      ['upstream.rebalance.shed_rate', 0.005],
      ['upstream.rebalance.min_conns', 50],
      ['admin.bind_addr', ':8002'],
      ['proxy.auth.leeway', '5s'],
      ['proxy.auth.pass_authorization', false],
      ['upstream.auth.disable_disconnect_on_expiry', false],
      ['admin.auth.jwks.cache_ttl', '0s'],
      ['cluster.node_id', ''],
      ['cluster.join', []],
      ['cluster.join_timeout', '1m'],
      ['cluster.abort_if_join_fails', true],
      ['cluster.gossip.bind_addr', ':8003'],
      ['cluster.gossip.interval', '100ms'],
      ['cluster.gossip.advertise_addr', ''],
      ['cluster.gossip.max_packet_size', 1400],
      ['cluster.gossip.secret_key', ''],
      ['log.level', 'info'],
      ['log.subsystems', []],
      ['grace_period', '1m'],
    ];
    for (const [path, value] of table) {
      it(`${path} defaults to ${JSON.stringify(value)}`, () => assert.deepEqual(defaults.get(path), value));
    }
  });

  it('accepts every Piko server key of §2.2', () => {
    const pikoKeys = [
      'proxy.auth.hmac_secret_key', 'proxy.auth.rsa_public_key', 'proxy.auth.ecdsa_public_key', 'proxy.auth.audience',
      'proxy.auth.issuer', 'proxy.auth.disable_disconnect_on_expiry', 'proxy.auth.jwks.endpoint', 'proxy.auth.jwks.cache_ttl',
      'proxy.auth.jwks.timeout', 'proxy.tls.cert', 'proxy.tls.key', 'proxy.tls.client_cas', 'proxy.tls.client.cert',
      'proxy.tls.client.key', 'proxy.tls.client.root_cas', 'proxy.tls.client.insecure_skip_verify',
      'proxy.tls.client.server_name', 'upstream.advertise_addr', 'upstream.auth.issuer', 'upstream.tls.cert',
      'upstream.tenants', 'admin.advertise_addr', 'admin.auth.audience', 'admin.tls.key', 'cluster.node_id_prefix',
      'cluster.join', 'cluster.gossip.advertise_addr',
    ];
    for (const key of pikoKeys) assert.ok(defaults.has(key), key);
  });

  it('marks the unused upstream tls.client keys as warned, and every other key active (TLS, admin.tls.client and tenants too)', () => {
    for (const { path, field } of schemaLeaves(serverConfigSchema)) {
      if (/^upstream\.tls\.client\./.test(path)) assert.equal(field.inactive, 'warn', path);
      else assert.equal(field.inactive, undefined, path);
    }
  });

  it('hides secrets from messages', () => {
    const secret = schemaLeaves(serverConfigSchema).filter(({ field }) => field.sensitive === true).map(({ path }) => path);
    assert.deepEqual(secret, ['proxy.auth.hmac_secret_key', 'upstream.auth.hmac_secret_key', 'admin.auth.hmac_secret_key', 'cluster.gossip.secret_key']);
  });
});

describe('configFileSchema', () => {
  itFollowsTheConventions(configFileSchema, 'PIKO_');

  it('has --config.path and --config.expand-env', () => {
    assert.deepEqual(
      schemaLeaves(configFileSchema).map(({ field }) => [field.arg, field.env]),
      [
        ['config.path', 'PIKO_CONFIG_PATH'],
        ['config.expand-env', 'PIKO_CONFIG_EXPAND_ENV'],
      ],
    );
  });
});
