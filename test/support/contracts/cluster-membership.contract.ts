import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ClusterMembership, LocalNodeInfo } from '../../../src/application/ports/cluster-membership.port.js';
import type { ClusterSnapshot } from '../../../src/domain/cluster/cluster-snapshot.js';
import type { Node } from '../../../src/domain/node/node.js';
import { EndpointFixtures } from '../fixtures/endpoint.fixtures.js';
import { NodeFixtures } from '../fixtures/node.fixtures.js';
import { caseOptions, turns, type KnownViolations } from './contract-case.js';

/**
 * What an implementation can do beyond the port so that the suite can check the multi-node promises. Every hook
 * is optional: a case that needs a missing hook is skipped, so a single-node membership runs the same suite as a
 * gossip one.
 */
export interface ClusterMembershipHooks {
  /**
   * Makes `peer` (an active node with its endpoints) known to the membership under test, the way the
   * implementation learns peers (a fake sets it; a gossip harness starts a second member), and resolves once
   * the membership has published it.
   */
  addPeer?(peer: Node): Promise<void> | void;
  /**
   * Resolves once every change made so far has been applied and announced. Default: a few turns of the event
   * loop, enough for an implementation that announces on the event loop.
   */
  settle?(): Promise<void>;
  /** Releases what the harness holds (other members, sockets, timers); called after every case. */
  close?(): Promise<void> | void;
}

/** A fresh, not yet started membership and its hooks. */
export interface ClusterMembershipHarness {
  readonly membership: ClusterMembership;
  readonly hooks?: ClusterMembershipHooks;
}

/** The IDs of the cases of {@link clusterMembershipContract}, for {@link KnownViolations}. */
export type ClusterMembershipCase =
  | 'local-node-id'
  | 'empty-before-start'
  | 'start-lists-self'
  | 'start-announces'
  | 'same-object-until-change'
  | 'change-bumps-version'
  | 'old-snapshot-unchanged'
  | 'publishes-count'
  | 'zero-removes'
  | 'idempotent-count'
  | 'count-before-start'
  | 'onchange-delivers'
  | 'unsubscribe'
  | 'local-not-candidate'
  | 'leave-marks-left'
  | 'no-change-after-leave'
  | 'peer-is-candidate';

/** Options of {@link clusterMembershipContract}. */
export interface ClusterMembershipContractOptions {
  /** Cases this implementation is known to break; they run as `todo`. */
  readonly knownViolations?: KnownViolations<ClusterMembershipCase>;
}

const ep = EndpointFixtures.any;
const other = EndpointFixtures.other;

/** The addresses the suite starts every membership with. */
function selfOf(membership: ClusterMembership): LocalNodeInfo {
  return { id: membership.localNodeId, proxyAddr: '127.0.0.1:18000', adminAddr: '127.0.0.1:18002' };
}

/**
 * The contract of the `ClusterMembership` port (its TSDoc in `src/application/ports/cluster-membership.port.ts`),
 * as a `describe(name)` block: cheap immutable versioned snapshots, change events with the new snapshot,
 * idempotent local endpoint counts (also before start), the local node never a remote candidate, and a
 * graceful `leave` after which nothing more is published. `make` returns a fresh, unstarted membership per case.
 */
