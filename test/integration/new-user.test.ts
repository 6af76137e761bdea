import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fetchRaw, startService } from '../support/http.js';
import { AGENT_JS, CLI_JS, SERVER_JS, spawnNode, startServer } from '../support/processes.js';

/** A port that was free a moment ago (bound on port 0, then closed). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('what a new user meets in the first hour (issue 7)', () => {
  it('the agent started before its server retries forever, logging each attempt as JSON, then serves', async () => {
    const svc = await startService((_req, res) => res.end('late server'));
    const upstreamPort = await freePort();
    // connect.timeout (Piko's start-up deadline) is 1 s here: it now bounds each attempt, never the retrying.
    const agent = spawnNode(AGENT_JS, ['http', 'early', String(svc.port), '--connect.url', `http://127.0.0.1:${upstreamPort}`, '--connect.timeout', '1s']);
    const t0 = Date.now();
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      // Several failed attempts, each a JSON line with its backoff: no give-up after a deadline by default.
      await agent.waitFor((l) => l.message === 'connect failed; retrying' && typeof l['backoff-ms'] === 'number');
      // Backoff 100, 200, 400, 800 ms...: six attempts span well over the 1 s that used to end the agent.
      await agent.waitFor(() => agent.lines.filter((l) => l.message === 'connect failed; retrying').length >= 6 && Date.now() - t0 > 1_500, 60_000);
      assert.equal(agent.child.exitCode, null, 'the agent is still running');
      server = await startServer(['--upstream.bind-addr', `127.0.0.1:${upstreamPort}`]);
      await agent.waitFor((l) => l.message === 'agent started', 60_000);
      const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'early' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'late server');
    } finally {
      await agent.stop();
      await server?.stop();
      await svc.close();
    }
  });

  it('--connect.startup-deadline makes the agent give up, with a JSON line and exit 1', async () => {
    const upstreamPort = await freePort();
    const agent = spawnNode(AGENT_JS, ['http', 'early', '3000', '--connect.url', `http://127.0.0.1:${upstreamPort}`, '--connect.startup-deadline', '1s']);
    assert.equal(await agent.exited, 1);
    const last = agent.lines.find((l) => l.message === 'agent failed to start; exiting');
    assert.ok(last, `a JSON line says why; stderr:\n${agent.stderrText.join('\n')}`);
    assert.equal(last.level, 'error');
    assert.match(String(last.error), /startup_deadline/);
    assert.ok(agent.stderrText.every((l) => l.trim() === '' || l.startsWith('{')), 'every stderr line is JSON');
  });

  it('the server starts with the variables Kubernetes injects for a Service named piko, warning once', async () => {
    const env = {
      PIKO_PORT: 'tcp://10.0.0.1:8000',
      PIKO_SERVICE_HOST: '10.0.0.1',
      PIKO_SERVICE_PORT: '8000',
      PIKO_PORT_8000_TCP: 'tcp://10.0.0.1:8000',
      PIKO_PORT_8000_TCP_ADDR: '10.0.0.1',
    };
    const server = await startServer([], env);
    try {
      const warnings = server.lines.filter((l) => l.level === 'warn' && /unknown environment variable/.test(String(l.message)));
      assert.equal(warnings.length, 1, 'one warning line');
      assert.match(String(warnings[0]?.message), /PIKO_PORT/);
      const health = await fetchRaw(server.addrs.admin, { path: '/health' });
      assert.equal(health.status, 200);
    } finally {
      await server.stop();
    }
  });

  it('an unknown flag still stops start-up with one line', async () => {
    const proc = spawnNode(SERVER_JS, ['--proxy.timeouts', '1s']);
    assert.equal(await proc.exited, 1);
    assert.match(proc.stderrText.join('\n'), /proxy\.timeouts/);
  });

  it('piko-ts with no command prints the usage and exits non-zero; --help exits 0', async () => {
    const bare = spawnNode(CLI_JS, []);
    assert.equal(await bare.exited, 1);
    assert.match(bare.stderrText.join('\n'), /missing command/);
    assert.match(bare.stderrText.join('\n'), /Usage: piko-ts <command>/);
    const help = spawnNode(CLI_JS, ['--help']);
    assert.equal(await help.exited, 0);
    assert.match(help.stdoutText.join(''), /Usage: piko-ts <command>/);
  });

  it('status against a dead address says the connection was refused, not just "fetch failed"', async () => {
    const port = await freePort();
    const proc = spawnNode(CLI_JS, ['status', 'upstream', 'endpoints', '--server.url', `http://127.0.0.1:${port}`]);
    assert.equal(await proc.exited, 1);
    const text = proc.stderrText.join('\n');
    assert.match(text, /connection refused/);
    assert.match(text, /--server\.url/);
  });
});
