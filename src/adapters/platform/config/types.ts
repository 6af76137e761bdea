import type { LogLevel as LoggerLogLevel } from '../../../application/ports/logger.port.js';

// Typed, deep-frozen configuration objects produced by `load-config.ts`. Durations are milliseconds; a
// timeout of `0` means "no timeout". Header names are lower-case, as Node delivers them.

/** Minimum log level. The same set as the `Logger` port's levels. */
export type LogLevel = LoggerLogLevel;

/**
 * Which headers an access log record shows. At most one of the two lists is non-empty (the loader rejects
 * both); an empty allow list means "all headers", minus the block list.
 */
export interface HeaderFilterConfig {
  readonly allowList: readonly string[];
  readonly blockList: readonly string[];
}

/** Access log settings of the proxy port or of one agent listener. */
export interface AccessLogConfig {
  /** Level of the access log records (5xx responses are raised to at least `warn` by the logger). */
  readonly level: LogLevel;
  readonly disable: boolean;
  readonly requestHeaders: HeaderFilterConfig;
  readonly responseHeaders: HeaderFilterConfig;
}

/** Process log settings. */
export interface LogConfig {
  readonly level: LogLevel;
  /** Subsystems (exact match) logged at every level regardless of `level`. */
  readonly subsystems: readonly string[];
}

/**
 * TLS of one server port (`<port>.tls`): file paths, `''` when unset. The port serves TLS when `cert` and `key`
 * are set (the loader requires both or neither); `clientCas` then requires client certificates (mTLS).
 */
export interface PortTlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly clientCas: string;
}

/**
 * Node-to-node client TLS: `proxy.tls.client` forwards requests to peers when the proxy port serves TLS,
 * `admin.tls.client` serves `?forward=` to peers' admin ports when the admin port serves TLS.
 */
export interface PeerTlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly rootCas: string;
  readonly insecureSkipVerify: boolean;
  /** Name verified in peers' certificates and sent as SNI; `''`: the address dialled. */
  readonly serverName: string;
}

/** Client TLS of the agent and forward (`connect.tls`) and of an agent listener (`tls`): file paths, `''` when unset. */
export interface ClientTlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly rootCas: string;
  readonly insecureSkipVerify: boolean;
}

/**
 * JWT verification of one server port (`<port>.auth`); `''` means unset. Auth is on when a key or the JWKS
 * endpoint is set (the loader refuses the endpoint beside keys, and parses the PEM keys). `leewayMs` is the clock
 * difference tolerated for `exp` and `nbf`; JWKS `cacheTtlMs`/`timeoutMs` of 0 mean 1 h / 1 min.
 */
export interface AuthConfig {
  readonly hmacSecretKey: string;
  readonly rsaPublicKey: string;
  readonly ecdsaPublicKey: string;
  readonly audience: string;
  readonly issuer: string;
  readonly disableDisconnectOnExpiry: boolean;
  readonly leewayMs: number;
  readonly jwks: { readonly endpoint: string; readonly cacheTtlMs: number; readonly timeoutMs: number };
}

/**
 * One tenant (`upstream.tenants[i]`): its ID (the `x-piko-tenant-id` it is chosen by, endpoint-ID rules, at most 64
 * characters) and the keys its tokens are verified with, on the upstream and the proxy port. Auth is always on.
 */
export interface TenantConfig {
  readonly id: string;
  readonly auth: AuthConfig;
}

