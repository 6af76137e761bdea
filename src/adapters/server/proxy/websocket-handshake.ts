import type { IncomingHttpHeaders } from 'node:http';

/** Why a WebSocket opening handshake is refused, as an HTTP answer. */
export interface HandshakeProblem {
  readonly status: 400 | 405;
  readonly message: string;
  /** Extra response headers (`allow`, `sec-websocket-version`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 §4.1 and §11.3.1). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** An RFC 9110 token, what a subprotocol name must be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Checks a client's WebSocket opening handshake (RFC 6455 §4.2.1) the way the `ws` server does before it
 * upgrades: `GET`, `Upgrade: websocket`, a well-formed `Sec-WebSocket-Key`, version 13 (or 8) and, when
 * present, a list of subprotocol tokens without duplicates. Returns undefined when `ws` would accept it.
 * Callers check first so that nothing is opened toward an upstream for a handshake that is bound to fail.
 */
export function websocketHandshakeProblem(method: string | undefined, headers: IncomingHttpHeaders): HandshakeProblem | undefined {
  if (method !== 'GET') {
    return { status: 405, message: 'websocket handshake must use GET', headers: { allow: 'GET' } };
  }
  const upgrade = headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    return { status: 400, message: 'invalid websocket handshake: Upgrade must be websocket' };
  }
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) {
    return { status: 400, message: 'invalid websocket handshake: missing or invalid Sec-WebSocket-Key' };
  }
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return {
      status: 400,
      message: 'invalid websocket handshake: Sec-WebSocket-Version must be 13',
      headers: { 'sec-websocket-version': '13, 8' },
    };
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((p) => p.trim());
    if (!names.every((p) => TOKEN.test(p)) || new Set(names).size !== names.length) {
      return { status: 400, message: 'invalid websocket handshake: invalid Sec-WebSocket-Protocol' };
    }
  }
  return undefined;
}
