import { clientTlsTree, LOG_TREE } from './shared-schema.js';
import { defineSchema, field } from './schema-tools.js';

/**
 * Schema of one forward port: an item of `ports:` in the forward YAML (§2.4 of the Piko notes), and the
 * single port of `forward tcp <addr> <endpoint>`, which takes both fields as positionals. Neither has a
 * flag or a variable, as in Piko.
 */
export const forwardPortConfigSchema = defineSchema(
  {
    addr: field('forward-addr', '', 'Local address to listen on: a port (3000 listens on 127.0.0.1 only) or host:port ' +
      '(0.0.0.0:3000).', { noArg: true }),
    endpoint_id: field('endpoint-id', '', 'Endpoint to connect to: 1 to 128 characters of [A-Za-z0-9._-], starting and ending ' +
      'alphanumeric.', { noArg: true }),
  },
  'PIKO_PORT_',
);

/**
 * Schema of `piko-ts forward`, keyed like Piko's forward YAML (§2.4). `connect.tls` is the client TLS towards
 * the server, as for the agent.
 *
 * Differs from Piko: `connect.timeout` bounds the WebSocket handshake of each forwarded connection (Piko
 * validates it but hard-codes 60 s).
 */
export const forwardConfigSchema = defineSchema(
  {
    ports: field('ports', [], 'Ports opened by forward start: a list of mappings with addr and endpoint_id (YAML, or PIKO_PORTS as ' +
      'YAML/JSON text).', { noArg: true }),
    connect: {
      url: field('connect-url', 'http://localhost:8000', 'URL of the server proxy port (http, https, ws or wss; a base path is allowed).'),
      token: field('text', '', 'Token sent as Authorization: Bearer.', { sensitive: true }),
      token_file: field('text', '', 'File holding the token, read for each new connection (so a rotated token is used at once) ' +
        '(piko-ts only). Cannot be combined with token.'),
      timeout: field('nonzero-duration', '30s', 'Time allowed for the WebSocket handshake with the server, per forwarded connection; must not be 0.'),
      tls: clientTlsTree('the server'),
    },
    log: LOG_TREE,
  },
  'PIKO_',
);
