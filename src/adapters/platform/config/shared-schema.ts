import { field, type FieldSpec, type SchemaTree } from './schema-tools.js';

/**
 * Piko's JWT verification group (`<port>.auth`), plus piko-ts's `leeway`. Auth is on for the port when a key or
 * a JWKS endpoint is set; keys are PEM text (not paths), parsed at start-up. The JWKS endpoint cannot be
 * combined with the keys (the loader refuses it, naming the key).
 */
export const authTree = (port: string): SchemaTree => ({
  hmac_secret_key: field('text', '', `Shared secret verifying HS256/384/512 tokens on the ${port} port; prefer ` +
    `PIKO_${port.toUpperCase()}_AUTH_HMAC_SECRET_KEY to the flag.`, { sensitive: true }),
  rsa_public_key: field('rsa-public-key', '', 'PEM text (not a file path) of an RSA public key verifying RS256/384/512 tokens.'),
  ecdsa_public_key: field('ec-public-key', '', 'PEM text (not a file path) of an EC public key verifying ES256/384/512 tokens.'),
  audience: field('text', '', 'When set, a token\'s aud must contain it.'),
  issuer: field('text', '', 'When set, a token\'s iss must equal it.'),
  disable_disconnect_on_expiry: field('bool', false, 'Keep an upstream connection open when its token expires (the token is still ' +
    'checked when it connects).'),
  leeway: field('duration', '5s', 'Clock difference tolerated when checking a token\'s exp and nbf (piko-ts only; Piko allows none).'),
  jwks: {
    endpoint: field('jwks-url', '', 'JWKS URL: http(s) is fetched at start-up and every cache_ttl (the last good keys keep serving while ' +
      'it is down), file:// is read once. Cannot be combined with the keys above.'),
    cache_ttl: field('duration', '0s', 'Refresh interval of an http(s) JWKS; 0 = 1h.'),
    timeout: field('duration', '0s', 'Timeout of each JWKS fetch; 0 = 1m.'),
  },
});

/** Options of one field of a TLS group: YAML-only groups (an agent listener's `tls`) get no flag. */
const tlsField = (format: 'text' | 'bool', doc: string, noArg: boolean, extra: Partial<FieldSpec> = {}): FieldSpec =>
  field(format, format === 'bool' ? false : '', doc, { ...extra, ...(noArg && { noArg }) });

/**
 * Piko's server TLS group (`<port>.tls`): file paths, read and checked at start-up and reloaded on SIGHUP or
 * when the files change. `client.*` is the node-to-node client TLS: the proxy port's forwards requests to peers'
 * proxy ports (as in Piko), the admin port's serves `?forward=` to peers' admin ports; the upstream port's is
 * accepted with a warning.
 */
export const tlsTree = (port: string): SchemaTree => {
  const peer = port === 'proxy' || port === 'admin';
  const client = (doc: string, format: 'text' | 'bool' = 'text'): FieldSpec =>
    tlsField(format, peer ? doc : `${doc} Accepted for Piko compatibility, not used (only proxy.tls.client and admin.tls.client are).`, false, peer ? {} : { inactive: 'warn' });
  const forwarding = port === 'admin' ? "forwarding ?forward= to other nodes' admin ports" : 'forwarding to other nodes';
  return {
    cert: tlsField('text', `PEM certificate file (the chain may follow) of the ${port} port; with key set, the port serves TLS only.`, false),
    key: tlsField('text', `PEM private key file of ${port}.tls.cert; required when cert is set.`, false),
    client_cas: tlsField('text', `PEM CA bundle file; when set, clients of the ${port} port must present a certificate it verifies (mTLS).`, false),
    client: {
      cert: client(`PEM client certificate file presented when ${forwarding} (node-to-node mTLS).`),
      key: client('PEM key file of client.cert.'),
      root_cas: client('PEM CA bundle file verifying other nodes; empty: the system roots.'),
      insecure_skip_verify: client('Skip verifying other nodes (testing only).', 'bool'),
      server_name: client('Name other nodes\' certificates are verified against (and sent as SNI); empty: the address dialled.'),
    },
  };
};

/** Piko's client TLS group: `connect.tls` of the agent and forward, and (YAML-only) `tls` of a listener. */
export const clientTlsTree = (of: string, noArg = false): SchemaTree => ({
  cert: tlsField('text', `PEM client certificate file presented to ${of} (mTLS).`, noArg),
  key: tlsField('text', `PEM key file of ${noArg ? 'tls.cert' : 'connect.tls.cert'}; required when cert is set.`, noArg),
  root_cas: tlsField('text', `PEM CA bundle file verifying ${of}; empty: the system roots.`, noArg),
  insecure_skip_verify: tlsField('bool', `Skip verifying ${of} (testing only).`, noArg),
});

/** The `access_log` group, shared by the server's proxy port and each agent listener (Piko's shape). */
export function accessLogTree(of: string): SchemaTree {
  const filter = (which: string): SchemaTree => ({
    allow_list: field('header-list', [], `Only these ${which} headers are logged. Cannot be combined with block_list.`),
    block_list: field('header-list', [], `These ${which} headers are left out of the log. Cannot be combined with allow_list.`),
  });
  return {
    level: field('log-level', 'info', `Level of ${of} access log records: debug, info, warn or error.`),
    request_headers: filter('request'),
    response_headers: filter('response'),
    disable: field('bool', false, `Turn the ${of} access log off.`),
  };
}

/** The `log` group, shared by the server, the agent and forward. */
export const LOG_TREE: SchemaTree = {
  level: field('log-level', 'info', 'Minimum log level: debug, info, warn or error.'),
  subsystems: field('name-list', [], 'Subsystems (exact match, such as proxy or upstream) logged at every level regardless of log.level.'),
};
