import { ConfigError } from '../config/errors.js';
import type { AgentConfig, ClientTlsConfig, ForwardConfig, PortTlsConfig, ServerConfig } from '../config/types.js';

// Cross-field rules of the TLS groups, applied by the config loader after every value has passed its format.
// They read no file: the files are read (and their contents checked) when the program builds its TLS material.

/** Throws when only one of a certificate and its key is set: TLS needs both (Piko's rule). */
function checkPair(cert: string, key: string, prefix: string): void {
  if (cert !== '' && key === '') throw new ConfigError('CONFIG_INVALID_VALUE', `${prefix}.key`, `is required when ${prefix}.cert is set`);
  if (key !== '' && cert === '') throw new ConfigError('CONFIG_INVALID_VALUE', `${prefix}.cert`, `is required when ${prefix}.key is set`);
}

function checkPort(tls: PortTlsConfig, prefix: string): void {
  checkPair(tls.cert, tls.key, prefix);
  if (tls.clientCas !== '' && tls.cert === '') {
    throw new ConfigError('CONFIG_INVALID_VALUE', `${prefix}.client_cas`, `needs ${prefix}.cert and ${prefix}.key: client certificates are asked for in the TLS handshake`);
  }
}

const skipVerifyWarning = (prefix: string, what: string): string =>
  `config: ${prefix}.insecure_skip_verify: ${what} certificates are not verified; use it for testing only`;

/** The rules of one node-to-node client group (`<port>.tls.client`), used only when `<port>` serves TLS. */
function checkPeer(tls: ServerConfig['proxy']['tls'], port: 'proxy' | 'admin', warnings: string[]): void {
  const client = tls.client;
  checkPair(client.cert, client.key, `${port}.tls.client`);
  const clientSet = client.cert !== '' || client.rootCas !== '' || client.insecureSkipVerify || client.serverName !== '';
  if (clientSet && tls.cert === '') {
    warnings.push(`config: ${port}.tls.client: used only when the ${port} port serves TLS (${port}.tls.cert and ${port}.tls.key); ignored`);
  } else if (client.insecureSkipVerify) warnings.push(skipVerifyWarning(`${port}.tls.client`, "other nodes'"));
}

/**
 * The TLS rules of a server configuration: for each port, `cert` and `key` together and `client_cas` only with
 * them; `proxy.tls.client.cert` and `.key` together, and the same for `admin.tls.client`. Adds a warning when
 * `proxy.tls.client` (`admin.tls.client`) is set without proxy (admin) TLS: node-to-node TLS is used only when
 * that port serves TLS, as in Piko; and when it skips verification.
 */
export function checkServerTls(config: ServerConfig, warnings: string[]): void {
  checkPort(config.proxy.tls, 'proxy.tls');
  checkPort(config.upstream.tls, 'upstream.tls');
  checkPort(config.admin.tls, 'admin.tls');
  checkPeer(config.proxy.tls, 'proxy', warnings);
  checkPeer(config.admin.tls, 'admin', warnings);
}

const usesTls = (url: string): boolean => /^(https|wss):/i.test(url);

/**
 * The rules of one client TLS group (`connect.tls`): `cert` and `key` together; a warning when it is set but
 * `url` is not https/wss (it would not be used) and when it skips verification.
 */
export function checkClientTls(tls: ClientTlsConfig, prefix: string, url: string, urlKey: string, warnings: string[]): void {
  checkPair(tls.cert, tls.key, prefix);
  const set = tls.cert !== '' || tls.rootCas !== '' || tls.insecureSkipVerify;
  if (set && !usesTls(url)) warnings.push(`config: ${prefix}: used only with an https or wss ${urlKey}; ignored`);
  else if (tls.insecureSkipVerify) warnings.push(skipVerifyWarning(prefix, "the server's"));
}

/** The client TLS rules of the agent: `connect.tls` and each HTTP listener's `tls` (for an `https://` service). */
export function checkAgentTls(config: AgentConfig, warnings: string[]): void {
  checkClientTls(config.connect.tls, 'connect.tls', config.connect.url, 'connect.url', warnings);
  config.listeners.forEach((listener, i) => {
    checkClientTls(listener.tls, `listeners[${i}].tls`, listener.protocol === 'http' ? listener.addr : '', 'service addr', warnings);
  });
}

/** The client TLS rules of forward: `connect.tls`. */
export function checkForwardTls(config: ForwardConfig, warnings: string[]): void {
  checkClientTls(config.connect.tls, 'connect.tls', config.connect.url, 'connect.url', warnings);
}
