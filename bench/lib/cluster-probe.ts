import { existsSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClusterNode } from './cluster-nodes.js';
import { nodeStatuses } from './cluster-nodes.js';
import { SkipError } from './fixtures.js';
import { sleep } from './proc.js';

/**
 * The part of the product's SDK (`dist/index.js`) the bench uses, typed here so that the bench compiles
 * without `src/`: a listener that serves an endpoint from this process, with no agent process.
 */
export interface Sdk {
  serveHttp(
    endpointId: string,
    app: (req: IncomingMessage, res: ServerResponse) => void,
    options: { url: string; minReconnectBackoffMs?: number },
  ): Promise<{ shutdown(): void }>;
}

/** Loads the SDK that sits beside the product's entry points (`<dist>/../index.js`). */
export async function loadSdk(productDir: string): Promise<Sdk> {
  const path = resolve(productDir, '..', 'index.js');
  if (!existsSync(path)) throw new SkipError(`${path} is missing (npm run build): the SDK registers the endpoints`);
  const mod = (await import(pathToFileURL(path).href)) as Partial<Sdk>;
  if (typeof mod.serveHttp !== 'function') throw new SkipError(`${path} has no serveHttp`);
  return mod as Sdk;
}

/** The value at percentile `p` (0–100) of `xs`, nearest rank; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/**
 * One GET over `agent` (keep-alive, so that polling does not open a connection per attempt), body discarded.
 * Resolves with the status, or 0 on a socket error or when no complete answer came within `timeoutMs`.
 */
function statusOf(url: string, headers: Readonly<Record<string, string>>, agent: Agent, timeoutMs: number): Promise<number> {
  return new Promise((done) => {
    let settled = false;
    const finish = (status: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(status);
    };
    const req = request(url, { headers, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', () => finish(0));
    });
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', () => finish(0));
    req.end();
  });
}

/** What one propagation trial measured. */
export interface PropagationResult {
  /** From the call to the moment the SDK listener was connected to the origin node, in ms. */
  readonly registerMs: number;
  /** Per other node: ms from registration until a request through it got 200, or undefined past the deadline. */
  readonly perNode: ReadonlyArray<number | undefined>;
}

/** How a propagation trial polls. */
export interface PollSpec {
  /** Pause between two requests to the same node. */
  readonly pollMs: number;
  /** Per trial, from registration. */
  readonly deadlineMs: number;
}

/**
 * Registers `endpoint` on `origin` with an SDK listener in this process, then polls every node of `others`
 * (concurrently, one keep-alive connection each) with `GET /` for the endpoint until each answers 200 or the
 * deadline passes. Time zero is when the listener is connected, that is when the origin has registered the
 * endpoint. The listener is shut down before returning, whatever happened.
 */
export async function propagationTrial(
  sdk: Sdk,
  origin: ClusterNode,
  others: readonly ClusterNode[],
  endpoint: string,
  spec: PollSpec,
  agents: ReadonlyMap<string, Agent>,
): Promise<PropagationResult> {
  const t0 = performance.now();
  const pending = sdk.serveHttp(endpoint, (_req, res) => res.end('ok'), { url: `http://${origin.upstreamAddr}` });
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`the SDK listener for ${endpoint} did not connect to ${origin.id} within 10 s`)), 10_000);
  });
  let listener: { shutdown(): void };
  try {
    listener = await Promise.race([pending, tooLate]);
  } catch (err) {
    // A listener that connects after all is shut down as soon as it does.
    void pending.then((l) => l.shutdown(), () => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const registered = performance.now();
  try {
    const headers = { 'x-piko-endpoint': endpoint };
    const perNode = await Promise.all(
      others.map(async (n) => {
        const agent = agents.get(n.id) ?? new Agent({ keepAlive: true, maxSockets: 1 });
        const deadline = registered + spec.deadlineMs;
        while (performance.now() < deadline) {
          const status = await statusOf(`http://${n.proxyAddr}/`, headers, agent, 2_000);
          if (status === 200) return performance.now() - registered;
          await sleep(spec.pollMs);
        }
        return undefined;
      }),
    );
    return { registerMs: registered - t0, perNode };
  } finally {
    listener.shutdown();
  }
}

/**
 * Kills `victim` with SIGKILL and polls each survivor's `/status/cluster/nodes` every `pollMs` until it lists the
 * victim as `unreachable`. Returns, per survivor, the ms from the kill, or undefined past `deadlineMs`; waits for
 * the victim's exit before returning.
 */
export async function detectionTrial(
  victim: ClusterNode,
  survivors: readonly ClusterNode[],
  pollMs: number,
  deadlineMs: number,
): Promise<Array<number | undefined>> {
  const t0 = performance.now();
  victim.proc.child.kill('SIGKILL');
  const times = await Promise.all(
    survivors.map(async (s) => {
      while (performance.now() - t0 < deadlineMs) {
        const view = await nodeStatuses(s.adminAddr, 1_000);
        if (view?.get(victim.id) === 'unreachable') return performance.now() - t0;
        await sleep(pollMs);
      }
      return undefined;
    }),
  );
  await victim.proc.exited;
  return times;
}
