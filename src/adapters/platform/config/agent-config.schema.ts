import { accessLogTree, CONNECT_TLS_TREE, LOG_TREE } from './shared-schema.js';
import { defineSchema } from './schema-tools.js';

const NOT_YET = 'Not supported yet: setting it is an error.';
const UNUSED = 'Accepted for Piko compatibility, not used yet.';

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
    endpoint_id: {
      doc: 'Endpoint to register: 1 to 128 characters of [A-Za-z0-9._-], starting and ending alphanumeric.',
      format: 'endpoint-id',
      default: '',
      noArg: true,
    },
    addr: {
      doc: 'Local service: a port (3000), host:port, or for http an http(s) URL with an optional path.',
      format: 'listener-addr',
      default: '',
      noArg: true,
    },
    protocol: { doc: 'Protocol of the local service: http or tcp.', format: 'protocol', default: 'http', noArg: true },
    access_log: accessLogTree('listener'),
    timeout: {
      doc: 'Time allowed for the local service to send response headers once the request body has been sent (http), or to accept the connection (tcp); 0 = none.',
      format: 'duration',
      default: '10s',
    },
    max_header_bytes: {
      doc: 'Largest request line plus headers accepted from the server (http); keep it above the server\'s proxy.http.max_header_bytes (piko-ts only).',
      format: 'positive-int',
      default: 4_194_304,
    },
    http_client: {
      keep_alive_timeout: { doc: `TCP keep-alive of connections to the service. ${UNUSED}`, format: 'duration', default: '30s', inactive: 'warn' },
      idle_conn_timeout: { doc: `Idle pooled connection timeout. ${UNUSED}`, format: 'duration', default: '90s', inactive: 'warn' },
      max_idle_conns: { doc: `Most idle pooled connections (-1 = unlimited). ${UNUSED}`, format: 'idle-conns', default: 100, inactive: 'warn' },
      disable_compression: { doc: `Do not ask the service for gzip. ${UNUSED}`, format: 'bool', default: false, inactive: 'warn' },
    },
    tls: {
      cert: { doc: `Client certificate for an https service. ${NOT_YET}`, format: 'text', default: '', inactive: 'reject', noArg: true },
      key: { doc: `Key of tls.cert. ${NOT_YET}`, format: 'text', default: '', inactive: 'reject', noArg: true },
      root_cas: { doc: `CA bundle verifying the service. ${NOT_YET}`, format: 'text', default: '', inactive: 'reject', noArg: true },
      insecure_skip_verify: { doc: `Skip verifying the service. ${NOT_YET}`, format: 'bool', default: false, inactive: 'reject', noArg: true },
    },
  },
  'PIKO_LISTENER_',
);

/** Listener keys that `agent tcp` takes as flags; the other listener flags apply to http only (as in Piko). */
export const TCP_LISTENER_KEYS: ReadonlySet<string> = new Set(['timeout', 'access_log.level', 'access_log.disable']);

/**
 * Schema of `piko-ts agent`, keyed like Piko's agent YAML (§2.3). Piko's `connect.tls` keys are accepted
 * but rejected when set; `connect.tenant_id` and `connect.proxy_url` are accepted with a warning.
 */
export const agentConfigSchema = defineSchema(
  {
    listeners: {
      doc: 'Listeners run by agent start: a list of mappings with the listener keys (YAML, or PIKO_LISTENERS as YAML/JSON text).',
      format: 'listeners',
      default: [],
      noArg: true,
    },
    connect: {
      url: {
        doc: 'URL of the server upstream port (http, https, ws or wss; a base path is allowed).',
        format: 'connect-url',
        default: 'http://localhost:8001',
      },
      token: { doc: 'Token sent as Authorization: Bearer.', format: 'text', default: '', sensitive: true },
      tenant_id: { doc: `Tenant ID sent as x-piko-tenant-id. ${UNUSED}`, format: 'text', default: '', inactive: 'warn' },
      timeout: {
        doc: 'Timeout of each connection attempt (the WebSocket handshake); failed attempts are retried forever with backoff. Must not be 0.',
        format: 'nonzero-duration',
        default: '30s',
      },
      startup_deadline: {
        doc: 'Exit 1 when a listener has not connected within this time of start-up; 0 waits forever (the default), so the server and the agent can start in any order.',
        format: 'duration',
        default: '0s',
      },
      proxy_url: { doc: `HTTP(S) proxy for the connection. ${UNUSED}`, format: 'optional-url', default: '', inactive: 'warn' },
      tls: CONNECT_TLS_TREE,
    },
    server: {
      enabled: { doc: 'Run the agent metrics server.', format: 'bool', default: false },
      bind_addr: {
        doc: 'Listen address of the agent metrics server; loopback by default (Piko binds every interface).',
        format: 'bind-addr',
        default: '127.0.0.1:5000',
      },
    },
    log: LOG_TREE,
    grace_period: { doc: 'Graceful-shutdown budget of each listener; must not be 0.', format: 'nonzero-duration', default: '1m' },
  },
  'PIKO_',
);
