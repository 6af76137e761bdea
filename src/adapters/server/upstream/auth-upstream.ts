import type { IncomingMessage } from 'node:http';
import type { Cancel, Clock } from '../../../application/ports/clock.port.js';
import type { Logger } from '../../../application/ports/logger.port.js';
import type { WallClock } from '../../../application/ports/token-verifier.port.js';
import type { AuthDecision, AuthGate, Grant } from '../auth/auth-gate.js';

/** The longest single wait scheduled on the clock; a later expiry is reached in steps (Node timers overflow past ~24.8 days). */
export const MAX_EXPIRY_STEP_MS = 24 * 60 * 60 * 1000;

/** What the upstream port needs of a connection to end it at expiry. */
export interface ExpiringConnection {
  readonly id: string;
  readonly endpointId: string;
  close(): void;
}

/** How a connection's token expiry is handled: `upstream.auth`'s settings, or a tenant's. */
export interface ExpirySettings {
  readonly disconnectOnExpiry: boolean;
  readonly leewayMs: number;
}

/** Collaborators of {@link UpstreamAuth}. */
export interface UpstreamAuthDeps {
  readonly clock: Clock;
  readonly wallClock: WallClock;
  readonly log: Logger;
}

/**
 * Authentication of the upstream port: an agent needs a valid token whose endpoints permit the endpoint it
 * registers (checked before the WebSocket upgrade, as Piko answers 401 before upgrading), and its connection is
 * closed when the token expires unless `disable_disconnect_on_expiry` (Piko's behaviour). An agent refreshing its
 * token opens a new connection before that moment and retires the old one, so expiry cuts nothing in flight.
 */
export class UpstreamAuth {
  constructor(
    private readonly gate: AuthGate,
    /** `upstream.auth`'s expiry settings, and each tenant's (by tenant ID) for connections its keys verified. */
    private readonly settings: ExpirySettings & { readonly tenants?: ReadonlyMap<string, ExpirySettings> },
    private readonly deps: UpstreamAuthDeps,
  ) {}

  /** Authenticates an agent's registration of `endpointId`. Never rejects. */
  async admit(req: IncomingMessage, endpointId: string): Promise<AuthDecision> {
    const clientIp = req.socket.remoteAddress ?? '';
    const decision = await this.gate.authenticate(req.headers, clientIp);
    if (!decision.ok) return decision;
    return this.gate.permit(decision.grant, endpointId, clientIp) ?? decision;
  }

  /**
   * Closes `connection` when `grant` expires, plus the leeway verification allows (measured on the wall clock,
   * waited on the injected clock), so that a token accepted at connect time is not cut at once. Returns
   * the cancel to call when the connection closes first; does nothing without an expiry or when disabled.
   */
  watchExpiry(connection: ExpiringConnection, grant: Grant): Cancel {
    const settings = (grant.tenant !== undefined ? this.settings.tenants?.get(grant.tenant) : undefined) ?? this.settings;
    if (!settings.disconnectOnExpiry || grant.expiresAt === undefined) return () => {};
    const expiresAt = grant.expiresAt + settings.leewayMs;
    let cancel: Cancel = () => {};
    const step = (): void => {
      const left = expiresAt - this.deps.wallClock();
      if (left > 0) {
        cancel = this.deps.clock.schedule(Math.min(left, MAX_EXPIRY_STEP_MS), step);
        return;
      }
      this.deps.log.info('upstream token expired', { 'endpoint-id': connection.endpointId, 'upstream-id': connection.id });
      connection.close();
    };
    step();
    return () => cancel();
  }
}
