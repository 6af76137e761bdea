import { request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, createServer, type Server, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A response read whole. */
export interface FullResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

/** Sends one request to `addr` (`host:port`) and reads the whole response. */
export function fetchRaw(
  addr: string,
  options: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string; timeoutMs?: number } = {},
): Promise<FullResponse> {
  const [host, port] = splitAddr(addr);
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 20_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens a request and resolves with the response as it starts (for streaming tests). */
export function openStream(addr: string, path: string, headers: OutgoingHttpHeaders): Promise<{ res: IncomingMessage; abort(): void }> {
  const [host, port] = splitAddr(addr);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent: false }, (res) => resolve({ res, abort: () => req.destroy() }));
    req.on('error', reject);
    req.end();
  });
}

/** `host:port` → [host, port]. */
export function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

/** A real HTTP service on 127.0.0.1 with a kernel-chosen port. */
export async function startService(handler: RequestListener): Promise<{ server: Server; port: number; addr: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    addr: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
