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

/** Piko's server TLS group (`<port>.tls`). */
export const tlsTree = (port: string): SchemaTree =>
  unsupportedTree({
    cert: [`PEM certificate file of the ${port} port.`],
    key: [`PEM key file of the ${port} port.`],
    client_cas: ['PEM CA bundle; when set, clients must present a certificate it verifies.'],
    client: {
      cert: ['Client certificate presented when dialling other nodes.'],
      key: ['Key of client.cert.'],
      root_cas: ['CA bundle verifying other nodes.'],
      insecure_skip_verify: ['Skip verifying other nodes.', 'bool'],
      server_name: ['Name to verify other nodes against.'],
    },
  });

/** Piko's client TLS group: `connect.tls` of the agent and forward, and (YAML-only) `tls` of a listener. */
export const clientTlsTree = (of: string, noArg = false): SchemaTree =>
  unsupportedTree(
    {
      cert: [`Client certificate for ${of}.`],
      key: [noArg ? 'Key of tls.cert.' : 'Key of connect.tls.cert.'],
      root_cas: [`CA bundle verifying ${of}.`],
      insecure_skip_verify: [`Skip verifying ${of}.`, 'bool'],
    },
    noArg,
  );

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
