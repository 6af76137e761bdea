import { field, type FieldSpec, type SchemaTree } from './schema-tools.js';

type Unsupported = readonly [doc: string, format?: 'text' | 'bool' | 'duration', sensitive?: boolean];
interface UnsupportedGroup {
  readonly [key: string]: Unsupported | UnsupportedGroup;
}

const isUnsupported = (spec: Unsupported | UnsupportedGroup): spec is Unsupported => Array.isArray(spec);

/**
 * A group of Piko options accepted so that Piko configs load, each rejected when set to anything but its
 * default (ignoring auth or TLS would silently weaken security). `noArg` groups are YAML-only, as in Piko.
 */
export function unsupportedTree(fields: UnsupportedGroup, noArg = false): SchemaTree {
  const leaf = ([doc, format = 'text', sensitive]: Unsupported): FieldSpec =>
    field(format, format === 'bool' ? false : format === 'duration' ? '0s' : '', `${doc} Not supported yet: setting it is an error.`, {
      inactive: 'reject',
      ...(sensitive === true && { sensitive }),
      ...(noArg && { noArg }),
    });
  return Object.fromEntries(Object.entries(fields).map(([key, spec]) => [key, isUnsupported(spec) ? leaf(spec) : unsupportedTree(spec, noArg)]));
}

/** Piko's JWT verification group (`<port>.auth`). */
export const authTree = (port: string): SchemaTree =>
  unsupportedTree({
    hmac_secret_key: [`Shared secret verifying HS256/384/512 tokens on the ${port} port.`, 'text', true],
    rsa_public_key: ['PEM text of an RSA public key verifying RS256/384/512 tokens.'],
    ecdsa_public_key: ['PEM text of an EC public key verifying ES256/384/512 tokens.'],
    audience: ['Required token audience.'],
    issuer: ['Required token issuer.'],
    disable_disconnect_on_expiry: ['Keep upstream connections open when their token expires.', 'bool'],
    jwks: {
      endpoint: ['JWKS URL (http, https or file) to fetch verification keys from.'],
      cache_ttl: ['Refresh interval of a remote JWKS.', 'duration'],
      timeout: ['HTTP timeout fetching the JWKS.', 'duration'],
    },
  });

/** Options of one field of a TLS group: YAML-only groups (an agent listener's `tls`) get no flag. */
const tlsField = (format: 'text' | 'bool', doc: string, noArg: boolean, extra: Partial<FieldSpec> = {}): FieldSpec =>
  field(format, format === 'bool' ? false : '', doc, { ...extra, ...(noArg && { noArg }) });

/**
 * Piko's server TLS group (`<port>.tls`): file paths, read and checked at start-up and reloaded on SIGHUP or
 * when the files change. `client.*` is the node-to-node client TLS; only the proxy port's is used (as in Piko),
 * the others are accepted with a warning.
 */
export const tlsTree = (port: string): SchemaTree => {
  const peer = port === 'proxy';
  const client = (doc: string, format: 'text' | 'bool' = 'text'): FieldSpec =>
    tlsField(format, peer ? doc : `${doc} Accepted for Piko compatibility, not used (only proxy.tls.client is).`, false, peer ? {} : { inactive: 'warn' });
  return {
    cert: tlsField('text', `PEM certificate file (the chain may follow) of the ${port} port; with key set, the port serves TLS only.`, false),
    key: tlsField('text', `PEM private key file of ${port}.tls.cert; required when cert is set.`, false),
    client_cas: tlsField('text', `PEM CA bundle file; when set, clients of the ${port} port must present a certificate it verifies (mTLS).`, false),
    client: {
      cert: client('PEM client certificate file presented when forwarding to other nodes (node-to-node mTLS).'),
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
