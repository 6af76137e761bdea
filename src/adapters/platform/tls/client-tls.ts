import type { Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { ClientTlsConfig } from '../config/types.js';
import { ReloadableTls, type TlsReloadGroup } from './reloadable-tls.js';
import { clientTlsConfigured, loadClientTls, type ClientTlsOptions } from './tls-material.js';

/** True for the URL schemes dialled over TLS. */
export const isTlsUrl = (url: string): boolean => /^(https|wss):/i.test(url);

/**
 * The client TLS configured under `prefix` (`connect.tls`, `listeners[0].tls`) for connections to `url`, read
 * from its files and added to `group` (reloaded with it), or undefined when nothing is configured or `url` is
 * not https/wss (the loader has warned). Throws a TlsFileError naming the key and file when a file cannot be used.
 */
export function clientTlsFor(
  tls: ClientTlsConfig,
  prefix: string,
  url: string,
  deps: { readonly clock: Clock; readonly log: Logger; readonly group: TlsReloadGroup },
): ReloadableTls<ClientTlsOptions> | undefined {
  if (!clientTlsConfigured(tls) || !isTlsUrl(url)) return undefined;
  return deps.group.add(new ReloadableTls({ name: prefix, load: () => loadClientTls(tls, prefix), clock: deps.clock, log: deps.log }));
}
