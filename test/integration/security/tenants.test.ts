import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dial, listen, serveHttp, type EndpointListener } from '../../../src/index.js';
import { asNodeId } from '../../../src/domain/node/node.js';
import type { ServerNode } from '../../../src/main/create-server.js';
import { hostPort, startInProcessNode } from '../../support/cluster/in-process-node.js';
import { FakeClusterMembership, mirrorMemberships } from '../../support/fakes/fake-cluster-membership.js';
import { DialError, dialWebSocket } from '../../../src/adapters/client/ws-upstream-dialer.js';
import { fetchRaw, startService } from '../../support/http.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { credentialHeaders, tryWebSocket } from '../../support/security/auth-fixture.js';
import { makeSigningKey, nowS, signHmac, signWith, type SigningKey } from '../../support/security/tokens.js';

/** A TCP service that greets each connection with its name, so a tunnel shows which service it reached. */
async function greeter(name: string): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Tenants: a real server with two tenants (each with its own RSA key in upstream.tenants), a real agent per tenant
 * registering the SAME endpoint IDs (`web` over HTTP, `echo` over the TCP route), and a default-tenant `web`. Each
 * tenant's requests reach only its own services; a request without the tenant header only the default tenant's;
 * a tenant's token serves neither another tenant nor an unknown one.
 */
