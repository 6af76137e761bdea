import { ByteReader, ByteWriter, utf8Length } from './byte-io.js';
import { GossipCodecError } from './errors.js';
import {
  FIXED_HEADER_LENGTH,
  FLAG_AUTHENTICATED,
  MAGIC,
  MAX_NODE_ID_BYTES,
  MAX_SHORT_STRING_BYTES,
  MEMBER_STATUS_BY_CODE,
  MEMBER_STATUS_CODE,
  MESSAGE_TYPE_CODE,
  MessageType,
  PROTOCOL_VERSION,
  TAG_LENGTH,
  type DigestEntry,
  type MemberUpdate,
  type Message,
  type MessageBody,
  type Sender,
  type StateChunk,
  type StateEntry,
  type StateWant,
} from './messages.js';

/**
 * Message authentication, supplied by the shell: the HMAC-SHA256 (or another MAC of at least 16 bytes) of `data`
 * under the cluster's secret key. Only its first {@link TAG_LENGTH} bytes are sent.
 */
export type Hmac = (data: Uint8Array) => Uint8Array;

/** Limits and authentication shared by {@link encodeMessage} and {@link decodeMessage}. */
export interface CodecOptions {
  /** Largest datagram, tag included. */
  readonly maxPacketSize: number;
  /** With a MAC function every datagram is tagged, and untagged or wrongly tagged ones are rejected. */
  readonly hmac?: Hmac | undefined;
}

const MAX_ITEMS_U8 = 0xff;
const MAX_ITEMS_U16 = 0xffff;
/** Entry flag bit: the entry is a deletion and has no value. */
const ENTRY_DELETED = 0x01;

const strSize = (s: string): number => 1 + Math.max(0, utf8Length(s));

/** Encoded size of a message's sender block. */
export const senderSize = (s: Sender): number => strSize(s.id) + 4 + strSize(s.addr) + 8;

/** Encoded size of one membership update. */
export function memberUpdateSize(u: MemberUpdate): number {
  const tail = u.status === 'alive' ? strSize(u.addr) : u.status === 'suspect' ? strSize(u.from) : 0;
  return 1 + strSize(u.id) + 4 + tail;
}

/** Encoded size of one digest entry. */
export const digestEntrySize = (d: DigestEntry): number => strSize(d.id) + strSize(d.addr) + 4 + 1 + 8;

/** Encoded size of a state chunk with no entries. */
export const chunkHeaderSize = (nodeId: string): number => strSize(nodeId) + 6 * 4 + 2;

/** Encoded size of one state entry. */
export const stateEntrySize = (e: StateEntry): number =>
  strSize(e.key) + 4 + 1 + (e.value === undefined ? 0 : strSize(e.value));

/** Encoded size of a whole state chunk. */
export function stateChunkSize(c: StateChunk): number {
  let n = chunkHeaderSize(c.nodeId);
  for (const e of c.entries) n += stateEntrySize(e);
  return n;
}

/** Encoded size of one state want. */
export const stateWantSize = (w: StateWant): number => strSize(w.nodeId) + 8;

/** Encoded size of a message's type-specific body. */
export function bodySize(body: MessageBody): number {
  switch (body.type) {
    case 'ping':
      return 4 + strSize(body.targetId);
    case 'ack':
    case 'nack':
      return 4;
    case 'ping-req':
      return 4 + strSize(body.targetId) + strSize(body.targetAddr);
    case 'sync':
      return 3 + body.digest.reduce((n, d) => n + digestEntrySize(d), 0);
    case 'gossip':
      return 0;
    case 'state-request':
      return 1 + body.wants.reduce((n, w) => n + stateWantSize(w), 0);
  }
}

/** Size of everything but the body and the piggy-back: fixed header, sender, the two counts and the tag. */
export const envelopeSize = (sender: Sender, authenticated: boolean): number =>
  FIXED_HEADER_LENGTH + senderSize(sender) + 2 + (authenticated ? TAG_LENGTH : 0);

/** Encoded size of a whole message (tag included when `authenticated`). */
export function messageSize(msg: Message, authenticated: boolean): number {
  let n = envelopeSize(msg.sender, authenticated) + bodySize(msg);
  for (const u of msg.updates) n += memberUpdateSize(u);
  for (const c of msg.chunks) n += stateChunkSize(c);
  return n;
}

/**
 * Encodes `msg` into one datagram, tagged when `options.hmac` is set. Throws a {@link GossipCodecError}
 * (`too-large`, `invalid-field`, `invalid-utf8`) when the message breaks the format's limits.
 */
