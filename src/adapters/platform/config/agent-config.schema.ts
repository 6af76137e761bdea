import { accessLogTree, clientTlsTree, LOG_TREE } from './shared-schema.js';
import { defineSchema, field, type FieldSpec } from './schema-tools.js';

const unused = (format: FieldSpec['format'], value: unknown, doc: string): FieldSpec =>
  field(format, value, `${doc} Accepted for Piko compatibility, not used yet.`, { inactive: 'warn' });

/**
 * Schema of one agent listener: an item of `listeners:` in the agent YAML (§2.3 of the Piko notes), and the
 * single listener of `agent http|tcp <endpoint> <addr>`, whose flags are these keys dashed (`--timeout`,
 * `--access-log.level`) and whose variables are `PIKO_LISTENER_*`. `endpoint_id` and `addr` are the
 * positionals and `protocol` is the subcommand, so they have no flag; `tls` is YAML-only, as in Piko. The
 * loader honours `PIKO_LISTENER_*` variables only for fields that have a flag.
 *
 * Differs from Piko: `timeout` defaults to 10s in YAML too (Piko requires it there), and 0 means no timeout.
 */
export const listenerConfigSchema = defineSchema(
  {
    endpoint_id: field('endpoint-id', '', 'Endpoint to register: 1 to 128 characters of [A-Za-z0-9._-], starting and ending ' +
      'alphanumeric.', { noArg: true }),
    addr: field('listener-addr', '', 'Local service: a port (3000), host:port, or for http an http(s) URL with an optional path.', { noArg: true }),
    protocol: field('protocol', 'http', 'Protocol of the local service: http or tcp.', { noArg: true }),
    access_log: accessLogTree('listener'),
    timeout: field('duration', '10s', 'Time allowed for the local service to send response headers once the request body has been sent ' +
      '(http), or to accept the connection (tcp); 0 = none.'),
    max_header_bytes: field('positive-int', 4_194_304, 'Largest request line plus headers accepted from the server (http); keep it above ' +
      "the server's proxy.http.max_header_bytes (piko-ts only)."),
    http_client: {
      keep_alive_timeout: unused('duration', '30s', 'TCP keep-alive of connections to the service.'),
      idle_conn_timeout: unused('duration', '90s', 'Idle pooled connection timeout.'),
      max_idle_conns: unused('idle-conns', 100, 'Most idle pooled connections (-1 = unlimited).'),
      disable_compression: unused('bool', false, 'Do not ask the service for gzip.'),
    },
    tls: clientTlsTree('an https service', true),
  },
  'PIKO_LISTENER_',
);

/** Listener keys that `agent tcp` takes as flags; the other listener flags apply to http only (as in Piko). */
export const TCP_LISTENER_KEYS: ReadonlySet<string> = new Set(['timeout', 'access_log.level', 'access_log.disable']);

/**
 * Schema of `piko-ts agent`, keyed like Piko's agent YAML (§2.3). `connect.tls` is the client TLS towards
 * the server; `connect.proxy_url` is accepted with a warning.
 */
export const agentConfigSchema = defineSchema(
  {
    listeners: field('listeners', [], 'Listeners run by agent start: a list of mappings with the listener keys (YAML, or PIKO_LISTENERS ' +
      'as YAML/JSON text).', { noArg: true }),
    connect: {
      url: field('connect-url', 'http://localhost:8001', 'URL of the server upstream port (http, https, ws or wss; a base path is allowed).'),
      token: field('text', '', 'Token sent as Authorization: Bearer.', { sensitive: true }),
      token_file: field('text', '', 'File holding the token, re-read when it changes: the agent then registers a new connection ' +
        'with the new token before retiring the old one, so no request is dropped (piko-ts only). Cannot be combined with token.'),
      tenant_id: field('text', '', 'Tenant ID sent as x-piko-tenant-id: the server verifies the token with that tenant\'s keys ' +
        '(upstream.tenants) and registers the endpoints as the tenant\'s. Empty: the default tenant.'),
      timeout: field('nonzero-duration', '30s', 'Timeout of each connection attempt (the WebSocket handshake); failed attempts are retried ' +
        'forever with backoff. Must not be 0.'),
      startup_deadline: field('duration', '0s', 'Exit 1 when a listener has not connected within this time of start-up; 0 waits forever ' +
        '(the default), so the server and the agent can start in any order.'),
      proxy_url: unused('optional-url', '', 'HTTP(S) proxy for the connection.'),
      tls: clientTlsTree('the server'),
    },
    server: {
      enabled: field('bool', false, 'Run the agent metrics server.'),
      bind_addr: field('bind-addr', '127.0.0.1:5000', 'Listen address of the agent metrics server; loopback by default (Piko binds every interface).'),
    },
    log: LOG_TREE,
    grace_period: field('nonzero-duration', '1m', 'Graceful-shutdown budget of each listener; must not be 0.'),
  },
  'PIKO_',
);
