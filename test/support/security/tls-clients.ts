import { execFile } from 'node:child_process';
import { request, type Agent, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { splitAddr } from '../http.js';

/** A response read whole over HTTPS, with the serial of the certificate the server presented. */
export interface TlsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Upper-case hex, as `getPeerCertificate().serialNumber`. */
  readonly serverSerial: string;
  /** The TLS version negotiated (`TLSv1.3`). */
  readonly protocol: string;
  /** The socket the request went over (for keep-alive reuse checks). */
  readonly socket: TLSSocket;
}

/** TLS options of {@link httpsGet}: CA, client certificate, verification, an agent to pool connections. */
export type HttpsOptions = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'> & {
  readonly agent?: Agent;
  readonly headers?: OutgoingHttpHeaders;
  readonly path?: string;
  readonly timeoutMs?: number;
};

/** One GET over HTTPS to `addr` (`host:port`) with Node's client; rejects on a TLS or connection error. */
export function httpsGet(addr: string, options: HttpsOptions = {}): Promise<TlsResponse> {
  const [host, port] = splitAddr(addr);
  const { agent, headers, path, timeoutMs, ...tls } = options;
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: path ?? '/', headers, agent: agent ?? false, ...tls }, (res) => {
      const socket = res.socket as TLSSocket;
      const serverSerial = socket.getPeerCertificate().serialNumber ?? '';
      const protocol = socket.getProtocol() ?? '';
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // Without a pooling agent the connection is done with: do not leave it to the server's idle timeout.
        if (agent === undefined) socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), serverSerial, protocol, socket });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** What `curl` did: its exit code (0 on success), the HTTP status it got (0 when none) and the body. */
export interface CurlResult {
  readonly exitCode: number;
  readonly status: number;
  readonly body: string;
  readonly stderr: string;
}

/**
 * Runs the real `curl` (`-sS`, 10 s bound) with `args` before `url`, and reports the HTTP status from
 * `--write-out`. Curl's exit code says why a TLS connection failed (35 handshake, 56 receive, 60 verification).
 */
export function curl(url: string, args: readonly string[] = []): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '--write-out', '\n%{http_code}', ...args, url], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const cut = stdout.lastIndexOf('\n');
      const exitCode = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ exitCode, status: Number(stdout.slice(cut + 1)) || 0, body: stdout.slice(0, Math.max(0, cut)), stderr });
    });
  });
}