export function encodeMessage(msg: Message, options: CodecOptions): Uint8Array {
  const authenticated = options.hmac !== undefined;
  const size = messageSize(msg, authenticated);
  if (size > options.maxPacketSize) {
    throw new GossipCodecError('too-large', `message of ${size} bytes exceeds maxPacketSize ${options.maxPacketSize}`);
  }
  if (msg.updates.length > MAX_ITEMS_U8 || msg.chunks.length > MAX_ITEMS_U8) {
    throw new GossipCodecError('invalid-field', 'more than 255 updates or chunks');
  }
  const w = new ByteWriter(size);
  w.u8(MAGIC[0], 'magic');
  w.u8(MAGIC[1], 'magic');
  w.u8(PROTOCOL_VERSION, 'version');
  w.u8(MESSAGE_TYPE_CODE[msg.type], 'type');
  w.u8(authenticated ? FLAG_AUTHENTICATED : 0, 'flags');
  writeSender(w, msg.sender);
  writeBody(w, msg);
  w.u8(msg.updates.length, 'update count');
  for (const u of msg.updates) writeUpdate(w, u);
  w.u8(msg.chunks.length, 'chunk count');
  for (const c of msg.chunks) writeChunk(w, c);
  if (options.hmac !== undefined) {
    const mac = options.hmac(w.finish().subarray(0, w.position));
    if (mac.length < TAG_LENGTH) throw new GossipCodecError('invalid-field', `hmac returned ${mac.length} bytes`);
    w.raw(mac.subarray(0, TAG_LENGTH));
  }
  return w.finish();
}

/**
 * Decodes one datagram. Untrusted input: any defect throws a {@link GossipCodecError} and nothing else. With
 * `options.hmac` the tag is checked before anything else is parsed.
 */
export function decodeMessage(bytes: Uint8Array, options: CodecOptions): Message {
  if (bytes.length > options.maxPacketSize) {
    throw new GossipCodecError('too-large', `datagram of ${bytes.length} bytes exceeds ${options.maxPacketSize}`);
  }
  if (bytes.length < FIXED_HEADER_LENGTH) throw new GossipCodecError('truncated', 'datagram shorter than the header');
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1]) throw new GossipCodecError('bad-magic', 'not a gossip datagram');
  if (bytes[2] !== PROTOCOL_VERSION) {
    throw new GossipCodecError('unsupported-version', `version ${bytes[2]} (this node speaks ${PROTOCOL_VERSION})`);
  }
  const typeCode = bytes[3] as number;
  const flags = bytes[4] as number;
  if ((flags & ~FLAG_AUTHENTICATED) !== 0) throw new GossipCodecError('invalid-field', `reserved flag bits ${flags}`);
  const tagged = (flags & FLAG_AUTHENTICATED) !== 0;
  let end = bytes.length;
  if (options.hmac !== undefined) {
    if (!tagged) throw new GossipCodecError('missing-tag', 'datagram is not authenticated');
    if (bytes.length < FIXED_HEADER_LENGTH + TAG_LENGTH) throw new GossipCodecError('truncated', 'datagram ends in its tag');
    end = bytes.length - TAG_LENGTH;
    verifyTag(bytes, end, options.hmac);
  } else if (tagged) {
    throw new GossipCodecError('unexpected-tag', 'datagram is authenticated but no secret key is configured');
  }
  const r = new ByteReader(bytes, FIXED_HEADER_LENGTH, end);
  const sender = readSender(r);
  const body = readBody(r, typeCode);
  const updateCount = r.u8('update count');
  const updates: MemberUpdate[] = [];
  for (let i = 0; i < updateCount; i++) updates.push(readUpdate(r));
  const chunkCount = r.u8('chunk count');
  const chunks: StateChunk[] = [];
  for (let i = 0; i < chunkCount; i++) chunks.push(readChunk(r));
  r.expectEnd();
  return { ...body, sender, updates, chunks } as Message;
}

function verifyTag(bytes: Uint8Array, end: number, hmac: Hmac): void {
  let mac: Uint8Array;
  try {
    mac = hmac(bytes.subarray(0, end));
  } catch {
    throw new GossipCodecError('bad-tag', 'the authenticator failed');
  }
  let diff = mac.length < TAG_LENGTH ? 1 : 0;
  for (let i = 0; i < TAG_LENGTH; i++) diff |= (mac[i] ?? 0) ^ (bytes[end + i] as number);
  if (diff !== 0) throw new GossipCodecError('bad-tag', 'authentication tag does not match');
}

