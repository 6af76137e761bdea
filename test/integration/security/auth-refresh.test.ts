import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveHttp, type EndpointListener } from '../../../src/index.js';
import { fetchRaw, startService } from '../../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { nowS, signHmac } from '../../support/security/tokens.js';

const SECRET = 'upstream-secret-of-at-least-32-bytes';
/**
 * Token lifetime: short, so that several refreshes happen within the test, yet long enough that a request in
 * flight on a retired connection (seconds on a loaded machine) finishes before the server cuts it at expiry.
 */
const LIFETIME_S = 12;
/** How often the agent's token file is rotated. */
const ROTATE_MS = 3_000;
/**
 * Each request loop runs until the refreshes its test waits for have happened and at least {@link MIN_LOOP_MS} has
 * passed, bounded in time and in count. (It must not end on the count alone: a fast machine sends 20,000 requests
 * before the second refresh is due.)
 */
const MIN_LOOP_MS = 12_000;
const MAX_LOOP_MS = 60_000;
const MAX_REQUESTS = 500_000;

interface LoopResult {
  readonly sent: number;
  readonly failures: string[];
}

/**
 * Three workers sending GETs and POSTs with a body through the proxy, one at a time each, until `enough()` holds
 * (after {@link MIN_LOOP_MS}), or the deadline or the count bound is reached.
 */
async function requestLoop(proxy: string, endpoint: string, enough: () => boolean): Promise<LoopResult> {
  const started = Date.now();
  let sent = 0;
  const failures: string[] = [];
  const going = (): boolean => {
    const elapsed = Date.now() - started;
    return elapsed < MAX_LOOP_MS && sent < MAX_REQUESTS && (elapsed < MIN_LOOP_MS || !enough());
  };
  const worker = async (id: number): Promise<void> => {
    for (let i = 0; going(); i++) {
      sent++;
      const post = i % 2 === 1;
      const body = post ? `w${id}-${i}-`.padEnd(1024, 'x') : undefined;
      try {
        const res = await fetchRaw(proxy, {
          method: post ? 'POST' : 'GET',
          path: `/w${id}/${i}`,
          headers: { 'x-piko-endpoint': endpoint, ...(body !== undefined ? { 'content-type': 'text/plain' } : {}) },
          ...(body !== undefined ? { body } : {}),
          timeoutMs: 10_000,
        });
        const expected = post ? `${body?.length ?? 0}` : 'ok';
        if (res.status !== 200 || res.body.toString() !== expected) failures.push(`${post ? 'POST' : 'GET'} ${res.status} ${res.body.toString().slice(0, 80)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  await Promise.all([0, 1, 2].map(worker));
  return { sent, failures };
}

/** A service answering `ok` to GETs and the length of the body to POSTs. */
function handler(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => res.end(req.method === 'POST' ? String(n) : 'ok'));
}

/**
 * Token refresh (Piko has none): the agent registers a new connection with the fresh token, then sends go-away on
 * the old one, whose requests finish there. A steady request loop must see no failure across several refreshes,
 * and the server must never have to cut a connection at expiry.
 */
describe('token refresh without dropped traffic', () => {
  const procs: Proc[] = [];
  let server: ServerProc;
  let service: Awaited<ReturnType<typeof startService>>;
  let dir: string;

  before(async () => {
    service = await startService(handler);
    server = await startServer(['--upstream.auth.leeway', '0s'], { PIKO_UPSTREAM_AUTH_HMAC_SECRET_KEY: SECRET });
    procs.push(server);
    dir = mkdtempSync(join(tmpdir(), 'auth-refresh-'));
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the agent follows connect.token_file: a rotated token moves the registration with no failed request', async () => {
    const file = join(dir, 'token');
    /** Writes a token as Kubernetes swaps a secret: a new file renamed over the old one. */
    const rotate = async (): Promise<void> => {
      writeFileSync(`${file}.tmp`, `${await signHmac(SECRET, { exp: nowS(LIFETIME_S), piko: { endpoints: ['refreshed'] } })}\n`);
      renameSync(`${file}.tmp`, file);
    };
    await rotate();
    const agent = await startAgent(['http', 'refreshed', String(service.port), '--connect.url', `http://${server.addrs.upstream}`, '--connect.token-file', file]);
    procs.push(agent);
    const rotations = setInterval(() => void rotate(), ROTATE_MS);
    const countRefreshes = (): number => agent.lines.filter((l) => l.message === 'token refreshed: registered a new connection').length;
    let result: LoopResult;
    try {
      result = await requestLoop(server.addrs.proxy, 'refreshed', () => countRefreshes() >= 3);
    } finally {
      clearInterval(rotations);
    }
    // Stopped now: its last token would expire during the next test.
    await agent.stop();
    const refreshes = countRefreshes();
    assert.ok(refreshes >= 3, `expected at least 3 refreshes, saw ${refreshes}`);
    assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.sent} requests failed`);
    const expired = (endpoint: string) => server.lines.some((l) => l.message === 'upstream token expired' && l['endpoint-id'] === endpoint);
    assert.ok(!expired('refreshed'), 'every old connection was retired before its token expired');
    assert.ok(!agent.lines.some((l) => l.message === 'disconnected; reconnecting'));
  });

  it('the SDK retries a token function that fails, as a failed connect', async () => {
    let calls = 0;
    const listener = await serveHttp('flaky-token', handler, {
      url: `http://${server.addrs.upstream}`,
      minReconnectBackoffMs: 10,
      token: () => {
        calls++;
        if (calls < 3) throw new Error('token service unavailable');
        return signHmac(SECRET, { exp: nowS(60), piko: { endpoints: ['flaky-token'] } });
      },
    });
    try {
      assert.equal(calls, 3);
      assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'flaky-token' } })).status, 200);
    } finally {
      listener.shutdown();
    }
  });

  it('the SDK asks its token function again before the token expires, with no failed request', async () => {
    let issued = 0;
    const sdkLog: string[] = [];
    const record = (level: string) => (message: string, fields?: object) => sdkLog.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    const listener: EndpointListener = await serveHttp('sdk-refreshed', handler, {
      url: `http://${server.addrs.upstream}`,
      logger: { info: record('info'), warn: record('warn'), error: record('error') },
      token: () => {
        issued++;
        return signHmac(SECRET, { exp: nowS(LIFETIME_S), piko: { endpoints: ['sdk-refreshed'] } });
      },
    });
    let refreshed = 0;
    listener.on('refreshed', () => refreshed++);
    try {
      const result = await requestLoop(server.addrs.proxy, 'sdk-refreshed', () => refreshed >= 2);
      assert.ok(issued >= 3, `expected at least 3 tokens, issued ${issued}`);
      const warnings = server.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => JSON.stringify(l));
      assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.sent} requests failed; server:\n${warnings.join('\n')}\nSDK:\n${sdkLog.join('\n')}`);
      assert.ok(!server.lines.some((l) => l.message === 'upstream token expired' && l['endpoint-id'] === 'sdk-refreshed'), `the server cut a connection at expiry; the SDK logged:\n${sdkLog.join('\n')}`);
      const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'sdk-refreshed' } });
      assert.equal(res.status, 200);
      assert.ok(refreshed >= 2, `expected at least 2 refreshes, saw ${refreshed}`);
    } finally {
      listener.shutdown();
    }
  });
});