describe('tenants', () => {
  let keyA: SigningKey;
  let keyB: SigningKey;
  let server: ServerProc;
  let dir: string;
  let tokenA = '';
  let tokenB = '';
  let defaultWeb: EndpointListener | undefined;
  const procs: Proc[] = [];
  const closers: Array<() => unknown> = [];
  const seen: Record<string, IncomingHttpHeaders[]> = { a: [], b: [], default: [] };

  const service = async (name: string) => {
    const s = await startService((req, res) => {
      seen[name]?.push(req.headers);
      res.end(name);
    });
    closers.push(() => s.close());
    return s;
  };
  const agentFor = async (tenant: string, token: string, name: string): Promise<void> => {
    const web = await service(name);
    const tcp = await greeter(`tcp-${name}`);
    closers.push(() => tcp.close());
    const config = join(dir, `${tenant}.yaml`);
    writeFileSync(config, [
      'listeners:',
      `  - { endpoint_id: web, addr: "${web.port}", protocol: http }`,
      `  - { endpoint_id: echo, addr: "127.0.0.1:${tcp.port}", protocol: tcp }`,
      'connect:',
      `  url: http://${server.addrs.upstream}`,
      `  token: ${token}`,
      `  tenant_id: ${tenant}`,
    ].join('\n'));
    procs.push(await startAgent(['start', '--config.path', config]));
  };
  const get = (headers: Record<string, string>) => fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'web', ...headers } });
  /** Opens the TCP route to `echo` and returns the service's greeting, or the refusal (`401: unknown tenant`). */
  const tunnel = async (headers: Record<string, string>): Promise<string> => {
    let ws;
    try {
      ws = await dialWebSocket(`ws://${server.addrs.proxy}/_piko/v1/tcp/echo`, { headers, handshakeTimeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof DialError) return err.message;
      throw err;
    }
    try {
      const greeting = once(ws, 'message');
      ws.resume(); // handed over paused, so that the greeting sent with the upgrade answer is not missed
      const [data] = (await Promise.race([greeting, new Promise((_, reject) => setTimeout(() => reject(new Error('no greeting')), 10_000).unref())])) as [Buffer];
      return Buffer.from(data).toString('utf8');
    } finally {
      ws.terminate();
    }
  };

  before(async () => {
    [keyA, keyB] = await Promise.all([makeSigningKey('RS256'), makeSigningKey('RS256')]);
    const tenants = [{ id: 'tenant-a', auth: { rsa_public_key: keyA.publicPem } }, { id: 'tenant-b', auth: { rsa_public_key: keyB.publicPem } }];
    server = await startServer([], { PIKO_UPSTREAM_TENANTS: JSON.stringify(tenants) });
    procs.push(server);
    dir = mkdtempSync(join(tmpdir(), 'tenants-'));
    tokenA = await signWith(keyA, { exp: nowS(600), piko: { endpoints: ['web', 'echo'] } });
    tokenB = await signWith(keyB, { exp: nowS(600), piko: { endpoints: ['web', 'echo'] } });
    await agentFor('tenant-a', tokenA, 'a');
    await agentFor('tenant-b', tokenB, 'b');
    defaultWeb = await serveHttp('web', (req, res) => {
      seen.default?.push(req.headers);
      res.end('default');
    }, { url: `http://${server.addrs.upstream}` });
  });

  after(async () => {
    defaultWeb?.shutdown();
    for (const p of procs.reverse()) await p.stop();
    for (const close of closers) await close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('registers the same endpoint ID once per tenant, under keys that cannot collide (status API)', async () => {
    const res = await fetchRaw(server.addrs.admin, { path: '/status/upstream/endpoints' });
    assert.deepEqual(res.json(), { 'tenant-a/web': 1, 'tenant-a/echo': 1, 'tenant-b/web': 1, 'tenant-b/echo': 1, web: 1 });
  });

  it('sends each tenant\'s HTTP requests to its own service only, with no tenant header or token left for it', async () => {
    const a = await get({ 'x-piko-tenant-id': 'tenant-a', authorization: `Bearer ${tokenA}` });
    assert.equal(a.status, 200);
    assert.equal(a.body.toString(), 'a');
    const b = await get({ 'x-piko-tenant-id': 'tenant-b', 'x-piko-authorization': `Bearer ${tokenB}` });
    assert.equal(b.status, 200);
    assert.equal(b.body.toString(), 'b');
    assert.deepEqual(credentialHeaders(seen.a?.at(-1) ?? {}), []);
    assert.deepEqual(credentialHeaders(seen.b?.at(-1) ?? {}), []);
  });

  it('sends a request without the tenant header to the default tenant\'s endpoint, never a tenant\'s', async () => {
    const res = await get({});
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'default');
    const tokenOnly = await get({ authorization: `Bearer ${tokenA}` });
    assert.equal(tokenOnly.body.toString(), 'default', 'a tenant token without the header is a default-tenant request');
  });

  it('opens each tenant\'s TCP route to its own service only; without the header there is no upstream', async () => {
    assert.equal(await tunnel({ 'x-piko-tenant-id': 'tenant-a', authorization: `Bearer ${tokenA}` }), 'tcp-a');
    assert.equal(await tunnel({ 'x-piko-tenant-id': 'tenant-b', authorization: `Bearer ${tokenB}` }), 'tcp-b');
    assert.match(await tunnel({}), /^502\b/);
  });

  it('refuses tenant A\'s token as tenant B, on the proxy (HTTP and TCP route) and the upstream port', async () => {
    const before = seen.b?.length;
    const res = await get({ 'x-piko-tenant-id': 'tenant-b', authorization: `Bearer ${tokenA}` });
    assert.equal(res.status, 401);
    assert.deepEqual(res.json(), { error: 'invalid token' });
    assert.equal(await tunnel({ 'x-piko-tenant-id': 'tenant-b', authorization: `Bearer ${tokenA}` }), '401: invalid token');
    assert.deepEqual(await tryWebSocket(`ws://${server.addrs.upstream}/piko/v1/upstream/web`, { authorization: `Bearer ${tokenA}`, 'x-piko-tenant-id': 'tenant-b' }), {
      opened: false, status: 401, message: '401: invalid token',
    });
    assert.equal(seen.b?.length, before, 'nothing reached tenant B\'s service');
  });

  it('refuses an unknown tenant and a tenant request without a token (401)', async () => {
    const unknown = await get({ 'x-piko-tenant-id': 'tenant-c', authorization: `Bearer ${tokenA}` });
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.json(), { error: 'unknown tenant' });
    assert.equal(await tunnel({ 'x-piko-tenant-id': 'tenant-c', authorization: `Bearer ${tokenA}` }), '401: unknown tenant');
    assert.deepEqual(await tryWebSocket(`ws://${server.addrs.upstream}/piko/v1/upstream/web`, { authorization: `Bearer ${tokenA}`, 'x-piko-tenant-id': 'tenant-c' }), {
      opened: false, status: 401, message: '401: unknown tenant',
    });
    const bare = await get({ 'x-piko-tenant-id': 'tenant-a' });
    assert.equal(bare.status, 401);
    assert.deepEqual(bare.json(), { error: 'missing authorization' });
  });
});

