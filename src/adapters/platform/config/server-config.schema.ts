import { MIN_PACKET_SIZE } from './formats.js';
import { accessLogTree, LOG_TREE } from './shared-schema.js';
import { defineSchema, type SchemaTree } from './schema-tools.js';

const NOT_YET = 'Not supported yet: setting it is an error.';

/** Piko's JWT verification group (`<port>.auth`), accepted so Piko configs load; setting any key is rejected. */
function authTree(port: string): SchemaTree {
  const field = (doc: string, format: 'text' | 'bool' | 'duration', def: unknown, sensitive = false) => ({
    doc: `${doc} ${NOT_YET}`,
    format,
    default: def,
    inactive: 'reject' as const,
    ...(sensitive ? { sensitive: true } : {}),
  });
  return {
    hmac_secret_key: field(`Shared secret verifying HS256/384/512 tokens on the ${port} port.`, 'text', '', true),
    rsa_public_key: field('PEM text of an RSA public key verifying RS256/384/512 tokens.', 'text', ''),
    ecdsa_public_key: field('PEM text of an EC public key verifying ES256/384/512 tokens.', 'text', ''),
    audience: field('Required token audience.', 'text', ''),
    issuer: field('Required token issuer.', 'text', ''),
    disable_disconnect_on_expiry: field('Keep upstream connections open when their token expires.', 'bool', false),
    jwks: {
      endpoint: field('JWKS URL (http, https or file) to fetch verification keys from.', 'text', ''),
      cache_ttl: field('Refresh interval of a remote JWKS.', 'duration', '0s'),
      timeout: field('HTTP timeout fetching the JWKS.', 'duration', '0s'),
    },
  };
}

/** Piko's TLS group (`<port>.tls`), accepted so Piko configs load; setting any key is rejected. */
function tlsTree(port: string): SchemaTree {
  const field = (doc: string, format: 'text' | 'bool' = 'text') => ({
    doc: `${doc} ${NOT_YET}`,
    format,
    default: format === 'bool' ? false : '',
    inactive: 'reject' as const,
  });
  return {
    cert: field(`PEM certificate file of the ${port} port.`),
    key: field(`PEM key file of the ${port} port.`),
    client_cas: field('PEM CA bundle; when set, clients must present a certificate it verifies.'),
    client: {
      cert: field('Client certificate presented when dialling other nodes.'),
      key: field('Key of client.cert.'),
      root_cas: field('CA bundle verifying other nodes.'),
      insecure_skip_verify: field('Skip verifying other nodes.', 'bool'),
      server_name: field('Name to verify other nodes against.'),
    },
  };
}

/**
 * Schema of `piko-ts server`, keyed like Piko's server YAML (§2.2 of the Piko notes). Defaults are Piko's;
 * `upstream.max_streams_per_session` and `upstream.keepalive_*` are ours. Piko's auth, TLS and tenant keys
 * are accepted but rejected when set.
 */
