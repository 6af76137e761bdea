import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Cancel, Clock } from '../../../../../../src/application/ports/clock.port.js';
import type { UdpGossipShell } from '../../../../../../src/adapters/server/cluster/gossip/udp-gossip-shell.js';
import { GossipHarness } from '../../../../../support/sim/gossip-harness.js';

/* The UDP shell on an in-memory datagram network with a fake clock: timers, joins, leave, errors, telemetry. */

let h: GossipHarness;
beforeEach(() => {
  h = new GossipHarness(11);
});
afterEach(() => h.close());

/** A clock that counts the callbacks scheduled through it and neither run nor cancelled. */
class CountingClock implements Clock {
  outstanding = 0;
  constructor(private readonly inner: Clock) {}
  now(): number {
    return this.inner.now();
  }
  schedule(delayMs: number, fn: () => void): Cancel {
    let open = true;
    this.outstanding += 1;
    const settle = (): void => {
      if (open) this.outstanding -= 1;
      open = false;
    };
    const cancel = this.inner.schedule(delayMs, () => {
      settle();
      fn();
    });
    return () => {
      settle();
      cancel();
    };
  }
}

const addrOf = (s: UdpGossipShell): string => `127.0.0.1:${s.boundAddress?.port}`;
const statusOf = (observer: UdpGossipShell, id: string): string | undefined => observer.view?.member(id)?.status;

async function pair(): Promise<{ a: ReturnType<GossipHarness['shell']>; b: ReturnType<GossipHarness['shell']> }> {
  const a = h.shell('a');
  const b = h.shell('b');
  await a.shell.start();
  await b.shell.start();
  const result = await h.settle(b.shell.join([addrOf(a.shell)], 10_000));
  assert.equal(result.joined, true);
  await h.until(() => statusOf(a.shell, 'b') === 'alive' && statusOf(b.shell, 'a') === 'alive');
  return { a, b };
}

