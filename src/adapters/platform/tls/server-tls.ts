import type { Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { ServerConfig } from '../config/types.js';
import type { ReadPemFile } from './pem-files.js';
import { ReloadableTls, TlsReloadGroup, type WatchDirectory } from './reloadable-tls.js';
import { loadClientTls, loadServerTls, portTlsEnabled, type ClientTlsOptions, type ServerTlsOptions } from './tls-material.js';

/**
 * The TLS material of a server node, each part present only when configured: the three ports' certificates
 * (with their client CA bundles), and the node-to-node client TLS used to forward to peers, which exists exactly
 * when the proxy port serves TLS (peers' proxy ports then serve TLS too: every node of a cluster agrees). Likewise
 * `adminPeer` (`admin.tls.client`), with which `?forward=` asks peers' admin ports, exists exactly when the admin
 * port serves TLS. All parts reload together (`group`).
 */
export interface ServerTls {
  readonly group: TlsReloadGroup;
  readonly proxy?: ReloadableTls<ServerTlsOptions>;
  readonly upstream?: ReloadableTls<ServerTlsOptions>;
  readonly admin?: ReloadableTls<ServerTlsOptions>;
  readonly peer?: ReloadableTls<ClientTlsOptions>;
  readonly adminPeer?: ReloadableTls<ClientTlsOptions>;
}

/** Seams for tests. */
export interface ServerTlsSeams {
  readonly readFile?: ReadPemFile;
  readonly watchDirectory?: WatchDirectory;
}

/**
 * Reads every TLS file of a server configuration. Throws a TlsFileError (`config: proxy.tls.cert: <file>: <why>`)
 * for the first file that is missing, not PEM, or a key that does not match its certificate, so the node never
 * starts with half of its TLS.
 */
export function loadServerTlsMaterial(config: ServerConfig, clock: Clock, log: Logger, seams: ServerTlsSeams = {}): ServerTls {
  const group = new TlsReloadGroup();
  const tlsLog = log.child('tls');
  const common = { clock, log: tlsLog, ...(seams.watchDirectory !== undefined && { watchDirectory: seams.watchDirectory }) };
  const port = (name: 'proxy' | 'upstream' | 'admin') => {
    const tls = config[name].tls;
    if (!portTlsEnabled(tls)) return undefined;
    return group.add(new ReloadableTls({ name: `${name}.tls`, load: () => loadServerTls(tls, `${name}.tls`, seams.readFile), ...common }));
  };
  const proxy = port('proxy');
  const upstream = port('upstream');
  const admin = port('admin');
  const peerOf = (name: 'proxy' | 'admin') => {
    const tls = config[name].tls;
    if (!portTlsEnabled(tls)) return undefined;
    return group.add(new ReloadableTls({ name: `${name}.tls.client`, load: () => loadClientTls(tls.client, `${name}.tls.client`, seams.readFile), ...common }));
  };
  const peer = peerOf('proxy');
  const adminPeer = peerOf('admin');
  return {
    group,
    ...(proxy && { proxy }),
    ...(upstream && { upstream }),
    ...(admin && { admin }),
    ...(peer && { peer }),
    ...(adminPeer && { adminPeer }),
  };
}
