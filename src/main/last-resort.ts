import { writeSync } from 'node:fs';
import { stringifySafe } from '../adapters/platform/logging/json-safe.js';

/**
 * Marks an error as local to one connection (a property set to `true` under this symbol): the last-resort
 * handler then keeps the process serving. For errors that carry no code the handler knows.
 */
export const CONNECTION_LOCAL = Symbol.for('piko-ts.connection-local');

/**
 * Error codes of a failure that concerns one connection or stream only: a peer that reset or went away, a
 * stream used after its end, a parser error on one request, a protocol error on one WebSocket or one yamux
 * session, a dial that failed. Resource exhaustion (`EMFILE`, `ENOMEM`) and programming errors are not here.
 */
const LOCAL_CODES: ReadonlySet<string> = new Set([
  // Socket errors of one peer.
  'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN',
  'ENETDOWN', 'ENOTCONN', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'ABORT_ERR',
  // Streams ended or destroyed under their user.
  'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_ALREADY_FINISHED',
  'ERR_STREAM_PUSH_AFTER_EOF', 'ERR_STREAM_UNABLE_TO_PIPE', 'ERR_HTTP_REQUEST_TIMEOUT',
  // One yamux stream or session.
  'TUN_ERR_MUX_PROTOCOL', 'TUN_ERR_MUX_SESSION_CLOSED', 'TUN_ERR_MUX_GO_AWAY', 'TUN_ERR_MUX_STREAM_RESET',
  'TUN_ERR_MUX_STREAM_LIMIT', 'TUN_ERR_MUX_TIMEOUT',
]);
/** Code prefixes of one peer's bad bytes: llhttp parser errors and `ws` protocol errors. */
const LOCAL_PREFIXES: readonly string[] = ['HPE_', 'WS_ERR_'];

/** How deep {@link isConnectionLocalError} follows `cause` chains. */
const MAX_CAUSE_DEPTH = 4;

/**
 * True when `err` is known to concern one connection only, so that one bad peer cannot take the process
 * down: it is marked with {@link CONNECTION_LOCAL}, or its `code` (or that of an error in its `cause` chain)
 * is a socket, stream, parser, WebSocket or yamux error code. Anything else, including values that are not
 * errors, is not known to be local.
 */
export function isConnectionLocalError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH; depth++) {
    if (typeof current !== 'object' || current === null) return false;
    const record = current as { [CONNECTION_LOCAL]?: unknown; code?: unknown; cause?: unknown };
    if (record[CONNECTION_LOCAL] === true) return true;
    const code = record.code;
    if (typeof code === 'string' && (LOCAL_CODES.has(code) || LOCAL_PREFIXES.some((p) => code.startsWith(p)))) return true;
    current = record.cause;
  }
  return false;
}

/** What the last-resort handler does with an error nobody handled. */
export type LastResortAction = 'continue' | 'exit';

/** Keep serving for a connection-local error; exit (for the supervisor to restart) for anything else. */
export function lastResortAction(err: unknown): LastResortAction {
  return isConnectionLocalError(err) ? 'continue' : 'exit';
}

/** Seams of {@link handleUnexpected}: where the line goes, how the process exits, the wall clock. */
export interface LastResortIo {
  write(line: string): void;
  exit(code: number): void;
  now(): number;
}

/** Exit code of a process stopped by an unexpected error. */
export const UNEXPECTED_ERROR_EXIT_CODE = 70; // EX_SOFTWARE

/**
 * Logs an error that reached the process unhandled as one JSON line (the logger's keys, plus `error`, `code`,
 * `stack` and the `action` taken), then exits with {@link UNEXPECTED_ERROR_EXIT_CODE} unless the error is
 * connection-local. The line is written synchronously so that it is not lost to the exit.
 */
export function handleUnexpected(origin: 'uncaughtException' | 'unhandledRejection', err: unknown, io: LastResortIo): LastResortAction {
  const action = lastResortAction(err);
  const error = err instanceof Error ? err : undefined;
  const code = readSafely(() => (err as { code?: unknown } | null)?.code);
  const record = {
    time: new Date(io.now()).toISOString(),
    level: 'error',
    subsystem: 'process',
    message: origin === 'uncaughtException' ? 'uncaught exception' : 'unhandled promise rejection',
    error: readSafely(() => error?.message ?? String(err)) ?? '[unprintable]',
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: readSafely(() => error?.stack) ?? '',
    action: action === 'continue' ? 'continue: local to one connection' : `exit ${UNEXPECTED_ERROR_EXIT_CODE}`,
  };
  io.write(`${stringifySafe(record)}\n`);
  if (action === 'exit') io.exit(UNEXPECTED_ERROR_EXIT_CODE);
  return action;
}

/** What `read` returns, or undefined when it throws (a hostile getter or `toString`). */
function readSafely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const PROCESS_IO: LastResortIo = {
  write: (line) => {
    try {
      writeSync(2, line);
    } catch {
      // stderr is gone: nothing left to tell.
    }
  },
  exit: (code) => process.exit(code),
  now: Date.now,
};

/**
 * Installs the process's last-resort handlers for `uncaughtException` and `unhandledRejection` (once per
 * process): an error nobody handled is logged with its stack; the process keeps serving when the error is local
 * to one connection and otherwise exits non-zero so that its supervisor restarts it. Never a silent exit.
 */
export function installLastResortHandlers(io: LastResortIo = PROCESS_IO): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (err) => void handleUnexpected('uncaughtException', err, io));
  process.on('unhandledRejection', (reason) => void handleUnexpected('unhandledRejection', reason, io));
}
let installed = false;
