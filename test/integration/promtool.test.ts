import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { fetchRaw, splitAddr, startService } from '../support/http.js';
import { startAgent, startForward, startServer, type ForwardProc, type Proc, type ServerProc } from '../support/processes.js';

const havePromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs `promtool check metrics` on `text` (its stdin); resolves with the exit code and what it printed. */
async function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => output.push(c));
  child.stderr.on('data', (c: Buffer) => output.push(c));
  child.stdin.on('error', () => {});
  child.stdin.end(text);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, output: Buffer.concat(output).toString('utf8') };
}

describe('promtool check metrics on live /metrics after traffic', { skip: havePromtool ? false : 'promtool not installed (Debian package prometheus; .ci/run installs it)' }, () => {
  let server: ServerProc;
  let agent: Proc;
  let tcpAgent: Proc;
  let forward: ForwardProc;
  let service: Awaited<ReturnType<typeof startService>>;
  let echo: Server;
  let agentMetricsAddr: string;

  before(async () => {
    service = await startService((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    echo = createServer((s) => {
      s.on('error', () => s.destroy());
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    server = await startServer();
    agent = await startAgent([
      'http', 'prom', String(service.port), '--connect.url', `http://${server.addrs.upstream}`,
      '--server.enabled', '--server.bind-addr', '127.0.0.1:0',
    ]);
    agentMetricsAddr = String((await agent.waitFor((l) => l.message === 'metrics server started')).addr);
    const echoPort = (echo.address() as AddressInfo).port;
    tcpAgent = await startAgent(['tcp', 'prom-tcp', `127.0.0.1:${echoPort}`, '--connect.url', `http://${server.addrs.upstream}`]);
    forward = await startForward('prom-tcp', server.addrs.proxy);

    const ep = { 'x-piko-endpoint': 'prom' };
    for (let i = 0; i < 5; i++) assert.equal((await fetchRaw(server.addrs.proxy, { path: `/r${i}`, headers: ep })).status, 200);
    assert.equal((await fetchRaw(server.addrs.proxy, { method: 'POST', path: '/p', headers: ep, body: 'x'.repeat(5000) })).status, 200);
    assert.equal((await fetchRaw(server.addrs.proxy, { headers: { 'x-piko-endpoint': 'nobody' } })).status, 502);
    assert.equal((await fetchRaw(server.addrs.proxy, { headers: { host: 'localhost' } })).status, 400);
    const [host, port] = splitAddr(forward.addr);
    const socket = connect({ host, port });
    await once(socket, 'connect');
    socket.write('ping');
    await once(socket, 'data');
    socket.destroy();
  });

  after(async () => {
    await forward?.stop();
    await tcpAgent?.stop();
    await agent?.stop();
    await server?.stop();
    await service?.close();
    echo?.close();
  });

  it('passes on the server\'s admin /metrics (Piko families, process and Node.js metrics)', { timeout: 30_000 }, async () => {
    const text = (await fetchRaw(server.addrs.admin, { path: '/metrics' })).body.toString();
    assert.match(text, /^piko_proxy_requests_total\{status="200",method="GET"\} 5$/m, 'the scrape carries the traffic');
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m, 'and the default metrics');

    const result = await promtoolCheck(text);
    assert.deepEqual(result, { code: 0, output: '' });
  });

  it('passes on the agent\'s metrics port (--server.enabled)', { timeout: 30_000 }, async () => {
    const text = (await fetchRaw(agentMetricsAddr, { path: '/metrics' })).body.toString();
    assert.match(text, /^piko_agent_requests_total\{status="200",method="GET",endpoint="prom"\} 5$/m);
    assert.match(text, /^piko_agent_requests_in_flight\{endpoint="prom"\} 0$/m);

    const result = await promtoolCheck(text);
    assert.deepEqual(result, { code: 0, output: '' });
  });

  it('fails on a gauge named *_total, so the checks above could fail', { timeout: 30_000 }, async () => {
    const result = await promtoolCheck('# HELP bad_total A gauge.\n# TYPE bad_total gauge\nbad_total 1\n');
    assert.notEqual(result.code, 0);
    assert.match(result.output, /non-counter metrics should not have "_total" suffix/);
  });
});