function writeSender(w: ByteWriter, s: Sender): void {
  w.str8(s.id, 'sender id', 1, MAX_NODE_ID_BYTES);
  w.u32(s.incarnation, 'sender incarnation');
  w.str8(s.addr, 'sender addr', 1, MAX_SHORT_STRING_BYTES);
  w.u32(s.stateEpoch, 'sender state epoch');
  w.u32(s.stateVersion, 'sender state version');
}

function readSender(r: ByteReader): Sender {
  const id = r.str8('sender id', 1, MAX_NODE_ID_BYTES);
  const incarnation = r.u32('sender incarnation');
  const addr = r.str8('sender addr', 1, MAX_SHORT_STRING_BYTES);
  const stateEpoch = r.u32('sender state epoch');
  const stateVersion = r.u32('sender state version');
  return { id, incarnation, addr, stateEpoch, stateVersion };
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case 'ping':
      w.u32(m.seq, 'seq');
      w.str8(m.targetId, 'target id', 1, MAX_NODE_ID_BYTES);
      return;
    case 'ack':
    case 'nack':
      w.u32(m.seq, 'seq');
      return;
    case 'ping-req':
      w.u32(m.seq, 'seq');
      w.str8(m.targetId, 'target id', 1, MAX_NODE_ID_BYTES);
      w.str8(m.targetAddr, 'target addr', 1, MAX_SHORT_STRING_BYTES);
      return;
    case 'sync':
      w.u8(m.request ? 1 : 0, 'request');
      if (m.digest.length > MAX_ITEMS_U16) throw new GossipCodecError('invalid-field', 'digest too long');
      w.u16(m.digest.length, 'digest count');
      for (const d of m.digest) {
        w.str8(d.id, 'digest id', 1, MAX_NODE_ID_BYTES);
        w.str8(d.addr, 'digest addr', 1, MAX_SHORT_STRING_BYTES);
        w.u32(d.incarnation, 'digest incarnation');
        w.u8(MEMBER_STATUS_CODE[d.status], 'digest status');
        w.u32(d.stateEpoch, 'digest state epoch');
        w.u32(d.stateVersion, 'digest state version');
      }
      return;
    case 'gossip':
      return;
    case 'state-request':
      if (m.wants.length > MAX_ITEMS_U8) throw new GossipCodecError('invalid-field', 'more than 255 wants');
      w.u8(m.wants.length, 'want count');
      for (const want of m.wants) {
        w.str8(want.nodeId, 'want node id', 1, MAX_NODE_ID_BYTES);
        w.u32(want.epoch, 'want epoch');
        w.u32(want.known, 'want known');
      }
      return;
  }
}

function readBody(r: ByteReader, typeCode: number): MessageBody {
  switch (typeCode) {
    case MessageType.Ping:
      return { type: 'ping', seq: r.u32('seq'), targetId: r.str8('target id', 1, MAX_NODE_ID_BYTES) };
    case MessageType.Ack:
      return { type: 'ack', seq: r.u32('seq') };
    case MessageType.Nack:
      return { type: 'nack', seq: r.u32('seq') };
    case MessageType.PingReq: {
      const seq = r.u32('seq');
      const targetId = r.str8('target id', 1, MAX_NODE_ID_BYTES);
      const targetAddr = r.str8('target addr', 1, MAX_SHORT_STRING_BYTES);
      return { type: 'ping-req', seq, targetId, targetAddr };
    }
    case MessageType.Sync: {
      const flag = r.u8('request');
      if (flag > 1) throw new GossipCodecError('invalid-field', `sync request flag ${flag}`);
      const count = r.u16('digest count');
      const digest: DigestEntry[] = [];
      for (let i = 0; i < count; i++) {
        const id = r.str8('digest id', 1, MAX_NODE_ID_BYTES);
        const addr = r.str8('digest addr', 1, MAX_SHORT_STRING_BYTES);
        const incarnation = r.u32('digest incarnation');
        const status = readStatus(r, 'digest status');
        const stateEpoch = r.u32('digest state epoch');
        const stateVersion = r.u32('digest state version');
        digest.push({ id, addr, incarnation, status, stateEpoch, stateVersion });
      }
      return { type: 'sync', request: flag === 1, digest };
    }
    case MessageType.Gossip:
      return { type: 'gossip' };
    case MessageType.StateRequest: {
      const count = r.u8('want count');
      const wants: StateWant[] = [];
      for (let i = 0; i < count; i++) {
        const nodeId = r.str8('want node id', 1, MAX_NODE_ID_BYTES);
        wants.push({ nodeId, epoch: r.u32('want epoch'), known: r.u32('want known') });
      }
      return { type: 'state-request', wants };
    }
    default:
      throw new GossipCodecError('unknown-type', `type byte ${typeCode}`);
  }
}

