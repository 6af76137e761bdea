import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  advertiseAddrOf,
  inferAdvertiseHost,
  isPrivateIPv4,
  parseSeed,
  sourceAddr,
  unmapIPv4,
} from '../../../../../../src/adapters/server/cluster/gossip/gossip-addresses.js';

/* Join addresses, datagram sources and the advertised gossip address. */

describe('gossip addresses', () => {
  it('parses join entries: host:port, [v6]:port, and a host alone with the local gossip port', () => {
    const table: Array<[string, { host: string; port: number } | undefined]> = [
      ['10.0.0.1:7000', { host: '10.0.0.1', port: 7000 }],
      ['10.0.0.1', { host: '10.0.0.1', port: 8003 }],
      ['node-0.piko.default.svc', { host: 'node-0.piko.default.svc', port: 8003 }],
      ['node-0.piko:9', { host: 'node-0.piko', port: 9 }],
      ['[::1]:7000', { host: '::1', port: 7000 }],
      ['[fe80::1]', { host: 'fe80::1', port: 8003 }],
      ['::1', { host: '::1', port: 8003 }],
      [' localhost ', { host: 'localhost', port: 8003 }],
      ['', undefined],
      [':7000', undefined],
      ['host:0', undefined],
      ['host:99999', undefined],
      ['not an address', undefined],
      ['[nope]:1', undefined],
    ];
    for (const [raw, expected] of table) assert.deepEqual(parseSeed(raw, 8003), expected, raw);
  });

  it('reports datagram sources as the machine expects them: IPv4 unmapped, IPv6 in brackets', () => {
    assert.equal(sourceAddr('::ffff:10.1.2.3', 8003), '10.1.2.3:8003');
    assert.equal(sourceAddr('10.1.2.3', 8003), '10.1.2.3:8003');
    assert.equal(sourceAddr('fd00::7', 8003), '[fd00::7]:8003');
    assert.equal(unmapIPv4('::ffff:abcd'), '::ffff:abcd', 'not an IPv4-mapped address');
  });

  it('recognises the private IPv4 ranges of RFC 6890', () => {
    for (const ip of ['10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '100.64.0.1', '198.18.0.1']) {
      assert.equal(isPrivateIPv4(ip), true, ip);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '127.0.0.1', '::1', '192.169.0.1']) assert.equal(isPrivateIPv4(ip), false, ip);
  });

  it('infers the advertised host from the interfaces when bound to every interface', () => {
    const lo = { address: '127.0.0.1', family: 'IPv4', internal: true };
    const pub = { address: '203.0.113.5', family: 'IPv4', internal: false };
    const priv = { address: '10.2.3.4', family: 'IPv4', internal: false };
    const v6 = { address: '2001:db8::5', family: 'IPv6', internal: false };
    const ll = { address: 'fe80::1', family: 'IPv6', internal: false };
    assert.equal(inferAdvertiseHost([lo, pub, priv, v6]).host, '10.2.3.4');
    assert.equal(inferAdvertiseHost([lo, pub, v6]).host, '203.0.113.5');
    assert.equal(inferAdvertiseHost([lo, ll, v6]).host, '2001:db8::5');
    assert.deepEqual(inferAdvertiseHost([lo, ll]), { host: '127.0.0.1', why: 'loopback (no external interface address)' });
  });

  it('advertises the configured address, else the bound one, else the inferred host with the bound port', () => {
    const infer = (): { host: string; why: string } => ({ host: '10.9.9.9', why: 'test' });
    assert.equal(advertiseAddrOf('gossip.example:7946', { address: '0.0.0.0', port: 8003 }, infer).addr, 'gossip.example:7946');
    assert.equal(advertiseAddrOf('gossip.example', { address: '0.0.0.0', port: 8003 }, infer).addr, 'gossip.example:8003');
    assert.equal(advertiseAddrOf('', { address: '127.0.0.1', port: 41000 }, infer).addr, '127.0.0.1:41000');
    assert.equal(advertiseAddrOf('', { address: '::1', port: 41000 }, infer).addr, '[::1]:41000');
    assert.equal(advertiseAddrOf('', { address: '::', port: 8003 }, infer).addr, '10.9.9.9:8003');
    assert.equal(advertiseAddrOf('', { address: '0.0.0.0', port: 8003 }, infer).addr, '10.9.9.9:8003');
    assert.throws(() => advertiseAddrOf('a b:1', { address: '0.0.0.0', port: 8003 }, infer), /gossip advertise address "a b:1" is not host:port/);
  });
});
