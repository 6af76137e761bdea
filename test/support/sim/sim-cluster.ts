import type { SimNetwork } from './sim-network.js';

/** Node IDs `n00`, `n01`, … for a cluster of `n`. */
export const nodeIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}`);

/**
 * Adds `n` nodes; every node but the first joins through the first, a few milliseconds apart (a rolling
 * start). Returns their IDs.
 */
export function startCluster(net: SimNetwork, n: number, options: { staggerMs?: number } = {}): string[] {
  const ids = nodeIds(n);
  for (const id of ids) net.addNode(id);
  for (const id of ids.slice(1)) {
    net.join(id, [ids[0] as string]);
    net.run(options.staggerMs ?? 5);
  }
  return ids;
}

/** True when every running node sees every other running node as alive (and nothing else as live). */
export function membershipConverged(net: SimNetwork): boolean {
  const running = net.running();
  for (const a of running) {
    const live = a.machine.members().filter((m) => m.status === 'alive' || m.status === 'suspect');
    if (live.length !== running.length) return false;
    for (const b of running) if (a.machine.member(b.id)?.status !== 'alive') return false;
  }
  return true;
}

/** True when every running node holds exactly the live state of every running node. */
export function stateConverged(net: SimNetwork): boolean {
  const running = net.running();
  for (const owner of running) {
    const truth = owner.machine.state(owner.id) as ReadonlyMap<string, string>;
    for (const a of running) {
      if (a === owner) continue;
      const copy = a.machine.state(owner.id);
      if (copy === undefined || copy.size !== truth.size) return false;
      for (const [k, v] of truth) if (copy.get(k) !== v) return false;
    }
  }
  return true;
}

/** True when every running node other than `target` holds `target` with `status` (undefined: not listed). */
export function allSee(net: SimNetwork, target: string, status: string | undefined): boolean {
  return net.running([target]).every((n) => n.machine.member(target)?.status === status);
}

/** The simulated times at which each running observer first reported `target` with `status`. */
export function firstStatusTimes(net: SimNetwork, target: string, status: string, after: number): number[] {
  const times: number[] = [];
  for (const n of net.running([target])) {
    const hit = n.events.find(
      (e) => e.at >= after && e.event.type === 'member-status' && e.event.member.id === target && e.event.member.status === status,
    );
    if (hit !== undefined) times.push(hit.at);
  }
  return times;
}
