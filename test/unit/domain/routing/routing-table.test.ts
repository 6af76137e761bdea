import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ClusterSnapshot } from '../../../../src/domain/cluster/cluster-snapshot.js';
import type { Node } from '../../../../src/domain/node/node.js';
import { RoutingTable, type Route, type SelectOptions } from '../../../../src/domain/routing/routing-table.js';
import type { Upstream } from '../../../../src/domain/upstream/upstream.js';
import { EndpointFixtures } from '../../../support/fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';
import { UpstreamFixtures } from '../../../support/fixtures/upstream.fixtures.js';

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

function table(...upstreams: Upstream[]): RoutingTable<Upstream> {
  const t = new RoutingTable<Upstream>();
  for (const u of upstreams) t.addLocal(u);
  return t;
}

/** A short description of a route, to compare routes in one assertion. */
function where(route: Route<Upstream> | undefined): string | undefined {
  if (route === undefined) return undefined;
  return route.kind === 'local' ? `local:${route.upstream.id}` : `remote:${route.node.id}`;
}

function remoteOptions(nodes: Node[], extra: Partial<SelectOptions<Upstream>> = {}): SelectOptions<Upstream> {
  return { allowRemote: true, cluster: ClusterSnapshot.of(1, NodeFixtures.localId, nodes), ...extra };
}

