import { MIN_PACKET_SIZE } from './formats.js';
import { accessLogTree, authTree, LOG_TREE, tlsTree } from './shared-schema.js';
import { defineSchema, field } from './schema-tools.js';

/**
 * Schema of `piko-ts server`, keyed like Piko's server YAML (§2.2 of the Piko notes). Defaults are Piko's;
 * keys marked "piko-ts only" are ours. TLS keys are file paths, read at start-up. Auth keys (PEM text) are parsed at start-up.
 * Each `upstream.tenants` item is resolved against {@link tenantConfigSchema}.
 */
export const serverConfigSchema = defineSchema(
  {
    proxy: {
      bind_addr: field('bind-addr', ':8000', 'Listen address for downstream clients.'),
      advertise_addr: field('advertise-addr', '', 'Address other nodes use to forward requests to this node; inferred from bind_addr when empty.'),
      timeout: field('duration', '30s', 'Longest wait for the response headers, counted from the end of the request body; 0 turns it off. ' +
        'Never cuts an upload, a response body or an open WebSocket.'),
      upstream_wait: field('duration', '0s', 'How long a request for an endpoint with no upstream on any node waits for one to connect ' +
        '(an agent moving after its node drained); 0 fails it at once (piko-ts only).'),
      access_log: accessLogTree('proxy'),
      http: {
        read_timeout: field('duration', '10s', 'Accepted for Piko compatibility; never cuts a request body (uploads of any length pass). ' +
          'Used as the header-read timeout when read_header_timeout is 0.'),
        read_header_timeout: field('duration', '10s', 'Time allowed to read request headers; 0 falls back to read_timeout.'),
        write_timeout: field('duration', '10s', 'Accepted for Piko compatibility; never cuts a response (SSE, long polls and large downloads pass).'),
        idle_timeout: field('duration', '5m', 'How long an idle keep-alive connection is kept; 0 = none.'),
        max_header_bytes: field('positive-int', 1_048_576, 'Largest request line plus headers, in bytes; over it the client gets 431.'),
        trusted_proxies: field('ip-cidr-list', [], 'IPs and CIDR blocks of proxies in front of this one whose X-Forwarded-Host/-Proto/-Port are kept ' +
          '(X-Forwarded-For is always appended to); others get them overwritten (piko-ts only).'),
        max_connections_per_ip: field('uint', 0, 'Most connections open at once from one client IP; more are answered 429 and closed. ' +
          '0 = no limit (piko-ts only).'),
      },
      tcp: {
        max_message_bytes: field('positive-int', 4_194_304, 'Largest WebSocket message accepted on the TCP route; a larger one closes the tunnel ' +
          '(1009) (piko-ts only).'),
      },
      auth: {
        ...authTree('proxy'),
        pass_authorization: field('bool', false, 'Pass the Authorization header on to the upstream service when it carried the proxy ' +
          'token (Piko always does); by default it is removed once verified. x-piko-authorization never reaches the service (piko-ts only).'),
      },
      tls: tlsTree('proxy'),
    },
    upstream: {
      bind_addr: field('bind-addr', ':8001', 'Listen address for agent (upstream) connections.'),
      advertise_addr: field('advertise-addr', '', 'Address agents are told to use for this node; inferred from bind_addr when empty.'),
      max_streams_per_session: field('positive-int', 8192, 'Most concurrent streams on one agent session (piko-ts only).'),
      keepalive_interval: field('duration', '30s', 'Interval of keepalive pings on agent sessions; 0 turns pings off (piko-ts only).'),
      keepalive_timeout: field('nonzero-duration', '10s', 'A session whose ping is unanswered for this long is closed (piko-ts only).'),
      max_queued_control_frames: field('positive-int', 1024, 'Most yamux control frames (ping replies, stream refusals) queued for an agent ' +
        'that does not read; one more closes its session with a protocol error (piko-ts only).'),
      max_message_bytes: field('positive-int', 4_194_304, 'Largest WebSocket message accepted from an agent; a larger one closes its ' +
        'connection (1009) (piko-ts only).'),
      auth: authTree('upstream'),
      rebalance: {
        threshold: field('non-negative-number', 0, 'Shed agent connections when this node holds more than the cluster average by this ' +
          'fraction (0.2: 20 % above); 0 turns rebalancing off.'),
        shed_rate: field('ratio', 0.005, 'Largest fraction of the cluster average shed per second.'),
        min_conns: field('uint', 50, 'Do not rebalance a node holding fewer connections than this.'),
      },
      tls: tlsTree('upstream'),
      tenants: field('tenants', [], 'Tenants with their own keys, as a list of { id, auth } mappings (YAML, or PIKO_UPSTREAM_TENANTS as ' +
        'YAML/JSON text); auth takes the keys of upstream.auth. An agent or client sending x-piko-tenant-id: <id> is verified with ' +
        'its keys, and its endpoints are its own (piko-ts namespaces them; Piko shares them between tenants).', { noArg: true }),
    },
    admin: {
      bind_addr: field('bind-addr', ':8002', 'Listen address of the admin API (health, readiness, metrics, status).'),
      advertise_addr: field('advertise-addr', '', 'Address other nodes use to reach this admin API; inferred from bind_addr when empty.'),
      auth: authTree('admin'),
      tls: tlsTree('admin'),
    },
    cluster: {
      node_id: field('node-id', '', 'Node ID, unique per process lifetime; generated (node_id_prefix + 7 random characters) when empty.'),
      node_id_prefix: field('node-id-prefix', '', 'Prefix of a generated node ID (such as a pod name and -).'),
      join: field('address-list', [], 'Addresses (host or host:port; a DNS name joins every A/AAAA record) of cluster members to join at ' +
        'start-up; empty starts a new cluster.'),
      join_timeout: field('nonzero-duration', '1m', 'Upper bound on the join retries (with backoff).'),
      abort_if_join_fails: field('bool', true, 'Exit when no member could be joined within join_timeout; otherwise start as a cluster of one.'),
      gossip: {
        bind_addr: field('bind-addr', ':8003', 'Listen address of the membership gossip between cluster nodes.'),
        advertise_addr: field('advertise-addr', '', 'Gossip address given to peers; resolved at start-up from bind_addr when empty.'),
        interval: field('nonzero-duration', '100ms', 'Gossip round period; failure detection timings scale with it.'),
        max_packet_size: field('packet-size', 1400, `Largest gossip datagram, in bytes (${MIN_PACKET_SIZE} to 65507); larger state is spread ` +
          'over several rounds.'),
        secret_key: field('text', '', 'Shared key authenticating every gossip message (HMAC); others are dropped. Empty: no authentication. ' +
          'Prefer PIKO_CLUSTER_GOSSIP_SECRET_KEY to the flag (piko-ts only).', { sensitive: true }),
      },
    },
    log: LOG_TREE,
    grace_period: field('nonzero-duration', '1m', 'Total budget for a graceful shutdown; must not be 0.'),
  },
  'PIKO_',
);

/**
 * Schema of one `upstream.tenants` item: its ID and an auth group with the keys of `upstream.auth` (YAML only, no
 * flags of its own). The loader requires a key or a JWKS endpoint in each.
 */
export const tenantConfigSchema = defineSchema(
  {
    id: field('tenant-id', '', 'Tenant ID, sent as x-piko-tenant-id: 1 to 64 characters of [A-Za-z0-9._-], starting and ending ' +
      'alphanumeric.', { noArg: true }),
    auth: authTree('tenant'),
  },
  'PIKO_TENANT_',
);