export const serverConfigSchema = defineSchema(
  {
    proxy: {
      bind_addr: { doc: 'Listen address for downstream clients.', format: 'bind-addr', default: ':8000' },
      advertise_addr: {
        doc: 'Address other nodes use to forward requests to this node; inferred from bind_addr when empty.',
        format: 'advertise-addr',
        default: '',
      },
      timeout: {
        doc: 'Longest wait for the response headers, counted from the end of the request body; 0 turns it off. Never cuts an upload, a response body or an open WebSocket.',
        format: 'duration',
        default: '30s',
      },
      upstream_wait: {
        doc: 'How long a request for an endpoint with no upstream on any node waits for one to connect (an agent moving after its node drained); 0 fails it at once (piko-ts only).',
        format: 'duration',
        default: '0s',
      },
      access_log: accessLogTree('proxy'),
      http: {
        read_timeout: {
          doc: 'Accepted for Piko compatibility; never cuts a request body (uploads of any length pass). Used as the header-read timeout when read_header_timeout is 0.',
          format: 'duration',
          default: '10s',
        },
        read_header_timeout: {
          doc: 'Time allowed to read request headers; 0 falls back to read_timeout.',
          format: 'duration',
          default: '10s',
        },
        write_timeout: {
          doc: 'Accepted for Piko compatibility; never cuts a response (SSE, long polls and large downloads pass).',
          format: 'duration',
          default: '10s',
        },
        idle_timeout: { doc: 'How long an idle keep-alive connection is kept; 0 = none.', format: 'duration', default: '5m' },
        max_header_bytes: { doc: 'Largest request line plus headers, in bytes; over it the client gets 431.', format: 'positive-int', default: 1_048_576 },
        trusted_proxies: {
          doc: 'IPs and CIDR blocks of proxies in front of this one whose X-Forwarded-Host/-Proto/-Port are kept (X-Forwarded-For is always appended to); others get them overwritten (piko-ts only).',
          format: 'ip-cidr-list',
          default: [],
        },
        max_connections_per_ip: {
          doc: 'Most connections open at once from one client IP; more are answered 429 and closed. 0 = no limit (piko-ts only).',
          format: 'uint',
          default: 0,
        },
      },
      tcp: {
        max_message_bytes: {
          doc: 'Largest WebSocket message accepted on the TCP route; a larger one closes the tunnel (1009) (piko-ts only).',
          format: 'positive-int',
          default: 4_194_304,
        },
      },
      auth: authTree('proxy'),
      tls: tlsTree('proxy'),
    },
    upstream: {
      bind_addr: { doc: 'Listen address for agent (upstream) connections.', format: 'bind-addr', default: ':8001' },
      advertise_addr: {
        doc: 'Address agents are told to use for this node; inferred from bind_addr when empty.',
        format: 'advertise-addr',
        default: '',
      },
      max_streams_per_session: {
        doc: 'Most concurrent streams on one agent session (piko-ts only).',
        format: 'positive-int',
        default: 8192,
      },
      keepalive_interval: {
        doc: 'Interval of keepalive pings on agent sessions; 0 turns pings off (piko-ts only).',
        format: 'duration',
        default: '30s',
      },
      keepalive_timeout: {
        doc: 'A session whose ping is unanswered for this long is closed (piko-ts only).',
        format: 'nonzero-duration',
        default: '10s',
      },
      max_queued_control_frames: {
        doc: 'Most yamux control frames (ping replies, stream refusals) queued for an agent that does not read; one more closes its session with a protocol error (piko-ts only).',
        format: 'positive-int',
        default: 1024,
      },
      max_message_bytes: {
        doc: 'Largest WebSocket message accepted from an agent; a larger one closes its connection (1009) (piko-ts only).',
        format: 'positive-int',
        default: 4_194_304,
      },
      auth: authTree('upstream'),
      rebalance: {
        threshold: {
          doc: 'Shed agent connections when this node holds more than the cluster average by this fraction (0.2: 20 % above); 0 turns rebalancing off.',
          format: 'non-negative-number',
          default: 0,
        },
        shed_rate: { doc: 'Largest fraction of the cluster average shed per second.', format: 'ratio', default: 0.005 },
        min_conns: { doc: 'Do not rebalance a node holding fewer connections than this.', format: 'uint', default: 50 },
      },
      tls: tlsTree('upstream'),
      tenants: {
        doc: `Tenants with their own auth, as a list of mappings (YAML or PIKO_UPSTREAM_TENANTS). ${NOT_YET}`,
        format: 'tenants',
        default: [],
        inactive: 'reject',
        noArg: true,
      },
    },
    admin: {
      bind_addr: { doc: 'Listen address of the admin API (health, readiness, metrics, status).', format: 'bind-addr', default: ':8002' },
      advertise_addr: {
        doc: 'Address other nodes use to reach this admin API; inferred from bind_addr when empty.',
        format: 'advertise-addr',
        default: '',
      },
      auth: authTree('admin'),
      tls: tlsTree('admin'),
    },
    cluster: {
      node_id: {
        doc: 'Node ID, unique per process lifetime; generated (node_id_prefix + 7 random characters) when empty.',
        format: 'node-id',
        default: '',
      },
      node_id_prefix: { doc: 'Prefix of a generated node ID (such as a pod name and -).', format: 'node-id-prefix', default: '' },
      join: {
        doc: 'Addresses (host or host:port; a DNS name joins every A/AAAA record) of cluster members to join at start-up; empty starts a new cluster.',
        format: 'address-list',
        default: [],
      },
      join_timeout: { doc: 'Upper bound on the join retries (with backoff).', format: 'nonzero-duration', default: '1m' },
      abort_if_join_fails: {
        doc: 'Exit when no member could be joined within join_timeout; otherwise start as a cluster of one.',
        format: 'bool',
        default: true,
      },
      gossip: {
        bind_addr: { doc: 'Listen address of the membership gossip between cluster nodes.', format: 'bind-addr', default: ':8003' },
        advertise_addr: {
          doc: 'Gossip address given to peers; resolved at start-up from bind_addr when empty.',
          format: 'advertise-addr',
          default: '',
        },
        interval: { doc: 'Gossip round period; failure detection timings scale with it.', format: 'nonzero-duration', default: '100ms' },
        max_packet_size: {
          doc: `Largest gossip datagram, in bytes (${MIN_PACKET_SIZE} to 65507); larger state is spread over several rounds.`,
          format: 'packet-size',
          default: 1400,
        },
        secret_key: {
          doc: 'Shared key authenticating every gossip message (HMAC); others are dropped. Empty: no authentication. Prefer PIKO_CLUSTER_GOSSIP_SECRET_KEY to the flag (piko-ts only).',
          format: 'text',
          default: '',
          sensitive: true,
        },
      },
    },
    log: LOG_TREE,
    grace_period: { doc: 'Total budget for a graceful shutdown; must not be 0.', format: 'nonzero-duration', default: '1m' },
  },
  'PIKO_',
);
