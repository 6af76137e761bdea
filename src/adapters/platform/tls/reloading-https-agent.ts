import { Agent as HttpsAgent, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientTlsOptions } from './tls-material.js';

/** Where an agent reads the client TLS options in force (a ReloadableTls, or a fixed value). */
export interface ClientTlsSource {
  readonly current: ClientTlsOptions;
}

/**
 * A keep-alive https.Agent whose new connections use the client TLS options in force at the time
 * (`source.current`: CA bundle, client certificate, verification), so a reloaded certificate applies to the next
 * connection while pooled ones carry on. The name verified (and sent as SNI) is `servername` when configured,
 * else the host dialled: never the `Host` header of the request, which a proxy passes on from its client (Node
 * would otherwise derive SNI from it). TLS sessions are not cached, so a reloaded client certificate is always
 * presented.
 */
export class ReloadingHttpsAgent extends HttpsAgent {
  constructor(
    private readonly source: ClientTlsSource,
    options: AgentOptions = {},
  ) {
    super({ ...options, maxCachedSessions: 0 });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const tls = this.source.current;
    const host = String(options.hostname ?? options.host ?? 'localhost');
    const servername = tls.servername ?? (isIP(host) === 0 ? host : '');
    return super.createConnection({ ...options, ...tls, servername }, callback);
  }
}
