/**
 * The gossip wire protocol's messages, as plain data. `docs/gossip-protocol.md` is the specification; the
 * comments here paraphrase it. Encoding and decoding live in `codec.ts`.
 *
 * Every datagram is one {@link Message}: a header (magic, version, type, flags), the sender's identity and the
 * position of its state stream, a type-specific body, then piggy-backed membership updates and state chunks,
 * and, when the cluster has a secret key, a 16-byte authentication tag.
 */

/** The two bytes every datagram starts with ("PG"), so stray traffic on the port is rejected at once. */
export const MAGIC = Object.freeze([0x50, 0x47] as const);

/** The protocol version this code speaks; a datagram with another version is rejected. */
export const PROTOCOL_VERSION = 1;

/** Bytes of the fixed header: magic (2), version (1), type (1), flags (1). */
export const FIXED_HEADER_LENGTH = 5;

/** Flag bit: the datagram ends with an authentication tag. Other flag bits are reserved and must be 0. */
export const FLAG_AUTHENTICATED = 0x01;

/** Length of the authentication tag: the first 16 bytes of HMAC-SHA256 over everything before the tag. */
export const TAG_LENGTH = 16;

/** The default size cap of a datagram, in bytes (Piko's `max_packet_size`). */
export const DEFAULT_MAX_PACKET_SIZE = 1400;
/**
 * The smallest `maxPacketSize` accepted: a header with the longest ID and address, a chunk header and the
 * largest state entry, plus the tag, take 1,092 bytes; the rest is margin.
 */
export const MIN_PACKET_SIZE = 1200;

/** Longest node ID, in UTF-8 bytes. */
export const MAX_NODE_ID_BYTES = 128;
/** Longest address (`host:port`), key or value, in UTF-8 bytes (each is length-prefixed by one byte). */
export const MAX_SHORT_STRING_BYTES = 255;

/** Type byte of each message. */
export const MessageType = Object.freeze({
  Ping: 1,
  Ack: 2,
  PingReq: 3,
  Nack: 4,
  Sync: 5,
  Gossip: 6,
  StateRequest: 7,
} as const);

/**
 * A member's status. `alive` and `suspect` members are routed to; `dead` is this protocol's "unreachable"
 * (declared when a suspicion times out, replicated, and refutable only by the node itself with a higher
 * incarnation); `left` is a graceful departure. Ordered: at the same incarnation a later status wins.
 */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** Wire code of each status, which is also its rank at equal incarnations. */
export const MEMBER_STATUS_CODE: Readonly<Record<MemberStatus, number>> = Object.freeze({
  alive: 0,
  suspect: 1,
  dead: 2,
  left: 3,
});

/** Status for each wire code. */
export const MEMBER_STATUS_BY_CODE: readonly MemberStatus[] = Object.freeze(['alive', 'suspect', 'dead', 'left']);

/**
 * Who sent a datagram, as the sender itself states it. The receiver treats this as a first-party "alive" claim
 * and learns where the sender's state stream stands, so it can pull what it misses.
 */
export interface Sender {
  /** The sender's node ID (1 to {@link MAX_NODE_ID_BYTES} UTF-8 bytes). */
  readonly id: string;
  /** The sender's incarnation (u32): raised only by the sender, to refute a claim about itself. */
  readonly incarnation: number;
  /** The gossip address peers use to reach the sender (`host:port`). */
  readonly addr: string;
  /** The life of the sender's state stream (u32); a larger epoch replaces all earlier state of that node. */
  readonly stateEpoch: number;
  /** The sender's latest state version (u32) in that epoch. */
  readonly stateVersion: number;
}

/**
 * A piggy-backed membership claim about one node. Precedence: a claim replaces what is known when its
 * `(incarnation, status rank)` is greater; a suspicion at the same incarnation from a new suspector confirms it.
 */
export type MemberUpdate =
  | { readonly status: 'alive'; readonly id: string; readonly incarnation: number; readonly addr: string }
  | { readonly status: 'suspect'; readonly id: string; readonly incarnation: number; readonly from: string }
  | { readonly status: 'dead'; readonly id: string; readonly incarnation: number }
  | { readonly status: 'left'; readonly id: string; readonly incarnation: number };

