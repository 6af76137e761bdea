import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { eventually, fetchRaw } from '../../support/http.js';
import { SERVER_JS, spawnNode, startServer, type ServerProc } from '../../support/processes.js';
import { jwksOf, makeSigningKey, nowS, signWith, type SigningKey } from '../../support/security/tokens.js';

/** A JWKS endpoint on 127.0.0.1 serving `keys`; `stop` takes it down, `start` brings it back on the same port. */
class JwksServer {
  keys: { keys: unknown[] } = { keys: [] };
  fetches = 0;
  port = 0;
  #server: Server | undefined;

  async start(): Promise<void> {
    const server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.keys));
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }
}

const status = async (server: ServerProc, token: string): Promise<number> =>
  (await fetchRaw(server.addrs.admin, { path: '/health', headers: { authorization: `Bearer ${token}` } })).status;

/**
 * Key rotation with a JWKS served over HTTP by a local server: the node picks up a new key set on its refresh
 * (`jwks.cache_ttl`), refuses the retired key from then on, and keeps serving the last good keys while the JWKS
 * endpoint is down (each failed fetch logged and counted).
 */
describe('JWKS rotation', () => {
  const jwks = new JwksServer();
  let server: ServerProc;
  let first: SigningKey;
  let second: SigningKey;
  let third: SigningKey;

  before(async () => {
    [first, second, third] = await Promise.all([makeSigningKey('RS256', 'key-1'), makeSigningKey('ES256', 'key-2'), makeSigningKey('RS256', 'key-3')]);
    jwks.keys = jwksOf(first);
    await jwks.start();
    server = await startServer(['--admin.auth.jwks.endpoint', jwks.url, '--admin.auth.jwks.cache-ttl', '1s', '--admin.auth.jwks.timeout', '2s']);
  });

  after(async () => {
    await server?.stop();
    await jwks.stop();
  });

  it('verifies tokens signed by the published key, and not others', async () => {
    assert.equal(await status(server, await signWith(first, { exp: nowS(600) })), 200);
    assert.equal(await status(server, await signWith(second, { exp: nowS(600) })), 401);
  });

  it('follows a rotation: the new kid is accepted and the old one refused once the set is refreshed', async () => {
    jwks.keys = jwksOf(second);
    const fresh = await signWith(second, { exp: nowS(600) });
    const retired = await signWith(first, { exp: nowS(600) });
    await eventually(async () => (await status(server, fresh)) === 200, 20_000, 'the new key to be accepted');
    assert.equal(await status(server, retired), 401);
  });

  it('keeps the last good keys while the JWKS endpoint is down, logging and counting each failure', async () => {
    await jwks.stop();
    const token = await signWith(second, { exp: nowS(600) });
    const failures = async (): Promise<number> => {
      const text = (await fetchRaw(server.addrs.admin, { path: '/metrics', headers: { authorization: `Bearer ${token}` } })).body.toString();
      return Number(/piko_auth_jwks_refresh_failures_total\{port="admin"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    await eventually(async () => (await failures()) >= 2, 20_000, 'two failed refreshes');
    assert.equal(await status(server, token), 200, 'the last good key set still verifies');
    const line = await server.waitFor((l) => l.message === 'jwks refresh failed; keeping the last good keys');
    assert.equal(line.subsystem, 'auth');
    assert.equal(line.level, 'warn');
  });

  it('picks up the endpoint again when it is back', async () => {
    jwks.keys = jwksOf(second, third);
    await jwks.start();
    const token = await signWith(third, { exp: nowS(600) });
    await eventually(async () => (await status(server, token)) === 200, 20_000, 'the third key to be accepted');
  });
});

describe('JWKS from a file, and keys that cannot be used', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-jwks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file:// JWKS once at start-up', async () => {
    const key = await makeSigningKey('ES256', 'file-key');
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(jwksOf(key)));
    const server = await startServer(['--admin.auth.jwks.endpoint', pathToFileURL(file).href]);
    try {
      assert.equal(await status(server, await signWith(key, { exp: nowS(60) })), 200);
      assert.equal(await status(server, await signWith(await makeSigningKey('ES256', 'file-key'), { exp: nowS(60) })), 401);
    } finally {
      await server.stop();
    }
  });

  const refusals: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ['a JWKS file that does not exist', ['--proxy.auth.jwks.endpoint', 'file:///nonexistent/jwks.json'], /^config: proxy\.auth\.jwks\.endpoint: cannot read the key set \/nonexistent\/jwks\.json/],
    ['a key path where PEM text belongs', ['--upstream.auth.rsa-public-key', '/etc/piko/rsa.pem'], /^config: upstream\.auth\.rsa_public_key: must be the PEM text of an RSA public key/],
    ['a JWKS endpoint beside a key', ['--admin.auth.jwks.endpoint', 'https://idp.example/jwks', '--admin.auth.hmac-secret-key', 'x'], /^config: admin\.auth\.jwks\.endpoint: cannot be combined/],
  ];
  for (const [what, args, message] of refusals) {
    it(`stops start-up on ${what}, naming the key`, async () => {
      const proc = spawnNode(SERVER_JS, ['--proxy.bind-addr', '127.0.0.1:0', '--upstream.bind-addr', '127.0.0.1:0', '--admin.bind-addr', '127.0.0.1:0', '--cluster.gossip.bind-addr', '127.0.0.1:0', ...args]);
      assert.equal(await proc.exited, 1);
      assert.match(proc.stderrText.join('\n'), message);
    });
  }
});
