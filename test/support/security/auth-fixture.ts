import { execFile } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { DialError, dialWebSocket } from '../../../src/adapters/client/ws-upstream-dialer.js';

/** What `curl` got: the status, the body and the response headers (lower-cased names). */
export interface CurlResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Runs `curl -s -i <args>` (never through a proxy) and parses the answer; rejects when curl is missing or fails. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-i', '--noproxy', '*', '--max-time', '20', ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout) => {
      if (err !== null) return reject(err);
      const [head = '', ...rest] = stdout.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, body: rest.join('\r\n\r\n'), headers });
    });
  });
}

/** True when a `curl` binary answers `--version`. */
export function hasCurl(): Promise<boolean> {
  return new Promise((resolve) => execFile('curl', ['--version'], (err) => resolve(err === null)));
}

/**
 * Opens a WebSocket with `headers` and reports how the server answered: `open` (then closed at once), or the
 * refusal's status and message (`401: missing authorization`).
 */
export async function tryWebSocket(url: string, headers: Readonly<Record<string, string>> = {}): Promise<{ opened: boolean; status?: number; message?: string }> {
  try {
    const ws = await dialWebSocket(url, { headers, handshakeTimeoutMs: 10_000 });
    ws.terminate();
    return { opened: true };
  } catch (err) {
    if (!(err instanceof DialError)) throw err;
    return { opened: false, ...(err.status !== undefined ? { status: err.status } : {}), message: err.message };
  }
}

/** The headers a service saw, without the ones every proxied request carries. */
export function credentialHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((name) => name === 'authorization' || name === 'cookie' || name.startsWith('x-piko-'));
}
