import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { fetchRaw, startService } from '../../support/http.js';
import { SKIP_INTEROP, startGoAgent, startGoServer, waitForEndpoint } from '../../support/piko-binary.js';
import type { LogLine, Proc } from '../../support/processes.js';
import { startAgent, startServer } from '../../support/processes.js';

const EP = { 'x-piko-endpoint': 'restart' };

/** Stops every process given, in order, ignoring those already gone. */
async function stopAll(...procs: Array<Proc | undefined>): Promise<void> {
  for (const proc of procs) await proc?.stop();
}

/** Resolves with the exit code once `proc` exits by itself; rejects after `timeoutMs`. */
async function exitsWithin(proc: Proc, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; stderr:\n${proc.stderrText.slice(-10).join('\n')}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a Piko v0.9 agent does once its server has gone: on a clean close its listener reports "closed" and the
 * process exits 1 with `serve: http serve: closed`; on a reset it logs a reconnect and retries. Which one
 * happens depends on how the connection ended, so both are accepted; anything else within 15 s fails.
 */
async function afterServerLoss(agent: Proc): Promise<'exited' | 'reconnecting'> {
  const seen = await agent.waitFor((l: LogLine) => /reconnect/.test(String(l.msg)), 15_000).then(
    () => 'reconnecting' as const,
    () => 'not reconnecting' as const, // exited, or no such line within 15 s: exitsWithin tells which
  );
  if (seen === 'reconnecting') return seen;
  assert.equal(await exitsWithin(agent, 15_000), 1, 'Piko\'s agent exits with status 1');
  assert.equal(agent.lines.find((l) => l.msg === 'failed to run agent')?.error, 'serve: http serve: closed');
  return 'exited';
}

describe('interop: server restarts', { skip: SKIP_INTEROP }, () => {
  it('a piko-ts agent reconnects by itself after the Piko server restarts on the same ports, and traffic resumes', { timeout: 60_000 }, async () => {
    const svc = await startService((_req, res) => res.end('back'));
    const first = await startGoServer();
    let second: Awaited<ReturnType<typeof startGoServer>> | undefined;
    const agent = await startAgent(['http', 'restart', String(svc.port), '--connect.url', `http://${first.addrs.upstream}`]);
    try {
      await waitForEndpoint(first.addrs.admin, 'restart');
      assert.equal((await fetchRaw(first.addrs.proxy, { headers: EP })).status, 200);

      await first.stop();
      await agent.waitFor((l) => l.message === 'disconnected; reconnecting');
      second = await startGoServer([], first.ports);
      await agent.waitFor((l) => l.message === 'connected' && l.reconnect === true, 30_000);
      await waitForEndpoint(second.addrs.admin, 'restart');
      const res = await fetchRaw(second.addrs.proxy, { headers: EP });

      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'back');
    } finally {
      await stopAll(agent, first, second);
      await svc.close();
    }
  });

  it('a Piko agent connected to a piko-ts server that restarts either exits (Piko\'s usual behaviour) or reconnects; either way the restarted server serves it', { timeout: 60_000 }, async () => {
    const svc = await startService((_req, res) => res.end('back'));
    const first = await startServer();
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    const agents: Proc[] = [];
    try {
      agents.push(await startGoAgent('http', 'restart', String(svc.port), first.addrs));
      assert.equal((await fetchRaw(first.addrs.proxy, { headers: EP })).status, 200);

      assert.equal(await first.stop(), 0);
      const outcome = await afterServerLoss(agents[0]!);
      const upstreamPort = first.addrs.upstream.split(':')[1]!;
      second = await startServer(['--upstream.bind-addr', `127.0.0.1:${upstreamPort}`]);
      if (outcome === 'exited') agents.push(await startGoAgent('http', 'restart', String(svc.port), second.addrs));
      else await waitForEndpoint(second.addrs.admin, 'restart');
      const res = await fetchRaw(second.addrs.proxy, { headers: EP });

      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'back');
    } finally {
      await stopAll(...agents, first, second);
      await svc.close();
    }
  });

  it('a Piko agent connected to a Piko server that stops does the same (so the exit is Piko\'s, not caused by piko-ts)', { timeout: 30_000 }, async () => {
    const svc = await startService((_req, res) => res.end('back'));
    const server = await startGoServer();
    let agent: Proc | undefined;
    try {
      agent = await startGoAgent('http', 'restart', String(svc.port), server.addrs);
      await server.stop();
      assert.ok(['exited', 'reconnecting'].includes(await afterServerLoss(agent)));
    } finally {
      await stopAll(agent, server);
      await svc.close();
    }
  });
});