describe('RoutingTable', () => {
  describe('.addLocal', () => {
    it('counts upstreams per endpoint', () => {
      const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'), UpstreamFixtures.of('c', other));
      assert.equal(t.localCount(ep), 2);
      assert.equal(t.localCount(other), 1);
      assert.equal(t.localCount(EndpointFixtures.unknown), 0);
      assert.deepEqual(t.localEndpoints(), new Map([[ep, 2], [other, 1]]));
      assert.deepEqual(t.localUpstreams().map((u) => u.id).sort(), ['a', 'b', 'c']);
    });

    it('returns false and changes nothing when added twice', () => {
      const t = table(UpstreamFixtures.of('a'));
      assert.equal(t.addLocal(UpstreamFixtures.of('a')), false);
      assert.equal(t.localCount(ep), 1);
    });
  });

  describe('.removeLocal', () => {
    it('is idempotent: a double remove changes nothing the second time', () => {
      const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'));
      assert.equal(t.removeLocal(UpstreamFixtures.of('a')), true);
      assert.equal(t.removeLocal(UpstreamFixtures.of('a')), false);
      assert.equal(t.localCount(ep), 1);
    });

    it('returns false for an endpoint it has never seen', () => {
      assert.equal(table().removeLocal(UpstreamFixtures.of('a')), false);
    });

    it('forgets the endpoint once its last upstream is gone', () => {
      const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b', other));
      t.removeLocal(UpstreamFixtures.of('a'));
      assert.deepEqual(t.localEndpoints(), new Map([[other, 1]]));
    });
  });

  describe('.select', () => {
    describe('having local upstreams', () => {
      it('takes them round-robin', () => {
        const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'));
        const picks = Array.from({ length: 4 }, () => where(t.select(ep, { allowRemote: false })));
        assert.deepEqual(picks, ['local:a', 'local:b', 'local:a', 'local:b']);
      });

      it('prefers a local upstream to a remote node', () => {
        const t = table(UpstreamFixtures.of('a'));
        const route = t.select(ep, remoteOptions([NodeFixtures.holding('node-b', ep, 10)]));
        assert.equal(where(route), 'local:a');
      });

      it('skips excluded upstreams', () => {
        const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'));
        const exclude = new Set(['a']);
        const picks = Array.from({ length: 3 }, () => where(t.select(ep, { allowRemote: false, exclude })));
        assert.deepEqual(picks, ['local:b', 'local:b', 'local:b']);
      });

      it('skips upstreams that are not usable', () => {
        const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'), UpstreamFixtures.of('c'));
        const isUsable = (u: Upstream): boolean => u.id !== 'b';
        const picks = Array.from({ length: 4 }, () => where(t.select(ep, { allowRemote: false, isUsable })));
        assert.deepEqual(picks, ['local:a', 'local:c', 'local:a', 'local:c']);
      });

      it('falls back to a remote node when every local upstream is excluded or unusable', () => {
        const t = table(UpstreamFixtures.of('a'), UpstreamFixtures.of('b'));
        const route = t.select(
          ep,
          remoteOptions([NodeFixtures.holding('node-b', ep, 1)], {
            exclude: new Set(['a']),
            isUsable: (u) => u.id !== 'b',
          }),
        );
        assert.equal(where(route), 'remote:node-b');
      });

      it('does not serve another endpoint from them', () => {
        const t = table(UpstreamFixtures.of('a'));
        assert.equal(t.select(other, { allowRemote: false }), undefined);
      });
    });

    describe('having no local upstream', () => {
      it('returns undefined when remote routing is not allowed (one hop only)', () => {
        const nodes = [NodeFixtures.holding('node-b', ep, 3)];
        assert.equal(table().select(ep, { allowRemote: false, cluster: ClusterSnapshot.of(1, NodeFixtures.localId, nodes) }), undefined);
      });

      it('returns undefined when no nodes are given', () => {
        assert.equal(table().select(ep, { allowRemote: true }), undefined);
      });

      it('routes to an active remote node holding the endpoint', () => {
        const nodes = [NodeFixtures.any, NodeFixtures.holding('node-b', other, 5), NodeFixtures.holding('node-c', ep, 1)];
        assert.equal(where(table().select(ep, remoteOptions(nodes))), 'remote:node-c');
      });

      it('ignores the local node even when it advertises the endpoint', () => {
        const nodes = [NodeFixtures.holding(NodeFixtures.localId, ep, 4)];
        assert.equal(table().select(ep, remoteOptions(nodes)), undefined);
      });

      it('ignores unreachable and left nodes', () => {
        const nodes = [
          NodeFixtures.holding('node-u', ep, 4, 'unreachable'),
          NodeFixtures.holding('node-l', ep, 4, 'left'),
        ];
        assert.equal(table().select(ep, remoteOptions(nodes)), undefined);
        const withActive = [...nodes, NodeFixtures.holding('node-a', ep, 1)];
        assert.equal(where(table().select(ep, remoteOptions(withActive, { random: () => 0 }))), 'remote:node-a');
      });

      it('ignores nodes advertising zero listeners', () => {
        const nodes = [NodeFixtures.holding('node-zero', ep, 0)];
        assert.equal(table().select(ep, remoteOptions(nodes)), undefined);
      });

      it('skips excluded nodes', () => {
        const nodes = [NodeFixtures.holding('node-b', ep, 1), NodeFixtures.holding('node-c', ep, 1)];
        const route = table().select(ep, remoteOptions(nodes, { exclude: new Set(['node-b']), random: () => 0 }));
        assert.equal(where(route), 'remote:node-c');
        const none = table().select(ep, remoteOptions(nodes, { exclude: new Set(['node-b', 'node-c']) }));
        assert.equal(none, undefined);
      });

      describe('having several candidate nodes', () => {
        // Weights 1 and 3: node-b covers [0, 0.25) of the random range, node-c covers [0.25, 1).
        const nodes = [NodeFixtures.holding('node-b', ep, 1), NodeFixtures.holding('node-c', ep, 3)];
        const cases: ReadonlyArray<readonly [number, string]> = [
          [0, 'remote:node-b'],
          [0.2, 'remote:node-b'],
          [0.2499, 'remote:node-b'],
          [0.25, 'remote:node-c'],
          [0.5, 'remote:node-c'],
          [0.9999, 'remote:node-c'],
        ];
        for (const [random, expected] of cases) {
          it(`picks by listener weight: random ${random} → ${expected}`, () => {
            assert.equal(where(table().select(ep, remoteOptions(nodes, { random: () => random }))), expected);
          });
        }

        it('picks the first candidate when no random source is given', () => {
          assert.equal(where(table().select(ep, remoteOptions(nodes))), 'remote:node-b');
        });

        it('weights only the listeners of the requested endpoint', () => {
          const mixed = [
            NodeFixtures.build({ id: 'node-b', endpoints: [[ep, 1], [other, 100]] }),
            NodeFixtures.holding('node-c', ep, 1),
          ];
          assert.equal(where(table().select(ep, remoteOptions(mixed, { random: () => 0.6 }))), 'remote:node-c');
        });
      });
    });
  });
});
