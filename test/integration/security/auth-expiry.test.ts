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

  /**
   * Starts an agent whose token expires `margin` seconds from now and checks it serves (`check`, before the
   * expiry). On a machine so slow that the token expired before the agent connected or was checked, tries again
   * with twice the margin, so that the test never depends on the machine's speed. Returns the agent and `exp`.
   */
  async function agentExpiringSoon(server: ServerProc, endpoint: string, margin: number, check: () => Promise<boolean>): Promise<{ agent: Proc; exp: number }> {
    for (;; margin *= 2) {
      const exp = nowS(margin);
      const agent = spawnNode(AGENT_JS, [
        'http', endpoint, String(service.port), '--connect.url', `http://${server.addrs.upstream}`, '--connect.token', await signHmac(SECRET, { exp }),
      ]);
      procs.push(agent);
      const started = await agent.waitFor((l) => l.message === 'agent started').then(() => true, () => false);
      if (started && (await check()) && Date.now() < exp * 1000) return { agent, exp };
      assert.ok(Date.now() >= exp * 1000, `the agent failed before its token expired: ${agent.stderrText.join('\n')}`);
      assert.ok(margin < 64, 'the agent could not start within 64 s of signing its token');
      await agent.stop();
    }
  }

  it('closes the connection when the token expires; the agent is then refused and exits', async () => {
    const server = await serverWith([]);
    const served = async (): Promise<boolean> => (await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'short' } })).status === 200;
    const { agent } = await agentExpiringSoon(server, 'short', 3, served);
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
    const { exp } = await agentExpiringSoon(server, 'kept', 2, async () => true);
    // Past the expiry by two seconds (wall clock; no speed assumption: the connection must merely still be there).
    await eventually(() => Date.now() > (exp + 2) * 1000, Math.max(20_000, (exp + 5) * 1000 - Date.now()), 'the token to have expired');
    assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'kept' } })).status, 200);
    assert.ok(!server.lines.some((l) => l.message === 'upstream token expired'));
  });
});