describe('UdpGossipShell', () => {
  describe('start', () => {
    it('binds port 0, advertises the bound address and keeps exactly one timer', async () => {
      const clock = new CountingClock(h.clock);
      const { shell } = h.shell('a', { clock });
      const bound = await shell.start();
      assert.ok(bound.port > 0);
      assert.equal(shell.advertiseAddr, `127.0.0.1:${bound.port}`);
      assert.equal(clock.outstanding, 1, 'one timer at the next deadline');
      const b = h.shell('b');
      await b.shell.start();
      await h.settle(b.shell.join([shell.advertiseAddr], 10_000));
      let most = 0;
      for (let i = 0; i < 300; i += 1) {
        await h.run(10);
        most = Math.max(most, clock.outstanding);
      }
      assert.ok(shell.stats.packetsIn > 20, `datagrams flowed: ${shell.stats.packetsIn}`);
      assert.equal(most, 1, 'never more than one timer through 3 s of ticks and datagrams');
      await shell.close();
      assert.equal(clock.outstanding, 0, 'and none after close');
    });

    it('binds every interface over IPv6 and IPv4 for an empty host, and reaches IPv4 peers through mapped addresses', async () => {
      const { shell: wide } = h.shell('wide', { bindAddr: ':0', advertiseAddr: '127.0.0.1' });
      const bound = await wide.start();
      assert.equal(bound.address, '::');
      assert.equal(wide.advertiseAddr, `127.0.0.1:${bound.port}`, 'a host alone takes the bound port');
      const b = h.shell('b');
      await b.shell.start();
      assert.equal((await h.settle(b.shell.join([wide.advertiseAddr], 5_000))).joined, true);
      await h.until(() => statusOf(wide, 'b') === 'alive' && statusOf(b.shell, 'wide') === 'alive');
      await h.run(1_000);
      assert.equal(wide.stats.sendErrors, 0, 'no EINVAL: IPv4 destinations are mapped on a udp6 socket');
    });

    it('uses the configured advertise address verbatim', async () => {
      const { shell } = h.shell('a', { advertiseAddr: 'node-a.cluster.local:7946' });
      await shell.start();
      assert.equal(shell.advertiseAddr, 'node-a.cluster.local:7946');
      assert.equal(shell.view?.member('a')?.addr, 'node-a.cluster.local:7946');
    });

    it('refuses an out-of-range packet size or interval when built, before binding anything', () => {
      assert.throws(() => h.shell('a', { maxPacketSize: 500 }), /maxPacketSize must be 1200\.\.65507 \(got 500\)/);
      assert.throws(() => h.shell('a', { intervalMs: 0 }), /gossip interval must be > 0 ms/);
      assert.equal(h.net.isBound('127.0.0.1', 40_000), false);
    });

    it('rejects a bind address that is not host:port, naming it', async () => {
      const { shell } = h.shell('a', { bindAddr: 'nonsense' });
      await assert.rejects(shell.start(), /invalid gossip bind address "nonsense"/);
    });

    it('gives the port back when the advertise address is bad, and names it', async () => {
      const { shell } = h.shell('a', { bindAddr: '127.0.0.1:47100', advertiseAddr: 'not valid:1' });
      await assert.rejects(shell.start(), /gossip advertise address "not valid:1" is not host:port/);
      assert.equal(h.net.isBound('127.0.0.1', 47100), false);
      assert.equal(shell.closed, true);
    });

    it('binds a host name to its IPv4 address, and names a name that does not resolve', async () => {
      const resolveHost = async (host: string): Promise<string[]> => {
        if (host === 'gossip.test') return ['::1', '127.0.0.1'];
        throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      };
      const { shell } = h.shell('a', { bindAddr: 'gossip.test:0', resolveHost });
      const bound = await shell.start();
      assert.equal(bound.address, '127.0.0.1');
      const bad = h.shell('b', { bindAddr: 'nowhere.test:0', resolveHost });
      await assert.rejects(bad.shell.start(), /gossip bind nowhere\.test:0: getaddrinfo ENOTFOUND nowhere\.test/);
    });

    it('rejects a port already in use, naming the address', async () => {
      const a = h.shell('a');
      const bound = await a.shell.start();
      const { shell } = h.shell('b', { bindAddr: `127.0.0.1:${bound.port}` });
      await assert.rejects(shell.start(), new RegExp(`gossip bind 127\\.0\\.0\\.1:${bound.port}: .*EADDRINUSE`));
    });
  });

  describe('join', () => {
    it('joins through a seed in one attempt; both sides then know each other', async () => {
      const { a, b } = await pair();
      assert.deepEqual(a.shell.view?.members().map((m) => m.id).sort(), ['a', 'b']);
      assert.ok(a.logger.messages('info').includes('gossip member discovered'));
      assert.ok(b.logger.messages('info').includes('gossip joined'));
    });

    it('retries with doubling backoff until a seed comes up, then joins', async () => {
      const b = h.shell('b', { joinBackoff: { minMs: 1000, maxMs: 60_000 } });
      await b.shell.start();
      const attempts: number[] = [];
      const joining = b.shell.join(['127.0.0.1:47946'], 60_000, () => attempts.push(h.clock.now()));
      await h.run(5_000, 50);
      assert.equal(attempts.length, 2, 'attempts after ~1 s and ~2 s more');
      const a = h.shell('a', { bindAddr: '127.0.0.1:47946' });
      await a.shell.start();
      const result = await h.settle(joining, 60_000, 50);
      assert.equal(result.joined, true);
      assert.ok(result.attempts >= 3, `attempts ${result.attempts}`);
      const gap1 = (attempts[1] as number) - (attempts[0] as number);
      assert.ok(attempts[0] as number >= 1000 + 1000 && (attempts[0] as number) <= 1000 + 1100 + 50, `first wait ~1 s: ${attempts[0]}`);
      assert.ok(gap1 >= 2000 && gap1 <= 2200 + 50, `second wait ~2 s: ${gap1}`);
      assert.equal(statusOf(a.shell, 'b'), 'alive');
    });

    it('gives up after the timeout and says why (abort_if_join_fails can exit on it)', async () => {
      const { shell, logger } = h.shell('b', { joinBackoff: { minMs: 200, maxMs: 1000 } });
      await shell.start();
      const result = await h.settle(shell.join(['127.0.0.1:47000'], 5_000), 20_000, 20);
      assert.equal(result.joined, false);
      assert.match(result.reason ?? '', /no cluster member answered within 5000 ms/);
      assert.ok(result.elapsedMs >= 5_000 && result.elapsedMs < 5_100, `elapsed ${result.elapsedMs}`);
      assert.ok(result.attempts >= 4, `attempts ${result.attempts}`);
      assert.ok(logger.messages('warn').includes('gossip join failed'));
    });

    it('counts an empty list, or one naming only this node, as joined alone', async () => {
      const { shell } = h.shell('a');
      const bound = await shell.start();
      const empty = await h.settle(shell.join([], 1000));
      assert.deepEqual({ joined: empty.joined, alone: empty.alone, attempts: empty.attempts }, { joined: true, alone: true, attempts: 0 });
      const other = h.shell('b');
      await other.shell.start();
      const self = await h.settle(other.shell.join([`127.0.0.1:${other.shell.boundAddress?.port}`], 1000));
      assert.deepEqual({ joined: self.joined, alone: self.alone }, { joined: true, alone: true });
      assert.ok(bound.port !== other.shell.boundAddress?.port);
    });

    it('contacts every address of a DNS name the socket can reach, and skips names that fail', async () => {
      h.net.record = true;
      const lookups: string[] = [];
      const { shell, logger } = h.shell('b', {
        resolveHost: async (host) => {
          lookups.push(host);
          if (host === 'broken.test') throw new Error('queryA ENOTFOUND broken.test');
          return ['127.0.0.2', '::1', '127.0.0.3'];
        },
        joinBackoff: { minMs: 100, maxMs: 100 },
      });
      const bound = await shell.start();
      const result = await h.settle(shell.join(['seeds.test', 'broken.test:9', 'not an address'], 250), 5_000, 10);
      assert.equal(result.joined, false);
      assert.deepEqual([...result.contacted].sort(), [`127.0.0.2:${bound.port}`, `127.0.0.3:${bound.port}`]);
      assert.ok(lookups.filter((l) => l === 'seeds.test').length >= 2, 'names are resolved again at every attempt');
      const sentTo = new Set(h.net.log.map((d) => d.to));
      assert.ok(sentTo.has(`127.0.0.2:${bound.port}`) && sentTo.has(`127.0.0.3:${bound.port}`));
      assert.ok(logger.filter({ level: 'warn', message: 'gossip join name did not resolve' }).length >= 1);
      assert.equal(logger.filter({ level: 'warn', message: 'gossip join address is not host[:port]; skipped' }).length, 1);
    });
  });

  describe('authentication', () => {
    it('forms a keyed cluster and drops a peer with the wrong key, counting it by reason', async () => {
      const a = h.shell('a', { secretKey: 'cluster-secret' });
      const b = h.shell('b', { secretKey: 'cluster-secret' });
      const c = h.shell('c', { secretKey: 'a-guess', joinBackoff: { minMs: 200, maxMs: 200 } });
      const d = h.shell('d', { joinBackoff: { minMs: 200, maxMs: 200 } });
      for (const s of [a, b, c, d]) await s.shell.start();
      assert.equal((await h.settle(b.shell.join([addrOf(a.shell)], 5_000))).joined, true);
      const [wrong, none] = await h.settle(
        Promise.all([c.shell.join([addrOf(a.shell)], 2_000), d.shell.join([addrOf(a.shell)], 2_000)]),
      );
      assert.equal(wrong.joined, false);
      assert.equal(none.joined, false);
      assert.deepEqual(a.shell.view?.members().map((m) => m.id).sort(), ['a', 'b']);
      assert.ok((a.shell.stats.rejected['bad-tag'] ?? 0) >= 5);
      assert.ok((a.shell.stats.rejected['missing-tag'] ?? 0) >= 5);
      assert.equal(a.shell.stats.authFailures, (a.shell.stats.rejected['bad-tag'] ?? 0) + (a.shell.stats.rejected['missing-tag'] ?? 0));
      assert.equal(a.metrics.value('piko_gossip_packets_rejected_total', { reason: 'bad-tag' }), a.shell.stats.rejected['bad-tag']);
      assert.equal(a.metrics.value('piko_gossip_packets_rejected_total', { reason: 'missing-tag' }), a.shell.stats.rejected['missing-tag']);
      const lines = a.logger.filter({ level: 'warn', message: 'gossip datagram failed authentication' });
      assert.equal(lines.length, 2, 'one line per source and reason in a 10 s window, not one per datagram');
    });
  });

  describe('errors', () => {
    it('drops garbage datagrams, counts each and logs once per window', async () => {
      const { shell, logger, metrics } = h.shell('a');
      await shell.start();
      for (let i = 0; i < 100; i += 1) h.net.inject(addrOf(shell), '127.0.0.9:5000', new TextEncoder().encode(`junk ${i}`));
      await h.run(50);
      assert.equal(shell.stats.rejected['bad-magic'], 100);
      assert.equal(metrics.value('piko_gossip_packets_rejected_total', { reason: 'bad-magic' }), 100);
      assert.equal(metrics.value('piko_gossip_packets_inbound_total'), 100);
      assert.equal(logger.filter({ message: 'gossip datagram rejected' }).length, 1);
      await h.run(10_050, 50);
      h.net.inject(addrOf(shell), '127.0.0.9:5000', new Uint8Array([1, 2, 3, 4, 5, 6]));
      await h.run(10);
      const lines = logger.filter({ message: 'gossip datagram rejected' });
      assert.equal(lines.length, 2, 'the next window logs again');
      assert.equal(lines[1]?.fields['suppressed-since-last'], 99);
    });

    it('logs and counts send failures, never throws, and keeps gossiping with the others', async () => {
      const { a, b } = await pair();
      const c = h.shell('c');
      await c.shell.start();
      await h.settle(c.shell.join([addrOf(a.shell)], 5_000));
      await h.until(() => statusOf(a.shell, 'c') === 'alive');
      h.net.failSends.set(addrOf(b.shell), new Error('send EHOSTUNREACH'));
      await h.run(2_000);
      assert.ok(a.shell.stats.sendErrors > 0);
      assert.equal(a.metrics.value('piko_gossip_send_errors_total'), a.shell.stats.sendErrors);
      const lines = a.logger.filter({ level: 'warn', message: 'gossip send failed' });
      assert.equal(lines.length, 1, 'throttled per destination');
      assert.equal(lines[0]?.fields.error, 'send EHOSTUNREACH');
      assert.equal(statusOf(a.shell, 'c'), 'alive');
    });

    it('logs socket errors without throwing', async () => {
      const { shell, logger } = h.shell('a');
      await shell.start();
      h.net.socketError('127.0.0.1', shell.boundAddress?.port as number, new Error('recvmsg ENOBUFS'));
      assert.equal(shell.stats.socketErrors, 1);
      assert.equal(logger.filter({ level: 'error', message: 'gossip socket error' })[0]?.fields.error, 'recvmsg ENOBUFS');
    });
  });

  describe('leave and close', () => {
    it('leave: the peer sees left at once; the socket closes once it spread (within 1 s); no timer remains', async () => {
      const { a, b } = await pair();
      const leaving = a.shell.leave();
      await h.until(() => statusOf(b.shell, 'a') === 'left', 100, 1);
      const took = await h.until(() => a.shell.closed, 1_000, 5);
      assert.ok(took <= 1_000);
      await leaving;
      assert.equal(h.net.isBound('127.0.0.1', a.shell.boundAddress?.port as number), false);
      await b.shell.close();
      h.clock.advance(10);
      assert.equal(h.clock.pending, 0, 'every timer cancelled, nothing in flight');
      assert.equal(a.shell.leave(), leaving, 'leave twice returns the same promise');
    });

    it('leave with nobody alive to tell closes at once, without waiting for the cap', async () => {
      const { shell } = h.shell('a');
      await shell.start();
      let done = false;
      void shell.leave().then(() => (done = true));
      await Promise.resolve();
      await Promise.resolve();
      assert.equal(done, true, 'resolved without the clock moving');
      assert.equal(shell.closed, true);
    });

    it('close without leave: the peer marks the node dead (fake time)', async () => {
      const { a, b } = await pair();
      await a.shell.close();
      const took = await h.until(() => statusOf(b.shell, 'a') === 'dead', 10_000, 10);
      assert.ok(took <= 3_000, `detected in ${took} ms of fake time`);
      assert.ok(b.logger.messages('warn').includes('gossip member unreachable'));
    });
  });

  describe('telemetry', () => {
    it("counts Piko's gossip families (packet bytes, digest and delta entries) in and out", async () => {
      const { a, b } = await pair();
      b.shell.setLocal('endpoint:my-endpoint', '2');
      await h.until(() => a.shell.view?.state('b')?.get('endpoint:my-endpoint') === '2');
      await h.run(200);
      for (const s of [a, b]) {
        const st = s.shell.stats;
        assert.equal(s.metrics.value('piko_gossip_packet_bytes_inbound_total'), st.bytesIn);
        assert.equal(s.metrics.value('piko_gossip_packet_bytes_outbound_total'), st.bytesOut);
        assert.equal(s.metrics.value('piko_gossip_digest_entries_inbound_total'), st.digestEntriesIn);
        assert.equal(s.metrics.value('piko_gossip_digest_entries_outbound_total'), st.digestEntriesOut);
        assert.equal(s.metrics.value('piko_gossip_delta_entries_inbound_total'), st.deltaEntriesIn);
        assert.equal(s.metrics.value('piko_gossip_delta_entries_outbound_total'), st.deltaEntriesOut);
        assert.equal(s.metrics.value('piko_gossip_packets_outbound_total'), st.packetsOut);
        assert.ok(st.bytesIn > 0 && st.bytesOut > 0 && st.digestEntriesIn > 0);
      }
      assert.ok(a.shell.stats.deltaEntriesIn >= 1, 'the endpoint entry arrived as a delta');
      assert.ok(b.shell.stats.deltaEntriesOut >= 1);
      assert.ok(b.shell.stats.digestEntriesOut >= 1, 'the join digest');
    });
  });
});
