import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { writeJsonError, writeJsonErrorToSocket } from '../../wire/json-error.js';
import type { Refusal } from './auth-gate.js';

/** RFC 6750 §3: a 401 names the scheme it wants. Piko sends none; clients that match on the body are unaffected. */
const CHALLENGE = { 'www-authenticate': 'Bearer' } as const;

/** Answers a refused request with Piko's JSON body (`{"error":"invalid token"}`...) and its status. */
export function answerRefusal(res: ServerResponse, refusal: Refusal): void {
  writeJsonError(res, refusal.status, refusal.message, refusal.status === 401 ? CHALLENGE : {});
}

/** Answers a refused upgrade on its raw socket (before any WebSocket handshake) and closes it. */
export function answerRefusalOnSocket(socket: Duplex, refusal: Refusal): void {
  const reason = refusal.status === 401 ? 'Unauthorized' : 'Internal Server Error';
  writeJsonErrorToSocket(socket, refusal.status, reason, refusal.message, refusal.status === 401 ? CHALLENGE : {});
}
