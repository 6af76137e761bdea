import { utf8Length } from './byte-io.js';
import { chunkHeaderSize, digestEntrySize, envelopeSize, stateEntrySize } from './codec.js';
import type { Member, MemberTable } from './member-table.js';
import { MAX_SHORT_STRING_BYTES, type DigestEntry, type Sender } from './messages.js';

/** The digest entry that states what this node knows about member `m`. */
export function digestEntryOf(m: Member): DigestEntry {
  return {
    id: m.id,
    addr: m.addr,
    incarnation: m.incarnation,
    status: m.status,
    stateEpoch: m.state.epoch,
    stateVersion: m.state.known,
  };
}

/**
 * The one-entry digest that tells node `id` (reached at `to`) what we hold about it: its member record, or its
 * tombstone once removed; undefined when we know nothing. Sent when it speaks with an outlived incarnation or
 * state, so that it refutes.
 */
export function noticeEntry(table: MemberTable, id: string, to: string): DigestEntry | undefined {
  const m = table.get(id);
  if (m !== undefined) return digestEntryOf(m);
  const t = table.tombstone(id);
  if (t === undefined) return undefined;
  return { id, addr: to, incarnation: t.incarnation, status: t.status, stateEpoch: 0, stateVersion: 0 };
}

/**
 * Splits digest entries into groups that each fit in `room` bytes (one sync datagram per group), keeping their
 * order. An entry too large for an empty datagram cannot occur within the format's limits and is skipped.
 */
export function buildDigests(entries: readonly DigestEntry[], room: number): DigestEntry[][] {
  const groups: DigestEntry[][] = [];
  let current: DigestEntry[] = [];
  let left = room;
  for (const e of entries) {
    const size = digestEntrySize(e);
    if (size > room) continue;
    if (size > left || current.length === 0xffff) {
      groups.push(current);
      current = [];
      left = room;
    }
    current.push(e);
    left -= size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * Checks a local state key and value before they are stored: well-formed text of at most 255 UTF-8 bytes (the
 * key not empty), and small enough that the entry travels in one datagram from this node. Throws a RangeError
 * naming the problem: it is a caller's bug, found where it is made.
 */
export function validateLocalEntry(
  key: string,
  value: string | undefined,
  sender: Sender,
  authenticated: boolean,
  maxPacketSize: number,
): void {
  const keyBytes = utf8Length(key);
  if (keyBytes < 1 || keyBytes > MAX_SHORT_STRING_BYTES) {
    throw new RangeError(`gossip state key must be 1..${MAX_SHORT_STRING_BYTES} UTF-8 bytes of well-formed text`);
  }
  if (value !== undefined) {
    const valueBytes = utf8Length(value);
    if (valueBytes < 0 || valueBytes > MAX_SHORT_STRING_BYTES) {
      throw new RangeError(`gossip state value for ${key} must be 0..${MAX_SHORT_STRING_BYTES} UTF-8 bytes of well-formed text`);
    }
  }
  const size =
    envelopeSize(sender, authenticated) + chunkHeaderSize(sender.id) + stateEntrySize({ key, version: 1, value });
  if (size > maxPacketSize) {
    throw new RangeError(`gossip state entry ${key} needs a ${size}-byte datagram (maxPacketSize ${maxPacketSize})`);
  }
}
