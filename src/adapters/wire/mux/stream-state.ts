/**
 * Where a yamux stream is in its life, as one value. The names are yamux's stream states:
 *
 * | state                        | ACK owed by us | we may send | the peer may send | the session tracks it |
 * |------------------------------|----------------|-------------|-------------------|-----------------------|
 * | `syn-sent`                   | no (by the peer) | yes       | yes               | yes                   |
 * | `syn-received`               | yes            | yes         | yes               | yes                   |
 * | `syn-received-remote-closed` | yes            | yes         | no (FIN received) | yes                   |
 * | `established`                | no             | yes         | yes               | yes                   |
 * | `local-closed`               | no             | no (FIN sent) | yes             | yes                   |
 * | `remote-closed`              | no             | yes         | no (FIN received) | yes                   |
 * | `closed`                     | –              | no          | no                | no (both FINs)        |
 * | `reset`                      | –              | no          | no                | no (RST either way, or the session ended) |
 *
 * `syn-received-remote-closed` is the one state Go yamux does not have: a peer may half-close a stream before
 * our application accepts it, and we still send the ACK when it does (Go yamux loses that ACK). There is no
 * `syn-sent` with a FIN: the ACK we wait for only stops the open timer, so a FIN either way moves on from
 * `syn-sent`. Combinations the protocol cannot reach (an ACK still owed after our FIN, a FIN either way after
 * a reset) have no value here. The transitions below take only the states they apply to.
 */
export type MuxStreamState =
  | 'syn-sent'
  | 'syn-received'
  | 'syn-received-remote-closed'
  | 'established'
  | 'local-closed'
  | 'remote-closed'
  | 'closed'
  | 'reset';

/** The states after which the session no longer tracks the stream and no frame of it is sent or handled. */
export type FinishedState = 'closed' | 'reset';

/** The states of a stream the session still tracks. */
export type LiveState = Exclude<MuxStreamState, FinishedState>;

/** The states of an inbound stream whose SYN we have not acknowledged yet. */
export type AckOwedState = 'syn-received' | 'syn-received-remote-closed';

/** The live states in which the peer may still send data (it has not sent FIN). */
export type RemoteOpenState = 'syn-sent' | 'syn-received' | 'established' | 'local-closed';

/** The live states in which we may still send data and FIN, once the ACK we owe (if any) has gone out. */
export type LocalOpenState = 'syn-sent' | 'established' | 'remote-closed';

/** True once the stream is `closed` or `reset`. */
export function isFinished(state: MuxStreamState): state is FinishedState {
  return state === 'closed' || state === 'reset';
}

/** True while we owe the peer the ACK of its SYN. */
export function owesAck(state: MuxStreamState): state is AckOwedState {
  return state === 'syn-received' || state === 'syn-received-remote-closed';
}

/** True while the peer may still send data: it has sent no FIN and the stream is not finished. */
export function isRemoteOpen(state: MuxStreamState): state is RemoteOpenState {
  return state === 'syn-sent' || state === 'syn-received' || state === 'established' || state === 'local-closed';
}

/** True while we may still send data and FIN, once the ACK we owe (if any) has gone out. */
export function isLocalOpen(state: MuxStreamState): state is LocalOpenState {
  return state === 'syn-sent' || state === 'established' || state === 'remote-closed';
}

/** The state once our ACK has gone out (on a data frame, a window update or our FIN). */
export function afterAckSent(state: AckOwedState): 'established' | 'remote-closed' {
  return state === 'syn-received' ? 'established' : 'remote-closed';
}

/** The state once the peer's ACK has arrived: only `syn-sent` changes. */
export function afterAckReceived(state: LiveState): LiveState {
  return state === 'syn-sent' ? 'established' : state;
}

/** The state once the peer's FIN has arrived. */
export function afterRemoteFin(state: RemoteOpenState): 'syn-received-remote-closed' | 'remote-closed' | 'closed' {
  switch (state) {
    case 'syn-received':
      return 'syn-received-remote-closed';
    case 'local-closed':
      return 'closed';
    default:
      return 'remote-closed';
  }
}

/** The state once our FIN has gone out. */
export function afterLocalFin(state: LocalOpenState): 'local-closed' | 'closed' {
  return state === 'remote-closed' ? 'closed' : 'local-closed';
}