/**
 * Two nodes: tenant A's `web` and `echo` and the default tenant's `web` are on node A; clients call node B, which
 * forwards once to A carrying the tenant, with a hop proof bound to the tenant's key or the client's token handed on.
 */
for (const mode of ['hop proof', 'token handed on'] as const) {
  describe(`tenants across two nodes (${mode})`, () => {
    const SECRET = 'tenant-a-secret-of-32-bytes-or-more';
    const memA = new FakeClusterMembership(asNodeId('node-a'));
    const memB = new FakeClusterMembership(asNodeId('node-b'));
    let a: ServerNode | undefined;
    let b: ServerNode | undefined;
    let dir: string;
    let token = '';
    const listeners: EndpointListener[] = [];
    const seen: IncomingHttpHeaders[] = [];
    const get = (headers: Record<string, string>) =>
      fetchRaw(hostPort((b as ServerNode).addresses.proxy), { headers: { 'x-piko-endpoint': 'web', ...headers } });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tenants-cluster-'));
      const config = join(dir, 'server.yaml');
      writeFileSync(config, `upstream:\n  tenants:\n    - id: tenant-a\n      auth: { hmac_secret_key: ${SECRET} }\n`);
      const flags = ['--config.path', config, ...(mode === 'hop proof' ? ['--cluster.gossip.secret-key', 'gossip-key'] : [])];
      mirrorMemberships(memA, memB);
      ({ node: a } = await startInProcessNode('node-a', { membership: memA }, flags));
      ({ node: b } = await startInProcessNode('node-b', { membership: memB }, flags));
      token = await signHmac(SECRET, { exp: nowS(600), piko: { endpoints: ['web', 'echo'] } });
      const url = `http://${hostPort(a.addresses.upstream)}`;
      listeners.push(await serveHttp('web', (req, res) => {
        seen.push({ ...req.headers });
        res.end('tenant a on node a');
      }, { url, token, tenantId: 'tenant-a' }));
      listeners.push(await serveHttp('web', (_req, res) => res.end('default on node a'), { url }));
      const echo = await listen('echo', { url, token, tenantId: 'tenant-a' });
      echo.on('connection', (socket) => socket.pipe(socket));
      listeners.push(echo);
      for (let i = 0; i < 200 && memB.snapshot().remoteCandidates('tenant-a/echo' as never).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    });

    after(async () => {
      for (const l of listeners) l.shutdown();
      await Promise.all([a?.stop(), b?.stop()]);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('forwards a tenant\'s request to its endpoint on the other node, and the service sees no tenant header or token', async () => {
      const res = await get({ 'x-piko-tenant-id': 'tenant-a', authorization: `Bearer ${token}` });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'tenant a on node a');
      assert.deepEqual(credentialHeaders(seen.at(-1) ?? {}), []);
    });

    it('forwards a request without the header to the default tenant\'s endpoint only', async () => {
      const res = await get({});
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'default on node a');
    });

    it('tunnels a tenant\'s TCP route through the other node', async () => {
      const socket = await dial('echo', { url: `http://${hostPort((b as ServerNode).addresses.proxy)}`, token, tenantId: 'tenant-a' });
      socket.on('error', () => {});
      socket.write('ping');
      const [data] = (await Promise.race([once(socket, 'data'), new Promise((_, reject) => setTimeout(() => reject(new Error('no echo')), 10_000).unref())])) as [Buffer];
      assert.equal(Buffer.from(data).toString(), 'ping');
      socket.destroy();
    });

    it('refuses the tenant\'s request without its token on the first node, before forwarding', async () => {
      const res = await get({ 'x-piko-tenant-id': 'tenant-a' });
      assert.equal(res.status, 401);
      assert.deepEqual(res.json(), { error: 'missing authorization' });
    });
  });
}
