/**
 * Why a datagram was rejected. Decoding untrusted bytes throws a {@link GossipCodecError} with one of these and
 * nothing else; encoding throws it for a message that breaks the format's limits.
 */
export type GossipCodecErrorReason =
  /** The datagram ends inside a field. */
  | 'truncated'
  /** The first two bytes are not the protocol's magic. */
  | 'bad-magic'
  /** The version byte is not one this code speaks. */
  | 'unsupported-version'
  /** The type byte names no message. */
  | 'unknown-type'
  /** The datagram, or the message to encode, is larger than `maxPacketSize`. */
  | 'too-large'
  /** A field holds a value the format forbids (reserved flag bits, empty ID, unknown status, count too large). */
  | 'invalid-field'
  /** A string is not valid UTF-8 (or, when encoding, not well-formed UTF-16). */
  | 'invalid-utf8'
  /** Bytes remain after the last field. */
  | 'trailing-bytes'
  /** A secret key is configured and the datagram carries no tag. */
  | 'missing-tag'
  /** The tag does not match the datagram under our key. */
  | 'bad-tag'
  /** The datagram carries a tag but no secret key is configured here. */
  | 'unexpected-tag';

/** The reasons that mean authentication failed (counted separately by the shell). */
export const AUTH_FAILURE_REASONS: ReadonlySet<GossipCodecErrorReason> = new Set([
  'missing-tag',
  'bad-tag',
  'unexpected-tag',
]);

/** A datagram that is not a valid message of this protocol, or a message that cannot be encoded. */
export class GossipCodecError extends Error {
  /** Stable code for callers that switch on errors. */
  readonly code = 'TUN_ERR_GOSSIP_CODEC' as const;
  /** What was wrong. */
  readonly reason: GossipCodecErrorReason;

  constructor(reason: GossipCodecErrorReason, message: string) {
    super(`gossip codec error (${reason}): ${message}`);
    this.name = 'GossipCodecError';
    this.reason = reason;
  }
}