export function clusterMembershipContract(
  name: string,
  make: () => Promise<ClusterMembershipHarness> | ClusterMembershipHarness,
  options: ClusterMembershipContractOptions = {},
): void {
  const known = options.knownViolations;

  /** Runs `body` on a fresh harness and always closes it. */
  async function withHarness(
    body: (m: ClusterMembership, settle: () => Promise<void>, hooks: ClusterMembershipHooks) => Promise<void>,
  ): Promise<void> {
    const harness = await make();
    const hooks = harness.hooks ?? {};
    const settle = hooks.settle?.bind(hooks) ?? (() => turns());
    try {
      await body(harness.membership, settle, hooks);
    } finally {
      await hooks.close?.();
    }
  }

  /** Subscribes and collects every delivered snapshot. */
  function record(m: ClusterMembership): { seen: ClusterSnapshot[]; stop: () => void } {
    const seen: ClusterSnapshot[] = [];
    const stop = m.onChange((s) => seen.push(s));
    return { seen, stop };
  }

  describe(name, () => {
    describe('snapshot', () => {
      it('keeps localNodeId, and every snapshot names the same local node ID', caseOptions('local-node-id', known), () =>
        withHarness(async (m, settle) => {
          const id = m.localNodeId;
          assert.equal(m.snapshot().localNodeId, id);
          await m.start(selfOf(m));
          await settle();
          assert.equal(m.localNodeId, id);
          assert.equal(m.snapshot().localNodeId, id);
        }));

      it('holds no node before start', caseOptions('empty-before-start', known), () =>
        withHarness(async (m) => {
          assert.deepEqual(m.snapshot().nodes, []);
          assert.equal(m.snapshot().local, undefined);
        }));

      it('lists the local node after start, active, with the advertised addresses', caseOptions('start-lists-self', known), () =>
        withHarness(async (m, settle) => {
          const self = selfOf(m);
          await m.start(self);
          await settle();
          const local = m.snapshot().local;
          assert.ok(local, 'the local node is in the snapshot');
          assert.equal(local.id, self.id);
          assert.equal(local.status, 'active');
          assert.equal(local.proxyAddr, self.proxyAddr);
          assert.equal(local.adminAddr, self.adminAddr);
          assert.deepEqual(local.endpoints, new Map());
          assert.equal(m.snapshot().node(self.id), local);
        }));

      it('announces the start as a change with a higher version', caseOptions('start-announces', known), () =>
        withHarness(async (m, settle) => {
          const before = m.snapshot();
          const { seen } = record(m);
          await m.start(selfOf(m));
          await settle();
          assert.ok(m.snapshot().version > before.version, 'the version grows');
          assert.ok(seen.length >= 1, 'listeners hear of the start');
          assert.equal(seen.at(-1), m.snapshot());
        }));

      it('returns the same object until something changes', caseOptions('same-object-until-change', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          await settle();
          const a = m.snapshot();
          assert.equal(m.snapshot(), a);
          await settle();
          assert.equal(m.snapshot(), a, 'time alone changes nothing');
        }));

      it('is replaced by a new snapshot with a higher version on a change', caseOptions('change-bumps-version', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          await settle();
          const a = m.snapshot();
          m.setLocalEndpoint(ep, 1);
          await settle();
          const b = m.snapshot();
          assert.notEqual(b, a);
          assert.ok(b.version > a.version, `version ${b.version} > ${a.version}`);
        }));

      it('leaves an earlier snapshot unchanged, its node list frozen', caseOptions('old-snapshot-unchanged', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 1);
          await settle();
          const before = m.snapshot();
          const version = before.version;
          m.setLocalEndpoint(ep, 5);
          m.setLocalEndpoint(other, 2);
          await settle();
          assert.equal(before.version, version);
          assert.deepEqual(before.local?.endpoints, new Map([[ep, 1]]));
          assert.ok(Object.isFrozen(before.nodes), 'nodes is frozen');
          assert.deepEqual(m.snapshot().local?.endpoints, new Map([[ep, 5], [other, 2]]));
        }));

      it('never lists the local node as a remote candidate', caseOptions('local-not-candidate', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 3);
          await settle();
          assert.deepEqual(m.snapshot().remoteCandidates(ep), []);
        }));
    });

    describe('setLocalEndpoint', () => {
      it('publishes the latest listener count per endpoint', caseOptions('publishes-count', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 1);
          m.setLocalEndpoint(ep, 4);
          m.setLocalEndpoint(other, 2);
          await settle();
          assert.deepEqual(m.snapshot().local?.endpoints, new Map([[ep, 4], [other, 2]]));
        }));

      it('removes the endpoint at 0', caseOptions('zero-removes', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 2);
          m.setLocalEndpoint(other, 1);
          await settle();
          m.setLocalEndpoint(ep, 0);
          await settle();
          assert.equal(m.snapshot().local?.endpoints.has(ep), false);
          assert.deepEqual(m.snapshot().local?.endpoints, new Map([[other, 1]]));
        }));

      it('is idempotent: the same count again publishes no new snapshot and no change', caseOptions('idempotent-count', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 2);
          await settle();
          const before = m.snapshot();
          const { seen } = record(m);
          m.setLocalEndpoint(ep, 2);
          m.setLocalEndpoint(EndpointFixtures.unknown, 0);
          await settle();
          assert.equal(m.snapshot(), before, 'nothing changed, so the same snapshot');
          assert.equal(seen.length, 0, 'and no change event');
        }));

      it('may be called before start; the count is published at start', caseOptions('count-before-start', known), () =>
        withHarness(async (m, settle) => {
          m.setLocalEndpoint(ep, 3);
          await m.start(selfOf(m));
          await settle();
          assert.equal(m.snapshot().local?.endpoints.get(ep), 3);
        }));
    });

    describe('onChange', () => {
      it('delivers each new snapshot, the one snapshot() returns, with growing versions', caseOptions('onchange-delivers', known), () =>
        withHarness(async (m, settle) => {
          const { seen } = record(m);
          await m.start(selfOf(m));
          await settle();
          m.setLocalEndpoint(ep, 1);
          await settle();
          m.setLocalEndpoint(ep, 2);
          await settle();
          assert.ok(seen.length >= 3, `at least start and two changes, got ${seen.length}`);
          assert.equal(seen.at(-1), m.snapshot());
          assert.equal(seen.at(-1)?.local?.endpoints.get(ep), 2);
          for (let i = 1; i < seen.length; i += 1) {
            assert.ok((seen[i] as ClusterSnapshot).version > (seen[i - 1] as ClusterSnapshot).version, 'versions grow');
          }
        }));

      it('stops delivering after unsubscribe (twice is harmless) and keeps the other listeners', caseOptions('unsubscribe', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          await settle();
          const a = record(m);
          const b = record(m);
          m.setLocalEndpoint(ep, 1);
          await settle();
          const heard = a.seen.length;
          assert.ok(heard >= 1);
          a.stop();
          a.stop();
          m.setLocalEndpoint(ep, 2);
          await settle();
          assert.equal(a.seen.length, heard, 'no delivery after unsubscribe');
          assert.equal(b.seen.at(-1)?.local?.endpoints.get(ep), 2, 'the other listener still hears');
        }));
    });

    describe('leave', () => {
      it('marks the local node left and announces it', caseOptions('leave-marks-left', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 1);
          await settle();
          const { seen } = record(m);
          await m.leave();
          await settle();
          assert.equal(m.snapshot().local?.status, 'left');
          assert.equal(seen.at(-1)?.local?.status, 'left', 'listeners hear of the departure');
        }));

      it('publishes no more changes afterwards', caseOptions('no-change-after-leave', known), () =>
        withHarness(async (m, settle) => {
          await m.start(selfOf(m));
          m.setLocalEndpoint(ep, 1);
          await m.leave();
          await settle();
          const after = m.snapshot();
          const { seen } = record(m);
          m.setLocalEndpoint(ep, 4);
          m.setLocalEndpoint(other, 1);
          await m.leave();
          await settle();
          assert.equal(m.snapshot(), after, 'the snapshot stays as it was at leave');
          assert.equal(seen.length, 0, 'no change event');
        }));
    });

    describe('peers', () => {
      it('lists an active peer holding an endpoint as a remote candidate weighted by its listeners', async (t) => {
        const harness = await make();
        const hooks = harness.hooks ?? {};
        try {
          if (hooks.addPeer === undefined) {
            t.skip('the harness has no addPeer hook');
            return;
          }
          const reason = known?.['peer-is-candidate'];
          if (reason !== undefined) t.todo(`known violation: ${reason}`);
          const m = harness.membership;
          const settle = hooks.settle?.bind(hooks) ?? (() => turns());
          await m.start(selfOf(m));
          await settle();
          const { seen } = record(m);
          const peer = NodeFixtures.holding('node-peer', ep, 3);
          await hooks.addPeer(peer);
          await settle();
          const snap = m.snapshot();
          assert.equal(snap.node(peer.id)?.proxyAddr, peer.proxyAddr);
          assert.deepEqual(
            snap.remoteCandidates(ep).map((c) => [c.node.id, c.weight]),
            [[peer.id, 3]],
          );
          assert.deepEqual(snap.remoteCandidates(other), []);
          assert.equal(seen.at(-1), snap, 'the peer arrives as a change');
        } finally {
          await hooks.close?.();
        }
      });
    });
  });
}
