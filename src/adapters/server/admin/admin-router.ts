import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';

import type { Logger } from '../../../application/ports/logger.port.js';
import type { ClientTlsSource } from '../../platform/tls/reloading-https-agent.js';
import { createClusterStatusRouter, forwardInterceptor } from './cluster-status-router.js';
import type { ClusterStatusSource } from './cluster-status.js';

/** What `GET /metrics` serves; `PromMetrics` satisfies it. */
export interface MetricsExposition {
  /** The `Content-Type` of {@link MetricsExposition.text}'s output. */
  readonly contentType: string;
  /** The metrics in the Prometheus text exposition format. */
  text(): Promise<string>;
}

/** What the admin API reads; every member is called per request, so answers are always current. */
export interface AdminDeps {
  /** Whether the node accepts traffic (`GET /ready`): false while starting and once shutdown has begun. */
  isReady(): boolean;
  readonly metrics: MetricsExposition;
  /** This node's endpoints and their local upstream connection counts (`GET /status/upstream/endpoints`). */
  upstreamEndpoints(): Readonly<Record<string, number>>;
  /** Where unexpected route errors are logged (at `error`); pass the `admin` subsystem's logger. */
  readonly logger?: Logger;
  /**
   * Handlers run before every route, including `/health` and the 404: admin authentication and Piko's
   * `?forward=<nodeID>` interceptor go here, in that order (Piko §3.3).
   */
  readonly middleware?: readonly RequestHandler[];
  /**
   * Routers mounted after the built-in routes and before the 404, for routes owned by other adapters.
   */
  readonly routers?: readonly Router[];
  /**
   * The cluster and gossip state: when given, `/status/cluster/*` and `/status/gossip/*` are served in Piko's
   * shapes and Piko's `?forward=<nodeID>` interceptor runs after `middleware` (see `createClusterStatusRouter`).
   */
  readonly cluster?: ClusterStatusSource;
  /**
   * Client TLS for `?forward=` to peers' admin ports (`admin.tls.client`): set when this node's admin port serves
   * TLS, so that peers are asked over https; unset, they are asked over http.
   */
  readonly forwardTls?: ClientTlsSource;
}

/**
 * Builds the admin port's express app (Piko §3.3):
 *
 * | Route | Response |
 * |---|---|
 * | `GET /health` | 200, empty body |
 * | `GET /ready` | 200 when `deps.isReady()`, else 503; empty body |
 * | `GET /metrics` | `deps.metrics.text()` with `deps.metrics.contentType` |
 * | `GET /status/upstream/endpoints` | JSON `{ "<endpointId>": <count> }` |
 * | `GET /status/cluster/*`, `/status/gossip/*` | with `deps.cluster`: see `createClusterStatusRouter` |
 * | anything else | 404 JSON `{"error":"not found"}` |
 *
 * Errors thrown or rejected by any route reach one error middleware, which answers JSON
 * `{"error":"internal server error"}` with status 500 (or the error's own 4xx `status`, e.g. express's 400 for
 * a malformed URL, with `{"error":"<message>"}`). `x-powered-by` is off. The app holds no state and starts no
 * listener: see `startAdminServer`.
 */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  for (const handler of deps.middleware ?? []) app.use(handler);
  if (deps.cluster !== undefined) app.use(forwardInterceptor(deps.cluster, deps.forwardTls === undefined ? {} : { peerTls: deps.forwardTls }));
  app.use(createAdminRouter(deps));
  if (deps.cluster !== undefined) app.use(createClusterStatusRouter(deps.cluster));
  for (const router of deps.routers ?? []) app.use(router);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

/** The built-in admin routes alone, without the 404 and error handling of {@link createAdminApp}. */
export function createAdminRouter(deps: Pick<AdminDeps, 'isReady' | 'metrics' | 'upstreamEndpoints'>): Router {
  const router = express.Router();
  router.get('/health', (_req: Request, res: Response) => {
    res.status(200).end();
  });
  router.get('/ready', (_req: Request, res: Response) => {
    res.status(deps.isReady() ? 200 : 503).end();
  });
  router.get('/metrics', async (_req: Request, res: Response) => {
    const body = await deps.metrics.text();
    res.status(200).type(deps.metrics.contentType).send(body);
  });
  router.get('/status/upstream/endpoints', (_req: Request, res: Response) => {
    res.status(200).json(deps.upstreamEndpoints());
  });
  return router;
}

const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not found' });
};

function errorHandler(logger: Logger | undefined): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late for a JSON answer; express's default handler closes the connection.
      next(error);
      return;
    }
    const status = clientErrorStatus(error);
    if (status !== undefined) {
      res.status(status).json({ error: error instanceof Error ? error.message : 'bad request' });
      return;
    }
    logger?.error('admin request failed', { method: req.method, path: req.path, error });
    res.status(500).json({ error: 'internal server error' });
  };
}

/** The 4xx status an error carries (express and http-errors set `status`), else `undefined`. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500
    ? status
    : undefined;
}
