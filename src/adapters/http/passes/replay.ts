/**
 * When a request may be sent again after its connection failed (RFC 9110 §9.2.2): a safe method, and only if
 * the failure means the request was not answered. Shared by every forwarding path (the server's general path
 * and pass-through, the agent's relay), so that they replay the same requests.
 */

/** Methods whose requests may be replayed when they carry no body. */
export const REPLAY_SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for a connection reset or broken pipe, or a reset tunnel stream: the far end went away under the request. */
export function isConnectionReset(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || err.name === 'MuxStreamResetError';
}