function readStatus(r: ByteReader, field: string): DigestEntry['status'] {
  const code = r.u8(field);
  const status = MEMBER_STATUS_BY_CODE[code];
  if (status === undefined) throw new GossipCodecError('invalid-field', `${field} ${code}`);
  return status;
}

function writeUpdate(w: ByteWriter, u: MemberUpdate): void {
  w.u8(MEMBER_STATUS_CODE[u.status], 'update status');
  w.str8(u.id, 'update id', 1, MAX_NODE_ID_BYTES);
  w.u32(u.incarnation, 'update incarnation');
  if (u.status === 'alive') w.str8(u.addr, 'update addr', 1, MAX_SHORT_STRING_BYTES);
  else if (u.status === 'suspect') w.str8(u.from, 'update from', 1, MAX_NODE_ID_BYTES);
}

function readUpdate(r: ByteReader): MemberUpdate {
  const status = readStatus(r, 'update status');
  const id = r.str8('update id', 1, MAX_NODE_ID_BYTES);
  const incarnation = r.u32('update incarnation');
  switch (status) {
    case 'alive':
      return { status, id, incarnation, addr: r.str8('update addr', 1, MAX_SHORT_STRING_BYTES) };
    case 'suspect':
      return { status, id, incarnation, from: r.str8('update from', 1, MAX_NODE_ID_BYTES) };
    default:
      return { status, id, incarnation };
  }
}

function checkChunk(c: Pick<StateChunk, 'base' | 'to' | 'latest' | 'floor' | 'restampedTo'>): void {
  if (c.base > c.to || c.to > c.latest || c.floor > c.restampedTo) {
    throw new GossipCodecError(
      'invalid-field',
      `state chunk bounds out of order (base ${c.base}, to ${c.to}, latest ${c.latest}, floor ${c.floor}, restamped ${c.restampedTo})`,
    );
  }
}

function writeChunk(w: ByteWriter, c: StateChunk): void {
  checkChunk(c);
  w.str8(c.nodeId, 'chunk node id', 1, MAX_NODE_ID_BYTES);
  for (const [v, f] of [
    [c.epoch, 'epoch'],
    [c.base, 'base'],
    [c.to, 'to'],
    [c.latest, 'latest'],
    [c.floor, 'floor'],
    [c.restampedTo, 'restamped'],
  ] as const) {
    w.u32(v, `chunk ${f}`);
  }
  if (c.entries.length > MAX_ITEMS_U16) throw new GossipCodecError('invalid-field', 'chunk has too many entries');
  w.u16(c.entries.length, 'entry count');
  let previous = c.base;
  for (const e of c.entries) {
    if (e.version <= previous || e.version > c.to) {
      throw new GossipCodecError('invalid-field', `entry version ${e.version} not ascending within (${c.base}, ${c.to}]`);
    }
    previous = e.version;
    w.str8(e.key, 'entry key', 1, MAX_SHORT_STRING_BYTES);
    w.u32(e.version, 'entry version');
    w.u8(e.value === undefined ? ENTRY_DELETED : 0, 'entry flags');
    if (e.value !== undefined) w.str8(e.value, 'entry value', 0, MAX_SHORT_STRING_BYTES);
  }
}

function readChunk(r: ByteReader): StateChunk {
  const nodeId = r.str8('chunk node id', 1, MAX_NODE_ID_BYTES);
  const epoch = r.u32('chunk epoch');
  const base = r.u32('chunk base');
  const to = r.u32('chunk to');
  const latest = r.u32('chunk latest');
  const floor = r.u32('chunk floor');
  const restampedTo = r.u32('chunk restamped');
  checkChunk({ base, to, latest, floor, restampedTo });
  const count = r.u16('entry count');
  const entries: StateEntry[] = [];
  let previous = base;
  for (let i = 0; i < count; i++) {
    const key = r.str8('entry key', 1, MAX_SHORT_STRING_BYTES);
    const version = r.u32('entry version');
    if (version <= previous || version > to) {
      throw new GossipCodecError('invalid-field', `entry version ${version} not ascending within (${base}, ${to}]`);
    }
    previous = version;
    const flags = r.u8('entry flags');
    if ((flags & ~ENTRY_DELETED) !== 0) throw new GossipCodecError('invalid-field', `entry flags ${flags}`);
    const value = (flags & ENTRY_DELETED) !== 0 ? undefined : r.str8('entry value', 0, MAX_SHORT_STRING_BYTES);
    entries.push({ key, version, value });
  }
  return { nodeId, epoch, base, to, latest, floor, restampedTo, entries };
}
