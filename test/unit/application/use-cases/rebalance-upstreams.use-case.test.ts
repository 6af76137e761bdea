import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import {
  RebalanceUpstreams,
  type RebalanceCluster,
  type RebalanceSettings,
} from '../../../../src/application/use-cases/rebalance-upstreams.use-case.js';
import { ClusterSnapshot } from '../../../../src/domain/cluster/cluster-snapshot.js';
import type { EndpointId } from '../../../../src/domain/endpoint/endpoint-id.js';
import type { NodeStatus } from '../../../../src/domain/node/node.js';
import { fuzzParameters } from '../../../support/fuzz.js';
import { NodeFixtures } from '../../../support/fixtures/node.fixtures.js';

const ep = 'web' as EndpointId;
const PIKO_DEFAULTS: RebalanceSettings = { threshold: 0.1, shedRate: 0.005, minConns: 50 };

/** A snapshot whose first node is the local one; each entry is a node's total listeners (spread on two endpoints). */
function cluster(counts: ReadonlyArray<number | readonly [number, NodeStatus]>): ClusterSnapshot {
  const nodes = counts.map((entry, i) => {
    const [listeners, status] = typeof entry === 'number' ? [entry, 'active' as const] : entry;
    const half = Math.floor(listeners / 2);
    return NodeFixtures.build({
      id: i === 0 ? NodeFixtures.localId : `node-${i}`,
      status,
      endpoints: [
        [ep, listeners - half],
        ['api' as EndpointId, half],
      ],
    });
  });
  return ClusterSnapshot.of(1, NodeFixtures.localId, nodes);
}

const decide = (settings: Partial<RebalanceSettings>, snapshot: RebalanceCluster, local: number, inTransit?: number) =>
  new RebalanceUpstreams({ ...PIKO_DEFAULTS, ...settings }).execute(snapshot, local, inTransit);

