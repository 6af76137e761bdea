import type { SchemaTree } from './schema-tools.js';

/** Header filter fields (`allow_list`, `block_list`) for request or response headers. */
function headerFilterTree(which: 'request' | 'response'): SchemaTree {
  return {
    allow_list: {
      doc: `Only these ${which} headers are logged. Cannot be combined with block_list.`,
      format: 'header-list',
      default: [],
    },
    block_list: {
      doc: `These ${which} headers are left out of the log. Cannot be combined with allow_list.`,
      format: 'header-list',
      default: [],
    },
  };
}

/** The `access_log` group, shared by the server's proxy port and each agent listener (Piko's shape). */
export function accessLogTree(of: string): SchemaTree {
  return {
    level: { doc: `Level of ${of} access log records: debug, info, warn or error.`, format: 'log-level', default: 'info' },
    request_headers: headerFilterTree('request'),
    response_headers: headerFilterTree('response'),
    disable: { doc: `Turn the ${of} access log off.`, format: 'bool', default: false },
  };
}

/**
 * Piko's `connect.tls` group of the agent and of forward (client TLS to the server), accepted so Piko
 * configs load; setting any key is rejected, since ignoring it would silently weaken TLS.
 */
export const CONNECT_TLS_TREE: SchemaTree = (() => {
  const field = (doc: string, format: 'text' | 'bool' = 'text') => ({
    doc: `${doc} Not supported yet: setting it is an error.`,
    format,
    default: format === 'bool' ? false : '',
    inactive: 'reject' as const,
  });
  return {
    cert: field('Client certificate for the server.'),
    key: field('Key of connect.tls.cert.'),
    root_cas: field('CA bundle verifying the server.'),
    insecure_skip_verify: field('Skip verifying the server.', 'bool'),
  };
})();

/** The `log` group, shared by the server, the agent and forward. */
export const LOG_TREE: SchemaTree = {
  level: { doc: 'Minimum log level: debug, info, warn or error.', format: 'log-level', default: 'info' },
  subsystems: {
    doc: 'Subsystems (exact match, such as proxy or upstream) logged at every level regardless of log.level.',
    format: 'name-list',
    default: [],
  },
};
