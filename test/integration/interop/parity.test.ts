import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { fetchRaw, type FullResponse } from '../../support/http.js';
import { startInteropService, type InteropService } from '../../support/interop-service.js';
import { freePort, SKIP_INTEROP, startGoAgent, startGoServer, waitForEndpoint, type GoServer } from '../../support/piko-binary.js';
import { startAgent, startServer, type Proc, type ServerProc } from '../../support/processes.js';

/**
 * The same requests against a Piko server and a piko-ts server (both with `--proxy.timeout 1s`), each with its
 * own agent ("native") and with the other implementation's agent ("crossed"): what the client gets back and
 * what the service receives.
 */
describe('interop parity: what clients and services see through Piko and through piko-ts', { skip: SKIP_INTEROP }, () => {
  let service: InteropService;
  let go: GoServer;
  let ts: ServerProc;
  const procs: Proc[] = [];

  /** Starts a piko-ts agent on `server` and waits until the server counts it. */
  const tsAgent = async (endpoint: string, target: string, server: { upstream: string; admin: string }): Promise<void> => {
    procs.push(await startAgent(['http', endpoint, target, '--connect.url', `http://${server.upstream}`]));
    await waitForEndpoint(server.admin, endpoint);
  };

  before(async () => {
    service = await startInteropService();
    const dead = String(await freePort());
    go = await startGoServer(['--proxy.timeout', '1s']);
    ts = await startServer(['--proxy.timeout', '1s']);
    procs.push(await startGoAgent('http', 'native', String(service.port), go.addrs));
    await tsAgent('native', String(service.port), ts.addrs);
    await tsAgent('crossed', String(service.port), go.addrs);
    procs.push(await startGoAgent('http', 'crossed', String(service.port), ts.addrs));
    procs.push(await startGoAgent('http', 'dead', dead, go.addrs));
    await tsAgent('dead', dead, ts.addrs);
    await tsAgent('dead-crossed', dead, go.addrs);
    procs.push(await startGoAgent('http', 'dead-crossed', dead, ts.addrs));
  });

  after(async () => {
    for (const proc of procs) await proc.stop();
    await go?.stop();
    await ts?.stop();
    await service?.close();
  });

  /** Sends the same request to both servers. */
  const both = async (options: { path?: string; headers?: OutgoingHttpHeaders; method?: string }): Promise<{ go: FullResponse; ts: FullResponse }> => ({
    go: await fetchRaw(go.addrs.proxy, options),
    ts: await fetchRaw(ts.addrs.proxy, options),
  });

  const jsonError = (res: FullResponse): { status: number; body: unknown; json: boolean } => ({
    status: res.status,
    body: JSON.parse(res.body.toString('utf8')) as unknown,
    json: /^application\/json/.test(String(res.headers['content-type'])),
  });

  for (const [what, request, expected] of [
    ['no endpoint ID', { headers: { host: 'localhost' } }, [400, 'missing endpoint id']],
    ['an endpoint with no upstream', { headers: { 'x-piko-endpoint': 'nobody' } }, [502, 'no available upstreams']],
    ['the TCP route\'s upgrade with no upstream', {
      path: '/_piko/v1/tcp/nobody',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    }, [502, 'no available upstreams']],
    ['an agent whose service refuses connections (native agents)', { headers: { 'x-piko-endpoint': 'dead' } }, [502, 'upstream unreachable']],
    ['an agent whose service refuses connections (crossed agents)', { headers: { 'x-piko-endpoint': 'dead-crossed' } }, [502, 'upstream unreachable']],
    ['a service that sends no headers within proxy.timeout (native agents)', { path: '/slow', headers: { 'x-piko-endpoint': 'native' } }, [504, 'upstream timeout']],
    ['a service that sends no headers within proxy.timeout (crossed agents)', { path: '/slow', headers: { 'x-piko-endpoint': 'crossed' } }, [504, 'upstream timeout']],
  ] as const) {
    it(`answers ${what} alike: ${expected[0]} {"error":"${expected[1]}"}`, { timeout: 20_000 }, async () => {
      const got = await both(request);
      const want = { status: expected[0], body: { error: expected[1] }, json: true };

      assert.deepEqual({ go: jsonError(got.go), ts: jsonError(got.ts) }, { go: want, ts: want });
    });
  }

  it('differs where piko-ts validates: an invalid endpoint ID is 400 with the reason (Piko: 502 no available upstreams)', async () => {
    const got = await both({ headers: { 'x-piko-endpoint': 'bad/id' } });

    assert.deepEqual(jsonError(got.go), { status: 502, body: { error: 'no available upstreams' }, json: true });
    assert.equal(got.ts.status, 400);
    assert.match((got.ts.json<{ error: string }>()).error, /^invalid endpoint id: /);
  });

  it('differs on a plain GET of the TCP route (no upgrade): piko-ts refuses it with a 4xx (Piko: 502 when no upstream)', async () => {
    const got = await both({ path: '/_piko/v1/tcp/nobody' });

    assert.deepEqual(jsonError(got.go), { status: 502, body: { error: 'no available upstreams' }, json: true });
    assert.ok(got.ts.status >= 400 && got.ts.status < 500, `piko-ts answered ${got.ts.status}`);
  });

  it('routes by the first label of Host on both', async () => {
    const got = await both({ path: '/echo/by-host', headers: { host: 'native.tunnel.example.test' } });

    assert.deepEqual([got.go.status, got.ts.status], [200, 200]);
    assert.deepEqual(got.go.json(), got.ts.json());
  });

  it('returns the service\'s response headers alike', async () => {
    const got = await both({ path: '/echo/response', headers: { 'x-piko-endpoint': 'native' } });
    const shown = (h: IncomingHttpHeaders): Record<string, unknown> => {
      const { date: _d, connection: _c, 'keep-alive': _k, ...rest } = h;
      return rest;
    };

    assert.deepEqual(shown(got.ts.headers), shown(got.go.headers));
  });

  describe('the headers the service receives', () => {
    const sent = {
      host: 'public.example.test',
      'x-custom': 'kept',
      authorization: 'Bearer app-token',
      'x-piko-authorization': 'Bearer tunnel-token',
    };
    /** Sends one request through `proxy` to `endpoint` and returns what the service received. */
    const received = async (proxy: string, endpoint: string, tag: string): Promise<IncomingHttpHeaders> => {
      const res = await fetchRaw(proxy, { path: `/echo/${tag}`, headers: { ...sent, 'x-piko-endpoint': endpoint } });
      assert.equal(res.status, 200);
      const headers = service.seen.get(tag);
      assert.ok(headers, tag);
      return headers;
    };

    it('keeps Host, Authorization and the client\'s own headers on every path', async () => {
      for (const [proxy, endpoint, tag] of [
        [go.addrs.proxy, 'native', 'kept-go'],
        [ts.addrs.proxy, 'native', 'kept-ts'],
        [go.addrs.proxy, 'crossed', 'kept-go-ts'],
        [ts.addrs.proxy, 'crossed', 'kept-ts-go'],
      ] as const) {
        const h = await received(proxy, endpoint, tag);
        assert.equal(h.host, 'public.example.test', tag);
        assert.equal(h['x-custom'], 'kept', tag);
        assert.equal(h.authorization, 'Bearer app-token', tag);
      }
    });

    it('piko-ts server: strips x-piko-* and adds X-Forwarded-For/-Host/-Port/-Proto (deliberate)', async () => {
      for (const [endpoint, tag] of [['native', 'ts-native'], ['crossed', 'ts-crossed']] as const) {
        const h = await received(ts.addrs.proxy, endpoint, tag);
        for (const name of ['x-piko-endpoint', 'x-piko-forward', 'x-piko-authorization']) assert.equal(h[name], undefined, `${tag} ${name}`);
        assert.equal(h['x-forwarded-host'], 'public.example.test', tag);
        assert.equal(h['x-forwarded-proto'], 'http', tag);
        assert.equal(h['x-forwarded-port'], ts.addrs.proxy.split(':')[1], `${tag}: the port the client connected to`);
      }
    });

    it('Piko server: keeps x-piko-endpoint and x-piko-authorization, adds x-piko-forward: true and no X-Forwarded-Host/-Port/-Proto', async () => {
      for (const [endpoint, tag] of [['native', 'go-native'], ['crossed', 'go-crossed']] as const) {
        const h = await received(go.addrs.proxy, endpoint, tag);
        assert.equal(h['x-piko-endpoint'], endpoint, tag);
        assert.equal(h['x-piko-forward'], 'true', tag);
        assert.equal(h['x-piko-authorization'], 'Bearer tunnel-token', tag);
        for (const name of ['x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto']) assert.equal(h[name], undefined, `${tag} ${name}`);
      }
    });

    it('X-Forwarded-For: each Piko hop (server, agent) appends the peer it saw; piko-ts adds one entry at the server only', async () => {
      const xff = async (proxy: string, endpoint: string, tag: string): Promise<unknown> => (await received(proxy, endpoint, tag))['x-forwarded-for'];

      assert.equal(await xff(go.addrs.proxy, 'native', 'xff-go'), '127.0.0.1, 127.0.0.1');
      assert.equal(await xff(ts.addrs.proxy, 'native', 'xff-ts'), '127.0.0.1');
      assert.equal(await xff(go.addrs.proxy, 'crossed', 'xff-go-ts'), '127.0.0.1', 'Piko server, piko-ts agent');
      assert.equal(await xff(ts.addrs.proxy, 'crossed', 'xff-ts-go'), '127.0.0.1, 127.0.0.1', 'piko-ts server, Piko agent');
    });

    it('Accept-Encoding: each Piko hop (Go\'s transport) adds "gzip" when the client sent none; piko-ts adds nothing', async () => {
      const h = async (proxy: string, endpoint: string, tag: string): Promise<unknown> => (await received(proxy, endpoint, tag))['accept-encoding'];

      assert.equal(await h(go.addrs.proxy, 'native', 'ae-go'), 'gzip');
      assert.equal(await h(ts.addrs.proxy, 'crossed', 'ae-ts-go'), 'gzip', 'piko-ts server, Piko agent');
      assert.equal(await h(go.addrs.proxy, 'crossed', 'ae-go-ts'), 'gzip', 'Piko server, piko-ts agent');
      assert.equal(await h(ts.addrs.proxy, 'native', 'ae-ts'), undefined);
    });
  });
});