/** One node as the sender of a sync knows it: membership plus where its state stream stands. */
export interface DigestEntry {
  readonly id: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly stateEpoch: number;
  readonly stateVersion: number;
}

/** One key of a node's state. `value` undefined is a deletion (kept as a tombstone until compaction). */
export interface StateEntry {
  readonly key: string;
  /** The owner's state version at which this key last changed (u32, ≥ 1). */
  readonly version: number;
  readonly value: string | undefined;
}

/**
 * A slice of one node's versioned state: every entry whose version is in `(base, to]`, ascending. A receiver
 * that already holds everything up to `base` holds everything up to `to` afterwards; otherwise it applies the
 * entries one by one and pulls the gap. Large states therefore converge over several datagrams.
 */
export interface StateChunk {
  readonly nodeId: string;
  readonly epoch: number;
  readonly base: number;
  readonly to: number;
  /** The latest version of that node the sender knows of (`to < latest`: more to pull). */
  readonly latest: number;
  /**
   * Compaction marker: the owner dropped its deletions up to `floor` and re-stamped every live entry with
   * versions in `(floor, restampedTo]`. A receiver that has caught up to `restampedTo` forgets entries ≤ `floor`.
   * Both 0 when the owner never compacted.
   */
  readonly floor: number;
  readonly restampedTo: number;
  readonly entries: readonly StateEntry[];
}

/** A request for one node's state after `known` in `epoch`. */
export interface StateWant {
  readonly nodeId: string;
  readonly epoch: number;
  readonly known: number;
}

/** Fields every message carries. */
interface MessageBase {
  readonly sender: Sender;
  /** Piggy-backed membership updates (at most 255). */
  readonly updates: readonly MemberUpdate[];
  /** Piggy-backed state chunks (at most 255). */
  readonly chunks: readonly StateChunk[];
}

/** A direct probe: "are you `targetId`?". Answered with an {@link AckMessage} of the same `seq`. */
export interface PingMessage extends MessageBase {
  readonly type: 'ping';
  readonly seq: number;
  /** The node the prober means; a node with another ID ignores the ping (the address may have been reused). */
  readonly targetId: string;
}

/** The answer to a ping, or an indirect probe's answer relayed by the helper. */
export interface AckMessage extends MessageBase {
  readonly type: 'ack';
  readonly seq: number;
}

/** Asks the receiver to probe `targetId` at `targetAddr` and relay the ack (or a nack) under `seq`. */
export interface PingReqMessage extends MessageBase {
  readonly type: 'ping-req';
  readonly seq: number;
  readonly targetId: string;
  readonly targetAddr: string;
}

/** A helper's answer to a ping-req when the target did not answer in time (Lifeguard): the helper is alive. */
export interface NackMessage extends MessageBase {
  readonly type: 'nack';
  readonly seq: number;
}

/**
 * Anti-entropy: a digest of the nodes the sender knows. With `request` the receiver answers with its own digest.
 * A digest larger than one datagram is split over several sync messages, each self-contained.
 */
export interface SyncMessage extends MessageBase {
  readonly type: 'sync';
  readonly request: boolean;
  readonly digest: readonly DigestEntry[];
}

/** Carries only piggy-backed updates and chunks (dissemination and state replies). */
export interface GossipMessage extends MessageBase {
  readonly type: 'gossip';
}

/** Asks for state chunks (answered with gossip messages). */
export interface StateRequestMessage extends MessageBase {
  readonly type: 'state-request';
  readonly wants: readonly StateWant[];
}

/** Every message of the protocol, discriminated by `type`. */
export type Message =
  | PingMessage
  | AckMessage
  | PingReqMessage
  | NackMessage
  | SyncMessage
  | GossipMessage
  | StateRequestMessage;

/** A message's type-specific part (everything but sender and piggy-back). */
export type MessageBody = Message extends infer M
  ? M extends Message
    ? Omit<M, 'sender' | 'updates' | 'chunks'>
    : never
  : never;

/** Type byte for each message type. */
export const MESSAGE_TYPE_CODE: Readonly<Record<Message['type'], number>> = Object.freeze({
  ping: MessageType.Ping,
  ack: MessageType.Ack,
  'ping-req': MessageType.PingReq,
  nack: MessageType.Nack,
  sync: MessageType.Sync,
  gossip: MessageType.Gossip,
  'state-request': MessageType.StateRequest,
});