describe('RebalanceUpstreams', () => {
  describe('.execute', () => {
    describe("having Piko's example (6 nodes: three with 1000, three with 0; shed rate 0.005)", () => {
      it('sheds ceil(500 × 0.005) = 3 sessions on a loaded node, with average 500 and balance 1', () => {
        const d = decide({ threshold: 0.1, shedRate: 0.005, minConns: 50 }, cluster([1000, 1000, 1000, 0, 0, 0]), 1000);
        assert.deepEqual(d, { outcome: 'shed', shed: 3, local: 1000, average: 500, balance: 1 });
      });

      it('sheds nothing on an empty node', () => {
        const d = decide({}, cluster([0, 1000, 1000, 1000, 0, 0]), 0);
        assert.equal(d.shed, 0);
        assert.equal(d.outcome, 'no-sessions');
      });
    });

    describe('having a rule that skips the round', () => {
      it('skips when the threshold is 0 (rebalancing off)', () => {
        assert.deepEqual(decide({ threshold: 0 }, cluster([1000, 0]), 1000), { outcome: 'disabled', shed: 0, local: 1000, average: 0, balance: 0 });
      });

      it('skips with one node or none in the view', () => {
        assert.equal(decide({}, cluster([1000]), 1000).outcome, 'single-node');
        assert.equal(decide({}, cluster([]), 1000).outcome, 'single-node');
      });

      it('counts nodes of every status for the one-node rule (Piko: all statuses), and only active ones for the average', () => {
        // Two nodes listed, the other unreachable: not a single-node cluster, but the average is over this node only.
        const d = decide({ minConns: 1 }, cluster([100, [0, 'unreachable']]), 100);
        assert.equal(d.outcome, 'below-threshold');
        assert.equal(d.average, 100);
        // The left node's 900 listeners do not count: average (100 + 0) / 2 = 50.
        const e = decide({ minConns: 1, shedRate: 1 }, cluster([100, 0, [900, 'left']]), 100);
        assert.equal(e.average, 50);
        assert.equal(e.shed, 50);
      });

      it('skips a node holding no session', () => {
        assert.equal(decide({ minConns: 0 }, cluster([0, 10]), 0).outcome, 'no-sessions');
      });

      it('skips a node holding fewer sessions than min_conns, and sheds at exactly min_conns', () => {
        assert.equal(decide({ minConns: 50 }, cluster([49, 0]), 49).outcome, 'below-min-conns');
        assert.equal(decide({ minConns: 50 }, cluster([50, 0]), 50).outcome, 'shed');
      });

      it('skips below the threshold and sheds at it', () => {
        // local 110, other 90: average 100, balance 0.1.
        assert.equal(decide({ threshold: 0.11, minConns: 1 }, cluster([110, 90]), 110).outcome, 'below-threshold');
        const at = decide({ threshold: 0.1, minConns: 1, shedRate: 1 }, cluster([110, 90]), 110);
        assert.equal(at.outcome, 'shed');
        assert.equal(at.shed, 10);
      });

      it('skips when the shed rate allows nothing (shed_rate 0)', () => {
        const d = decide({ shedRate: 0, minConns: 1 }, cluster([1000, 0]), 1000);
        assert.equal(d.outcome, 'no-budget');
        assert.equal(d.shed, 0);
      });
    });

    describe('having an average of 0 (Piko divides by it)', () => {
      it('sheds nothing when every active node counts 0 listeners although sessions are open here', () => {
        // The local count is ahead of the published view (sessions not yet registered): Piko's balance is infinite.
        const d = decide({ minConns: 1, shedRate: 1 }, cluster([0, 0, 0]), 5);
        assert.deepEqual(d, { outcome: 'no-average', shed: 0, local: 5, average: 0, balance: 0 });
      });

      it('sheds nothing when no node of the view is active', () => {
        const d = decide({ minConns: 1 }, cluster([[10, 'left'], [0, 'unreachable']]), 10);
        assert.equal(d.outcome, 'no-average');
        assert.equal(d.shed, 0);
      });

      it('sheds nothing when the floored average is 0 (1 listener over 3 nodes)', () => {
        assert.equal(decide({ minConns: 1 }, cluster([1, 0, 0]), 1).outcome, 'no-average');
      });
    });

    describe('having a generous shed rate', () => {
      it('never sheds below the average (Piko sheds 4 of 8 against an average of 5; piko-ts sheds 3)', () => {
        // local 8, other 2: average 5, balance 0.6; Piko: min(8 × 0.6, ceil(5 × 1)) = 4.8 → 4, leaving 4 < 5.
        const d = decide({ threshold: 0.1, shedRate: 1, minConns: 1 }, cluster([8, 2]), 8);
        assert.deepEqual(d, { outcome: 'shed', shed: 3, local: 8, average: 5, balance: 0.6 });
      });

      it('sheds exactly down to the average from 6 against 0 (the integration scenario)', () => {
        const d = decide({ threshold: 0.1, shedRate: 1, minConns: 1 }, cluster([6, 0]), 6);
        assert.equal(d.shed, 3);
        assert.equal(d.average, 3);
      });
    });

    describe('having sessions in transit (shed recently, counted by no node yet)', () => {
      it('adds them to the cluster total, so a view that has not caught up sheds nothing more', () => {
        // 6 against 0, 3 just shed: the view shows 3 here and still 0 there. Piko: average 1, sheds again.
        assert.equal(decide({ threshold: 0.1, shedRate: 1, minConns: 1 }, cluster([3, 0]), 3).shed, 1);
        const d = decide({ threshold: 0.1, shedRate: 1, minConns: 1 }, cluster([3, 0]), 3, 3);
        assert.equal(d.average, 3);
        assert.equal(d.outcome, 'below-threshold');
      });

      it('only lowers the count when they are already counted (the average is higher)', () => {
        const d = decide({ threshold: 0.1, shedRate: 1, minConns: 1 }, cluster([10, 0]), 10, 2);
        assert.equal(d.average, 6);
        assert.equal(d.shed, 4);
      });
    });

    it('takes a shed budget within floating-point noise of a whole number as that number (100 × 0.07 allows 7, not 8)', () => {
      // avg 100 (local 200, other 0); 100 × 0.07 = 7.000000000000001 in floating point, whose ceiling is 8.
      assert.equal(100 * 0.07 > 7, true, 'the premise: the product is above 7');
      const d = decide({ threshold: 0.1, shedRate: 0.07, minConns: 1 }, cluster([200, 0]), 200);
      assert.equal(d.shed, 7);
    });

    it('rounds a fractional budget up, as Piko (average 1, shed_rate 0.005 allows 1)', () => {
      assert.equal(decide({ minConns: 1 }, cluster([2, 0]), 2).shed, 1);
    });
  });

  describe('properties', () => {
    const nodeArb = fc.record({
      listeners: fc.nat({ max: 5_000 }),
      status: fc.constantFrom<NodeStatus>('active', 'active', 'active', 'unreachable', 'left'),
    });
    const settingsArb = fc.record({
      threshold: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3, noNaN: true })),
      shedRate: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
      minConns: fc.nat({ max: 200 }),
    });
    const caseArb = fc.record({
      settings: settingsArb,
      nodes: fc.array(nodeArb, { maxLength: 8 }),
      local: fc.nat({ max: 6_000 }),
      inTransit: fc.nat({ max: 100 }),
    });

    /** The average as §6.3 defines it: floor over the active nodes. */
    const averageOf = (nodes: ReadonlyArray<{ listeners: number; status: NodeStatus }>): number => {
      const active = nodes.filter((n) => n.status === 'active');
      return active.length === 0 ? 0 : Math.floor(active.reduce((s, n) => s + n.listeners, 0) / active.length);
    };

    it('sheds a whole number, never negative, never more than local − average, nor more than ceil(average × shed_rate)', () => {
      fc.assert(
        fc.property(caseArb, ({ settings, nodes, local, inTransit }) => {
          const d = decide(settings, cluster(nodes.map((n) => [n.listeners, n.status] as const)), local, inTransit);
          assert.ok(Number.isInteger(d.shed) && d.shed >= 0, `shed ${d.shed}`);
          // Sessions in transit only raise the average (and so only lower what is shed).
          const average = averageOf(nodes);
          if (d.average !== 0) assert.ok(d.average >= average, `average ${d.average} < ${average}`);
          if (d.shed > 0) {
            assert.equal(d.outcome, 'shed');
            assert.ok(d.shed <= local - d.average, `shed ${d.shed} > local ${local} − average ${d.average}`);
            assert.ok(d.shed <= local - average, `shed ${d.shed} > local ${local} − average of the view ${average}`);
            assert.ok(d.shed <= Math.ceil(d.average * settings.shedRate), `shed ${d.shed} over the rate`);
            assert.ok(local >= settings.minConns && nodes.length > 1 && d.average > 0 && settings.threshold > 0);
          } else assert.notEqual(d.outcome, 'shed');
        }),
        fuzzParameters(5_000),
      );
    });

    it('sheds nothing when the threshold is 0, whatever the cluster', () => {
      fc.assert(
        fc.property(caseArb, ({ settings, nodes, local, inTransit }) => {
          const d = decide({ ...settings, threshold: 0 }, cluster(nodes.map((n) => [n.listeners, n.status] as const)), local, inTransit);
          assert.equal(d.shed, 0);
          assert.equal(d.outcome, 'disabled');
        }),
        fuzzParameters(2_000),
      );
    });
  });
});
