import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchRaw, startService } from '../support/http.js';
import { AGENT_JS, SERVER_JS, spawnNode, startAgent, startServer } from '../support/processes.js';

describe('agent start with several listeners, and the opt-in metrics port', () => {
  it('serves two HTTP endpoints from one agent and exposes per-endpoint metrics', async () => {
    const a = await startService((_req, res) => res.end('A'));
    const b = await startService((_req, res) => res.end('B'));
    const server = await startServer();
    const dir = mkdtempSync(join(tmpdir(), 'piko-ts-'));
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      [
        'listeners:',
        '  - endpoint_id: app-a',
        `    addr: "${a.port}"`,
        '  - endpoint_id: app-b',
        `    addr: "127.0.0.1:${b.port}"`,
        '    protocol: http',
        'connect:',
        '  url: ${UPSTREAM_URL}',
        'server:',
        '  enabled: true',
        '  bind_addr: 127.0.0.1:0',
      ].join('\n'),
    );
    const agent = await startAgent(['start', '--config.path', file, '--config.expand-env'], { UPSTREAM_URL: `http://${server.addrs.upstream}` });
    try {
      assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'app-a' } })).body.toString(), 'A');
      assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'app-b' } })).body.toString(), 'B');
      const started = await agent.waitFor((l) => l.message === 'metrics server started');
      const metrics = (await fetchRaw(String(started.addr), { path: '/metrics' })).body.toString();
      assert.match(metrics, /piko_agent_requests_total\{status="200",method="GET",endpoint="app-a"\} 1/);
      assert.match(metrics, /piko_agent_requests_total\{status="200",method="GET",endpoint="app-b"\} 1/);
    } finally {
      await agent.stop();
      await server.stop();
      await a.close();
      await b.close();
    }
  });
});

describe('connect.url with a base path (a server behind a path-prefixing load balancer)', () => {
  it('keeps the base path in the registration URL and the server accepts it', async () => {
    const svc = await startService((_req, res) => res.end('via base path'));
    const server = await startServer();
    const agent = await startAgent(['http', 'based', String(svc.port), '--connect.url', `http://${server.addrs.upstream}/tunnel/prefix/`]);
    try {
      const line = await agent.waitFor((l) => l.message === 'connected');
      assert.match(String(line.url), /\/tunnel\/prefix\/piko\/v1\/upstream\/based$/);
      const res = await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'based' } });
      assert.equal(res.body.toString(), 'via base path');
      // The server keeps the stream for reuse; a drain must not wait for that idle stream (grace period 1 min).
      const t0 = Date.now();
      assert.equal(await agent.stop(), 0);
      assert.ok(Date.now() - t0 < 10_000, 'the drain did not wait for idle pooled streams');
    } finally {
      await agent.stop();
      await server.stop();
      await svc.close();
    }
  });
});

describe('bad configuration stops start-up with exit code 1 and one line naming the problem', () => {
  const cases: Array<{ name: string; script: string; args: string[]; env?: Record<string, string>; pattern: RegExp }> = [
    { name: 'a duration without a unit', script: SERVER_JS, args: ['--proxy.timeout', '30'], pattern: /^config: proxy\.timeout: .*30/ },
    { name: 'an unknown flag', script: SERVER_JS, args: ['--proxy.bind-adr', ':9'], pattern: /^config: .*proxy\.bind-adr/ },
    { name: 'a bad log level', script: SERVER_JS, args: ['--log.level', 'loud'], pattern: /^config: log\.level: / },
    { name: 'an invalid endpoint id for the agent', script: AGENT_JS, args: ['http', 'bad/id', '3000'], pattern: /endpoint/ },
    { name: 'a missing config file', script: AGENT_JS, args: ['start', '--config.path', '/nonexistent/agent.yaml'], pattern: /\/nonexistent\/agent\.yaml/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const proc = spawnNode(c.script, c.args, c.env ?? {});
      const code = await proc.exited;
      assert.equal(code, 1);
      const lines = proc.stderrText.filter((l) => l.trim().length > 0);
      assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
      assert.match(lines[0] ?? '', c.pattern);
    });
  }

  it('answers an upgrade with an invalid endpoint id with 400 before upgrading', async () => {
    const server = await startServer();
    try {
      const res = await fetchRaw(server.addrs.upstream, {
        path: '/piko/v1/upstream/bad%2Fid',
        headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      assert.equal(res.status, 400);
      assert.match(res.json<{ error: string }>().error, /invalid endpoint id/);
    } finally {
      await server.stop();
    }
  });

  it('exits 1 with the server\'s reason, without retrying, when the server refuses with a 4xx', async () => {
    const server = await startServer();
    try {
      // The admin port is no upstream port: it answers the registration with a 404.
      const proc = spawnNode(AGENT_JS, ['http', 'app', '3000', '--connect.url', `http://${server.addrs.admin}`]);
      assert.equal(await proc.exited, 1);
      const text = proc.stderrText.join('\n');
      assert.match(text, /404/);
      assert.equal(proc.lines.filter((l) => l.message === 'connect failed; retrying').length, 0, 'no retry after a 4xx');
    } finally {
      await server.stop();
    }
  });
});
