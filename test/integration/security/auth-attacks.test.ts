import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dial, listen, DialError } from '../../../src/index.js';
import { fetchRaw, splitAddr, startService } from '../../support/http.js';
import { AGENT_JS, spawnNode, startAgent, startForward, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { credentialHeaders, curl, hasCurl, tryWebSocket } from '../../support/security/auth-fixture.js';
import { startEchoService } from '../../support/raw-client.js';
import { hs256ByHand, makeSigningKey, nowS, signHmac, signWith, unsignedToken, type SigningKey, type TokenClaims } from '../../support/security/tokens.js';

const AUD = 'piko-proxy';
const ISS = 'https://issuer.test';
const ADMIN_SECRET = 'admin-secret-of-at-least-32-bytes-long';
const GOSSIP_SECRET = 'gossip-secret-for-hop-proofs';

/**
 * The attack suite: a real server (proxy and upstream ports verify RS256 tokens, the proxy with an audience and an
 * issuer; the admin port an HMAC secret), a real agent serving an HTTP endpoint and a TCP echo, and real clients
 * (curl, node:http, forward, the SDK). Every attack must be refused with Piko's message before anything reaches
 * the service, and no token may appear in a log line or a metric.
 */
describe('authentication under attack', () => {
  let key: SigningKey;
  let stranger: SigningKey;
  let server: ServerProc;
  let agent: Proc;
  let service: Awaited<ReturnType<typeof startService>>;
  let echo: Awaited<ReturnType<typeof startEchoService>>;
  let dir: string;
  let curlOk = false;
  const seen: IncomingHttpHeaders[] = [];
  const tokens: string[] = [];
  const procs: Proc[] = [];

  /** A proxy token (audience and issuer right) for `endpoints`, remembered so the logs can be searched for it. */
  const proxyToken = async (claims: TokenClaims = {}, signer?: SigningKey): Promise<string> => {
    const token = await signWith(signer ?? key, { aud: AUD, iss: ISS, exp: nowS(600), piko: { endpoints: ['web', 'echo'] }, ...claims });
    tokens.push(token);
    return token;
  };
  const remember = (token: string): string => (tokens.push(token), token);
  const get = (headers: Record<string, string>, path = '/') =>
    fetchRaw(server.addrs.proxy, { path, headers: { 'x-piko-endpoint': 'web', ...headers } });

  before(async () => {
    curlOk = await hasCurl();
    [key, stranger] = await Promise.all([makeSigningKey('RS256', 'main'), makeSigningKey('RS256', 'main')]);
    service = await startService((req, res) => {
      seen.push(req.headers);
      res.end('served');
    });
    echo = await startEchoService();
    server = await startServer(['--proxy.auth.audience', AUD, '--proxy.auth.issuer', ISS, '--cluster.gossip.secret-key', GOSSIP_SECRET], {
      PIKO_PROXY_AUTH_RSA_PUBLIC_KEY: key.publicPem,
      PIKO_UPSTREAM_AUTH_RSA_PUBLIC_KEY: key.publicPem,
      PIKO_ADMIN_AUTH_HMAC_SECRET_KEY: ADMIN_SECRET,
    });
    procs.push(server);
    dir = mkdtempSync(join(tmpdir(), 'auth-attacks-'));
    const agentToken = remember(await signWith(key, { exp: nowS(600), piko: { endpoints: ['web', 'echo'] } }));
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, [
      'listeners:',
      `  - { endpoint_id: web, addr: "${service.port}", protocol: http }`,
      `  - { endpoint_id: echo, addr: "127.0.0.1:${echo.port}", protocol: tcp }`,
      'connect:',
      `  url: http://${server.addrs.upstream}`,
      `  token: ${agentToken}`,
    ].join('\n'));
    agent = await startAgent(['start', '--config.path', config]);
    procs.push(agent);
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await service?.close();
    echo?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('on the proxy port (HTTP)', () => {
    it('serves a valid token, and the service sees neither the token nor any x-piko-* header', async () => {
      const res = await get({ authorization: `Bearer ${await proxyToken()}` });
      assert.equal(res.status, 200);
      assert.deepEqual(credentialHeaders(seen.at(-1) ?? {}), []);
    });

    it('reads x-piko-authorization first and leaves the service its own Authorization', async () => {
      const res = await get({ 'x-piko-authorization': `Bearer ${await proxyToken()}`, authorization: 'Basic c2VydmljZTpwYXNz' });
      assert.equal(res.status, 200);
      assert.equal(seen.at(-1)?.authorization, 'Basic c2VydmljZTpwYXNz');
      assert.deepEqual(credentialHeaders(seen.at(-1) ?? {}), ['authorization']);
    });

    it('refuses every forged, stale, misdirected or misplaced token with Piko\'s 401, before the service', async () => {
      const valid = await proxyToken();
      const attacks: ReadonlyArray<readonly [string, Record<string, string>, string, string?]> = [
        ['no header', {}, 'missing authorization'],
        ['lower-case bearer', { authorization: `bearer ${valid}` }, 'unsupported auth type'],
        ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }, 'unsupported auth type'],
        ['a scheme without a token', { authorization: 'Bearer' }, 'invalid authorization'],
        ['alg none', { authorization: `Bearer ${remember(unsignedToken({ aud: AUD, iss: ISS, piko: { endpoints: ['web'] } }))}` }, 'invalid token'],
        ['HS256 signed with the RSA public key text', { authorization: `Bearer ${remember(hs256ByHand(key.publicPem, { aud: AUD, iss: ISS }))}` }, 'invalid token'],
        ['HS256 signed with the RSA public key text (jose)', { authorization: `Bearer ${remember(await signHmac(key.publicPem, { aud: AUD, iss: ISS }))}` }, 'invalid token'],
        ['a key the server does not know (same kid)', { authorization: `Bearer ${await proxyToken({}, stranger)}` }, 'invalid token'],
        ['expired', { authorization: `Bearer ${await proxyToken({ exp: nowS(-60) })}` }, 'expired token'],
        ['not yet valid', { authorization: `Bearer ${await proxyToken({ nbf: nowS(120) })}` }, 'invalid token'],
        ['wrong audience', { authorization: `Bearer ${await proxyToken({ aud: 'piko-admin' })}` }, 'invalid token'],
        ['wrong issuer', { authorization: `Bearer ${await proxyToken({ iss: 'https://evil.test' })}` }, 'invalid token'],
        ['endpoint not in the token', { authorization: `Bearer ${await proxyToken({ piko: { endpoints: ['other'] } })}` }, 'endpoint not permitted'],
        ['token in a cookie', { cookie: `token=${valid}` }, 'missing authorization'],
        ['empty x-piko-authorization over a lower-case bearer', { 'x-piko-authorization': '', authorization: `bearer ${valid}` }, 'unsupported auth type'],
        ['forged hop marker', { 'x-piko-forward': 'true' }, 'missing authorization'],
        ['forged hop marker and proof', { 'x-piko-forward': 'true', 'x-piko-hop-proof': `v1.${nowS()}.${'A'.repeat(43)}` }, 'missing authorization'],
        ['forged hop marker with a token for another endpoint', { 'x-piko-forward': 'true', authorization: `Bearer ${await proxyToken({ piko: { endpoints: ['other'] } })}` }, 'endpoint not permitted'],
      ];
      const before = seen.length;
      for (const [name, headers, message] of attacks) {
        const res = await get(headers);
        assert.equal(res.status, 401, name);
        assert.deepEqual(res.json(), { error: message }, name);
        assert.equal(res.headers['www-authenticate'], 'Bearer', name);
      }
      for (const path of [`/?token=${valid}`, `/?access_token=${valid}&jwt=${valid}`]) {
        const res = await get({}, path);
        assert.equal(res.status, 401, path);
        assert.deepEqual(res.json(), { error: 'missing authorization' }, 'a token in the query string is never read');
      }
      assert.equal(seen.length, before, 'no refused request reached the service');
    });

    it('refuses the same attacks from curl', async (t) => {
      if (!curlOk) return t.skip('curl is not installed');
      const url = `http://${server.addrs.proxy}/`;
      const valid = await proxyToken();
      const before = seen.length;
      const cases: ReadonlyArray<readonly [string[], string]> = [
        [['-H', 'x-piko-endpoint: web', url], 'missing authorization'],
        [['-H', 'x-piko-endpoint: web', '-H', `Authorization: bearer ${valid}`, url], 'unsupported auth type'],
        [['-H', 'x-piko-endpoint: web', `${url}?token=${valid}`], 'missing authorization'],
        [['-H', 'x-piko-endpoint: web', '-H', 'x-piko-forward: true', url], 'missing authorization'],
        [['-H', 'x-piko-endpoint: web', '-H', `Authorization: Bearer ${remember(unsignedToken({ aud: AUD, iss: ISS }))}`, url], 'invalid token'],
      ];
      for (const [args, message] of cases) {
        const res = await curl(args);
        assert.equal(res.status, 401, args.join(' '));
        assert.deepEqual(JSON.parse(res.body), { error: message });
      }
      const ok = await curl(['-H', 'x-piko-endpoint: web', '-H', `Authorization: Bearer ${valid}`, url]);
      assert.equal(ok.status, 200);
      assert.equal(seen.length, before + 1);
    });

    it('checks WebSocket upgrades to an endpoint before anything is opened', async () => {
      const url = `ws://${server.addrs.proxy}/socket`;
      assert.deepEqual(await tryWebSocket(url, { 'x-piko-endpoint': 'web' }), { opened: false, status: 401, message: '401: missing authorization' });
      const other = await proxyToken({ piko: { endpoints: ['other'] } });
      assert.deepEqual(await tryWebSocket(url, { 'x-piko-endpoint': 'web', authorization: `Bearer ${other}` }), {
        opened: false,
        status: 401,
        message: '401: endpoint not permitted',
      });
    });
  });

  describe('on the proxy port (TCP route)', () => {
    const tcpUrl = (endpoint: string) => `ws://${server.addrs.proxy}/_piko/v1/tcp/${endpoint}`;

    it('refuses a tunnel without a valid token for the endpoint, before the agent is asked for a stream', async () => {
      const before = echo.accepted();
      assert.deepEqual(await tryWebSocket(tcpUrl('echo')), { opened: false, status: 401, message: '401: missing authorization' });
      const webOnly = await proxyToken({ piko: { endpoints: ['web'] } });
      assert.deepEqual(await tryWebSocket(tcpUrl('echo'), { authorization: `Bearer ${webOnly}` }), { opened: false, status: 401, message: '401: endpoint not permitted' });
      const expired = await proxyToken({ exp: nowS(-60) });
      assert.deepEqual(await tryWebSocket(tcpUrl('echo'), { authorization: `Bearer ${expired}` }), { opened: false, status: 401, message: '401: expired token' });
      assert.deepEqual(await tryWebSocket(tcpUrl('echo'), { 'x-piko-forward': 'true' }), { opened: false, status: 401, message: '401: missing authorization' });
      assert.equal(echo.accepted(), before, 'no connection reached the service');
    });

    it('carries a tunnel for the SDK\'s dial with a token, and refuses it without', async () => {
      const conn = await dial('echo', { url: `http://${server.addrs.proxy}`, token: await proxyToken() });
      conn.end('ping');
      const chunks: Buffer[] = [];
      for await (const c of conn) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'ping');
      await assert.rejects(dial('echo', { url: `http://${server.addrs.proxy}` }), (err: unknown) => err instanceof DialError && err.status === 401);
      const token = await proxyToken();
      const viaFunction = await dial('echo', { url: `http://${server.addrs.proxy}`, token: () => Promise.resolve(token) });
      viaFunction.destroy();
    });

    it('carries forward\'s tunnels with --connect.token, and closes them without', async () => {
      const withToken = await startForward('echo', server.addrs.proxy, ['--connect.token', await proxyToken()]);
      procs.push(withToken);
      const [host, port] = splitAddr(withToken.addr);
      const socket = connect({ host, port });
      socket.end('through forward');
      const chunks: Buffer[] = [];
      for await (const c of socket) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'through forward');

      const without = await startForward('echo', server.addrs.proxy);
      procs.push(without);
      const [h2, p2] = splitAddr(without.addr);
      const refused = connect({ host: h2, port: p2 });
      refused.on('error', () => {});
      for await (const _ of refused) assert.fail('a refused tunnel carries nothing');
      const line = await without.waitFor((l) => l.message === 'tunnel refused');
      assert.equal(line.error, '401: missing authorization');
    });
  });

  describe('on the upstream port', () => {
    const upstreamUrl = (endpoint: string) => `ws://${server.addrs.upstream}/piko/v1/upstream/${endpoint}`;

    async function agentRefusal(token: string | undefined, endpoint: string): Promise<string> {
      const args = ['http', endpoint, String(service.port), '--connect.url', `http://${server.addrs.upstream}`];
      const proc = spawnNode(AGENT_JS, token === undefined ? args : [...args, '--connect.token', token]);
      procs.push(proc);
      assert.equal(await proc.exited, 1, 'a refused agent exits 1');
      const line = proc.lines.find((l) => l.message === 'connect refused; not retrying');
      return String(line?.error);
    }

    it('refuses agents without a token, with a forged one, or for an endpoint the token does not name', async () => {
      assert.equal(await agentRefusal(undefined, 'web'), '401: missing authorization');
      assert.equal(await agentRefusal(remember(unsignedToken({ piko: { endpoints: ['web'] } })), 'web'), '401: invalid token');
      assert.equal(await agentRefusal(remember(hs256ByHand(key.publicPem, { piko: { endpoints: ['web'] } })), 'web'), '401: invalid token');
      assert.equal(await agentRefusal(remember(await signWith(key, { exp: nowS(600), piko: { endpoints: ['web'] } })), 'hijack'), '401: endpoint not permitted');
      assert.equal(await agentRefusal(remember(await signWith(key, { exp: nowS(-60) })), 'web'), '401: expired token');
    });

    it('refuses an unknown tenant and a token the SDK presents for another endpoint', async () => {
      const token = remember(await signWith(key, { exp: nowS(600) }));
      assert.deepEqual(await tryWebSocket(upstreamUrl('web'), { authorization: `Bearer ${token}`, 'x-piko-tenant-id': 'tenant-x' }), {
        opened: false,
        status: 401,
        message: '401: unknown tenant',
      });
      const narrow = remember(await signWith(key, { exp: nowS(600), piko: { endpoints: ['web'] } }));
      await assert.rejects(listen('stolen', { url: `http://${server.addrs.upstream}`, token: narrow }), (err: unknown) => {
        assert.ok(err instanceof DialError);
        assert.equal(err.message, '401: endpoint not permitted');
        return true;
      });
    });

    it('registered only the agent\'s own endpoints', async () => {
      const res = await fetchRaw(server.addrs.admin, { path: '/status/upstream/endpoints', headers: { authorization: `Bearer ${remember(await signHmac(ADMIN_SECRET, {}))}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.json<Record<string, number>>()).sort(), ['echo', 'web']);
    });
  });

  describe('on the admin port', () => {
    it('protects every route, /health, /ready and /metrics included', async () => {
      const proxy = await proxyToken();
      for (const path of ['/health', '/ready', '/metrics', '/status/upstream/endpoints', '/status/cluster/nodes', '/no-such-route']) {
        const bare = await fetchRaw(server.addrs.admin, { path });
        assert.equal(bare.status, 401, path);
        assert.deepEqual(bare.json(), { error: 'missing authorization' });
        const wrongPort = await fetchRaw(server.addrs.admin, { path, headers: { authorization: `Bearer ${proxy}` } });
        assert.deepEqual(wrongPort.json(), { error: 'invalid token' }, 'each port has its own keys');
      }
      const admin = remember(await signHmac(ADMIN_SECRET, { exp: nowS(60) }));
      assert.equal((await fetchRaw(server.addrs.admin, { path: '/health', headers: { authorization: `Bearer ${admin}` } })).status, 200);
      assert.equal((await fetchRaw(server.addrs.admin, { path: '/no-such-route', headers: { authorization: `Bearer ${admin}` } })).status, 404);
    });
  });

  describe('secrets', () => {
    it('never appear in a log line of the server or the agent, nor in the metrics', async () => {
      const admin = remember(await signHmac(ADMIN_SECRET, {}));
      const metrics = (await fetchRaw(server.addrs.admin, { path: '/metrics', headers: { authorization: `Bearer ${admin}` } })).body.toString();
      assert.match(metrics, /piko_auth_rejections_total\{port="proxy",reason="missing_authorization"\} \d+/);
      assert.match(metrics, /piko_auth_rejections_total\{port="upstream",reason="endpoint_not_permitted"\} \d+/);
      const reasons = [...metrics.matchAll(/piko_auth_rejections_total\{port="\w+",reason="(\w+)"\}/g)].map((m) => m[1]);
      const fixed = new Set(['missing_authorization', 'invalid_authorization', 'unsupported_auth_type', 'unknown_tenant', 'endpoint_not_permitted',
        'malformed', 'algorithm', 'signature', 'expired', 'not_yet_valid', 'audience', 'issuer', 'claims', 'no_key']);
      for (const reason of reasons) assert.ok(fixed.has(reason ?? ''), `reason label ${reason} is from the fixed set`);
      const text = [...procs.flatMap((p) => p.stderrText), ...procs.flatMap((p) => p.stdoutText), metrics].join('\n');
      assert.ok(tokens.length > 20);
      for (const token of tokens) {
        const signature = token.split('.').at(-1) ?? '';
        assert.ok(!text.includes(token), 'a token was logged');
        if (signature.length > 10) assert.ok(!text.includes(signature), 'a token signature was logged');
      }
      assert.ok(!text.includes(ADMIN_SECRET) && !text.includes(GOSSIP_SECRET), 'a secret was logged');
    });
  });
});
