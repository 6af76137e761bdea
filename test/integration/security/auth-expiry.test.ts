import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, fetchRaw, startService } from '../../support/http.js';
import { AGENT_JS, spawnNode, startServer, type Proc, type ServerProc } from '../../support/processes.js';
import { nowS, signHmac } from '../../support/security/tokens.js';

const SECRET = 'upstream-secret-of-at-least-32-bytes';

/**
 * An upstream connection lives as long as its token (Piko's behaviour): the server closes it when `exp` passes,
 * and the agent's reconnect with the same token is refused (`expired token`) for good. With
 * `disable_disconnect_on_expiry` the connection stays.
 */
describe('upstream token expiry', () => {
  const procs: Proc[] = [];
  let service: Awaited<ReturnType<typeof startService>>;

  before(async () => {
    service = await startService((_req, res) => res.end('ok'));
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await service?.close();
  });

  async function serverWith(extra: readonly string[]): Promise<ServerProc> {
    const server = await startServer(['--upstream.auth.leeway', '0s', ...extra], { PIKO_UPSTREAM_AUTH_HMAC_SECRET_KEY: SECRET });
    procs.push(server);
    return server;
  }

  async function agentFor(server: ServerProc, endpoint: string, token: string): Promise<Proc> {
    const agent = spawnNode(AGENT_JS, ['http', endpoint, String(service.port), '--connect.url', `http://${server.addrs.upstream}`, '--connect.token', token]);
    procs.push(agent);
    await agent.waitFor((l) => l.message === 'agent started');
    return agent;
  }

  it('closes the connection when the token expires; the agent is then refused and exits', async () => {
    const server = await serverWith([]);
    const agent = await agentFor(server, 'short', await signHmac(SECRET, { exp: nowS(3) }));
    assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'short' } })).status, 200);
    const expired = await server.waitFor((l) => l.message === 'upstream token expired', 20_000);
    assert.equal(expired['endpoint-id'], 'short');
    assert.equal(await agent.exited, 1);
    assert.ok(agent.lines.some((l) => l.message === 'connect refused; not retrying' && l.error === '401: expired token'));
    const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'short' } });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'no available upstreams' });
  });

  it('keeps the connection past expiry with disable_disconnect_on_expiry', async () => {
    const server = await serverWith(['--upstream.auth.disable-disconnect-on-expiry']);
    const exp = nowS(2);
    await agentFor(server, 'kept', await signHmac(SECRET, { exp }));
    // Past the expiry by two seconds (wall clock; no speed assumption: the connection must merely still be there).
    await eventually(() => Date.now() > (exp + 2) * 1000, 20_000, 'the token to have expired');
    assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'kept' } })).status, 200);
    assert.ok(!server.lines.some((l) => l.message === 'upstream token expired'));
  });
});
