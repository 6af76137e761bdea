import type { GossipCodecErrorReason } from './errors.js';
import type { MemberStatus } from './messages.js';
import type { StateChange } from './node-state.js';

/** A node as the gossip machine sees it (the local node included). A snapshot: it does not change later. */
export interface MemberView {
  readonly id: string;
  /** Gossip address (`host:port`). */
  readonly addr: string;
  readonly incarnation: number;
  /** `alive`/`suspect` are routable; `dead` is unreachable; `left` left gracefully. */
  readonly status: MemberStatus;
  /** True for the local node. */
  readonly local: boolean;
  /** Where this node's replicated state stands here (the local node: its own counter). */
  readonly stateEpoch: number;
  readonly stateVersion: number;
  /** For dead and left members: when they will be removed (injected clock, never on the wire). */
  readonly removeAt: number | undefined;
}

/** One datagram to send. `to` is a gossip address exactly as peers advertise it. */
export interface Outgoing {
  readonly to: string;
  readonly bytes: Uint8Array;
}

/**
 * A state change the shell and the membership adapter react to (logs, metrics, the routing view). Events are
 * plain data, in the order things happened.
 */
export type GossipEvent =
  /** A node was seen for the first time (or again after its removal, in a newer incarnation). */
  | { readonly type: 'member-added'; readonly member: MemberView }
  /** A member's status changed (`previous` → `member.status`), e.g. suspect, dead (unreachable), back to alive. */
  | { readonly type: 'member-status'; readonly member: MemberView; readonly previous: MemberStatus }
  /** A dead or left member's expiry passed: it and its state are gone (a tombstone stays). */
  | { readonly type: 'member-removed'; readonly id: string; readonly status: MemberStatus }
  /** Keys of a node's state changed here (the local node's own changes are not reported). */
  | { readonly type: 'state-changed'; readonly id: string; readonly changes: readonly StateChange[] }
  /**
   * The local node refuted a claim about itself: it raised its incarnation (a suspicion or death) or its state
   * epoch. `newLife`: peers knew a later incarnation or state of this ID, i.e. of an earlier process life.
   */
  | {
      readonly type: 'refuted';
      readonly incarnation: number;
      readonly claim: MemberStatus;
      readonly newLife: boolean;
    }
  /** A datagram was dropped: malformed, or (`bad-tag`, `missing-tag`, `unexpected-tag`) not authenticated. */
  | { readonly type: 'message-rejected'; readonly from: string; readonly reason: GossipCodecErrorReason }
  /** A digest arrived from a peer (the answer to a join or a push-pull): this node is in touch with the cluster. */
  | { readonly type: 'sync-received'; readonly from: string; readonly nodeId: string };

/** What one call into the machine asks the shell to do: datagrams to send and events to report. */
export interface MachineOutput {
  readonly send: readonly Outgoing[];
  readonly events: readonly GossipEvent[];
}
