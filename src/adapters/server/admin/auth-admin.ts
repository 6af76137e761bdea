import type { RequestHandler } from 'express';
import { answerRefusal } from '../auth/auth-answer.js';
import type { AuthGate } from '../auth/auth-gate.js';

/**
 * Admin authentication (`admin.auth`), run before every admin route as Piko does (§3.3): `/health`, `/ready`,
 * `/metrics`, `/status/*`, `?forward=` and the 404 alike. Kubernetes probes then need a token in their
 * `httpHeaders`; the alternative is to leave admin auth off and keep the admin port on a private address. The
 * admin port does not look at a token's endpoints.
 */
export function adminAuthMiddleware(gate: AuthGate): RequestHandler {
  return (req, res, next) => {
    void gate.authenticate(req.headers, req.socket.remoteAddress ?? '').then((decision) => {
      if (decision.ok) next();
      else answerRefusal(res, decision);
    });
  };
}
