import { CONNECT_TLS_TREE, LOG_TREE } from './shared-schema.js';
import { defineSchema } from './schema-tools.js';

/**
 * Schema of one forward port: an item of `ports:` in the forward YAML (§2.4 of the Piko notes), and the
 * single port of `forward tcp <addr> <endpoint>`, which takes both fields as positionals. Neither has a
 * flag or a variable, as in Piko.
 */
export const forwardPortConfigSchema = defineSchema(
  {
    addr: {
      doc: 'Local address to listen on: a port (3000 listens on 127.0.0.1 only) or host:port (0.0.0.0:3000).',
      format: 'forward-addr',
      default: '',
      noArg: true,
    },
    endpoint_id: {
      doc: 'Endpoint to connect to: 1 to 128 characters of [A-Za-z0-9._-], starting and ending alphanumeric.',
      format: 'endpoint-id',
      default: '',
      noArg: true,
    },
  },
  'PIKO_PORT_',
);

/**
 * Schema of `piko-ts forward`, keyed like Piko's forward YAML (§2.4). Piko's `connect.tls` keys are
 * accepted but rejected when set.
 *
 * Differs from Piko: `connect.timeout` bounds the WebSocket handshake of each forwarded connection (Piko
 * validates it but hard-codes 60 s).
 */
export const forwardConfigSchema = defineSchema(
  {
    ports: {
      doc: 'Ports opened by forward start: a list of mappings with addr and endpoint_id (YAML, or PIKO_PORTS as YAML/JSON text).',
      format: 'ports',
      default: [],
      noArg: true,
    },
    connect: {
      url: {
        doc: 'URL of the server proxy port (http, https, ws or wss; a base path is allowed).',
        format: 'connect-url',
        default: 'http://localhost:8000',
      },
      token: { doc: 'Token sent as Authorization: Bearer.', format: 'text', default: '', sensitive: true },
      timeout: {
        doc: 'Time allowed for the WebSocket handshake with the server, per forwarded connection; must not be 0.',
        format: 'nonzero-duration',
        default: '30s',
      },
      tls: CONNECT_TLS_TREE,
    },
    log: LOG_TREE,
  },
  'PIKO_',
);
