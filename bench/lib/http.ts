import { request } from 'node:http';

/** What one GET returned: its status, the body size and the time from the request to the last byte. */
export interface GetResult {
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * One GET on a fresh connection, reading and discarding the body. Rejects on a socket error or when the whole
 * exchange takes longer than `timeoutMs`.
 */
export function get(url: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<GetResult> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const req = request(url, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => {
        clearTimeout(timer);
        ok({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${url}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    req.end();
  });
}

/** Polls a GET until it answers `status` with a body of `bytes` bytes (if given); returns the last problem or undefined. */
export async function pollGet(
  url: string,
  headers: Readonly<Record<string, string>>,
  want: { status: number; bytes?: number },
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let problem = 'no attempt';
  while (Date.now() < deadline) {
    try {
      const r = await get(url, headers, 2000);
      if (r.status === want.status && (want.bytes === undefined || r.bytes === want.bytes)) return undefined;
      problem = `status ${r.status}, ${r.bytes} bytes`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return problem;
}

/** GET and parse a JSON body (small admin answers only). */
export function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((ok, fail) => {
    const req = request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return fail(new Error(`GET ${url}: status ${res.statusCode}`));
        try {
          ok(JSON.parse(text));
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    req.end();
  });
}