/** Configuration of one server node (`piko-ts server`). */
export interface ServerConfig {
  readonly proxy: {
    readonly bindAddr: string;
    /** `''` means "infer from the bind address". */
    readonly advertiseAddr: string;
    /** Time allowed to forward a non-upgrade request; 0 = none. */
    readonly timeoutMs: number;
    readonly accessLog: AccessLogConfig;
    readonly http: {
      readonly readTimeoutMs: number;
      /** Already resolved: `read_header_timeout: 0` falls back to `read_timeout`, as in Go. */
      readonly readHeaderTimeoutMs: number;
      readonly writeTimeoutMs: number;
      readonly idleTimeoutMs: number;
      readonly maxHeaderBytes: number;
      /** IP addresses and CIDR blocks whose X-Forwarded-* headers are kept. */
      readonly trustedProxies: readonly string[];
      /** Most connections open at once per client IP; 0 = no limit. */
      readonly maxConnectionsPerIp: number;
    };
    /** The TCP route (`/_piko/v1/tcp/:endpointId`). */
    readonly tcp: { readonly maxMessageBytes: number };
    /** How long a request for an endpoint with no upstream on any node waits for one to appear; 0 = off. */
    readonly upstreamWaitMs: number;
    /** `passAuthorization`: the Authorization header that carried the token reaches the service (Piko's way). */
    readonly auth: AuthConfig & { readonly passAuthorization: boolean };
    readonly tls: PortTlsConfig & { readonly client: PeerTlsConfig };
  };
  readonly upstream: {
    readonly bindAddr: string;
    readonly advertiseAddr: string;
    readonly maxStreamsPerSession: number;
    /** Interval of mux keepalive pings; 0 = no pings. */
    readonly keepaliveIntervalMs: number;
    readonly keepaliveTimeoutMs: number;
    /** Most mux control frames queued for an agent that does not read before its session is closed. */
    readonly maxQueuedControlFrames: number;
    /** Largest WebSocket message accepted from an agent. */
    readonly maxMessageBytes: number;
    /**
     * Shedding of agent connections by a node above the cluster average: `threshold` is the fraction above the
     * average that triggers it (0 = off), `shedRate` the largest fraction of the average shed per second,
     * `minConns` the count below which a node never sheds.
     */
    readonly rebalance: { readonly threshold: number; readonly shedRate: number; readonly minConns: number };
    readonly auth: AuthConfig;
    readonly tls: PortTlsConfig;
    /** Tenants with their own keys (`upstream.tenants`): IDs unique, each with auth on. */
    readonly tenants: readonly TenantConfig[];
  };
  readonly admin: {
    readonly bindAddr: string;
    readonly advertiseAddr: string;
    readonly tls: PortTlsConfig & { readonly client: PeerTlsConfig };
    readonly auth: AuthConfig;
  };
  /**
   * `nodeId` is never empty: when not configured it is `nodeIdPrefix` plus 7 random `[a-z0-9]` characters.
   * `join` lists the members to join (host or host:port, as written; empty: a new cluster); `joinTimeoutMs` is
   * never 0. Gossip: `advertiseAddr` is `''` when not configured (the runtime resolves it at start-up from
   * `bindAddr`), `intervalMs` is never 0, `maxPacketSize` is 1200 to 65507 bytes, `secretKey` `''` turns
   * message authentication off.
   */
  readonly cluster: {
    readonly nodeId: string; readonly nodeIdPrefix: string;
    readonly join: readonly string[]; readonly joinTimeoutMs: number; readonly abortIfJoinFails: boolean;
    readonly gossip: { readonly bindAddr: string; readonly advertiseAddr: string; readonly intervalMs: number; readonly maxPacketSize: number; readonly secretKey: string };
  };
  readonly log: LogConfig;
  /** Total budget for a graceful shutdown; never 0. */
  readonly gracePeriodMs: number;
}

/** One agent listener: an endpoint registered on the server, forwarding to a local service. */
export interface ListenerConfig {
  readonly endpointId: string;
  readonly protocol: 'http' | 'tcp';
  /**
   * Normalised target. For http a full URL (`'3000'` → `'http://localhost:3000'`, `'host:3000'` →
   * `'http://host:3000'`, URLs kept as written, path included); for tcp `host:port` (`'3000'` →
   * `'localhost:3000'`).
   */
  readonly addr: string;
  /** Time to response headers (http) or dial timeout (tcp); 0 = none. */
  readonly timeoutMs: number;
  /** Largest request line plus headers the http listener accepts from the server. */
  readonly maxHeaderBytes: number;
  readonly accessLog: AccessLogConfig;
  /** Client TLS to an `https://` service (YAML-only, as in Piko). */
  readonly tls: ClientTlsConfig;
}

/** Configuration of an agent (`piko-ts agent start|http|tcp`). */
export interface AgentConfig {
  /** Never empty. */
  readonly listeners: readonly ListenerConfig[];
  /**
   * `timeoutMs` bounds each connection attempt (never 0); `startupDeadlineMs` bounds the wait for every
   * listener's first connection (0: wait forever). `token` may be `''`.
   */
  readonly connect: {
    readonly url: string; readonly token: string; readonly timeoutMs: number; readonly startupDeadlineMs: number;
    /** File holding the token (`''`: none); re-read when it changes. At most one of `token` and `tokenFile` is set. */
    readonly tokenFile: string;
    /** Client TLS towards an `https://`/`wss://` server. */
    readonly tls: ClientTlsConfig;
    /** Sent as `x-piko-tenant-id` (`''`: none, the default tenant); a valid tenant ID otherwise. */
    readonly tenantId: string;
  };
  /** The agent's own metrics server; off by default so two agents can share a host. */
  readonly server: { readonly enabled: boolean; readonly bindAddr: string };
  readonly log: LogConfig;
  /** Per-listener graceful-shutdown budget; never 0. */
  readonly gracePeriodMs: number;
}

/** One forward port: a local TCP listener whose connections are tunnelled to an endpoint. */
export interface ForwardPortConfig {
  /**
   * Normalised local listen address, `host:port` (IPv6 hosts bracketed): a bare port `'3000'` becomes
   * `'127.0.0.1:3000'` (loopback only, as Piko binds `localhost`); `host:port` is kept (`':3000'` means
   * every interface). Port 0 picks a free port.
   */
  readonly addr: string;
  readonly endpointId: string;
}

/** Configuration of `piko-ts forward start|tcp`. */
export interface ForwardConfig {
  /** Never empty. */
  readonly ports: readonly ForwardPortConfig[];
  readonly connect: {
    /** The server's proxy port (default `http://localhost:8000`); http, https, ws or wss, base path allowed. */
    readonly url: string;
    /** May be `''`. */
    readonly token: string;
    /** File holding the token, read for each connection (`''`: none); at most one of `token` and `tokenFile` is set. */
    readonly tokenFile: string;
    /** WebSocket handshake timeout of each forwarded connection; never 0. */
    readonly timeoutMs: number;
    /** Client TLS towards an `https://`/`wss://` server. */
    readonly tls: ClientTlsConfig;
  };
  readonly log: LogConfig;
}
