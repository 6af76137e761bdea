import type { LogFields, LogLevel } from '../../application/ports/logger.port.js';

/**
 * Request or response headers as Node hands them over: `IncomingHttpHeaders` (`req.headers`) or
 * `OutgoingHttpHeaders` (`res.getHeaders()`). Names may be in any case.
 */
export type HeaderRecord = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** Turns a header record into the `name → [values]` map written to the access log. */
export type HeaderFilter = (headers: HeaderRecord) => Record<string, string[]>;

/** Header filter configuration, as in Piko's `access_log.{request,response}_headers`. */
export interface HeaderFilterOptions {
  /** When non-empty, only these headers are logged (case-insensitive). */
  readonly allowList?: readonly string[];
  /** Headers removed from the log (case-insensitive). Cannot be combined with a non-empty `allowList`. */
  readonly blockList?: readonly string[];
}

/** The value written in place of a redacted header's values. */
export const REDACTED = '[REDACTED]';

/**
 * Headers that carry credentials and are redacted unless an allow list names them (user ask T25; Piko logged
 * `X-Piko-Authorization` until #230).
 */
export const SENSITIVE_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'x-piko-authorization',
  // A node's proof that it authenticated a forwarded request: replayable for a minute, so never logged.
  'x-piko-hop-proof',
  'cookie',
  'set-cookie',
]);

const SENSITIVE = new Set(SENSITIVE_HEADERS);

/**
 * Builds the header filter of one side (request or response) of the access log.
 *
 * - With a non-empty `allowList`, only the listed headers are logged, with their values. Listing a
 *   sensitive header there is the only way to log its value: an explicit allow list is the operator's choice.
 * - Otherwise every header is logged except those in `blockList`, which are omitted (as in Piko), and the
 *   {@link SENSITIVE_HEADERS}, which are kept with their values replaced by a single {@link REDACTED}. We
 *   redact rather than omit them so that the log still shows whether a credential was sent, which is the first
 *   question when debugging a 401.
 *
 * Names are matched case-insensitively and written in canonical form (`content-type` → `Content-Type`), as Go
 * does. Values are always arrays; a header seen under two spellings has its values merged.
 *
 * @throws Error when both lists are non-empty: Piko rejects that combination too.
 */
export function createHeaderFilter(options: HeaderFilterOptions = {}): HeaderFilter {
  const allow = lowerCaseSet(options.allowList);
  const block = lowerCaseSet(options.blockList);
  if (allow.size > 0 && block.size > 0) {
    throw new Error('a header allow list and block list cannot both be set');
  }
  return (headers) => {
    // A Map, then `Object.fromEntries`, so that even a header named `__proto__` ends up as plain data.
    const out = new Map<string, string[]>();
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      let values: string[];
      if (allow.size > 0) {
        if (!allow.has(lower)) continue;
        values = toValues(value);
      } else if (block.has(lower)) {
        continue;
      } else if (SENSITIVE.has(lower)) {
        values = [REDACTED];
      } else {
        values = toValues(value);
      }
      const canonical = canonicalHeaderName(lower);
      const existing = out.get(canonical);
      if (existing === undefined) out.set(canonical, values);
      else if (existing[0] !== REDACTED) existing.push(...values);
    }
    return Object.fromEntries(out);
  };
}

/**
 * Returns `name` in canonical MIME form: the first letter and every letter after a `-` upper-cased, the rest
 * lower-cased (`x-piko-endpoint` → `X-Piko-Endpoint`). Names with characters outside the HTTP token set are
 * returned unchanged, as Go's `CanonicalMIMEHeaderKey` does.
 */
export function canonicalHeaderName(name: string): string {
  if (!TOKEN.test(name)) return name;
  return name
    .toLowerCase()
    .replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether a request on `path` gets an access-log record: not for `/_piko` paths (TCP tunnels), as in Piko. */
export function shouldLogPath(path: string): boolean {
  return !path.startsWith('/_piko');
}

/** The facts about one finished request that go into its access-log record. */
export interface AccessLogRequest {
  readonly method: string;
  readonly host: string;
  /** The request target; anything from `?` on is dropped. */
  readonly path: string;
  /** The protocol as Go writes it, e.g. `HTTP/1.1`. */
  readonly proto: string;
  readonly status: number;
  readonly durationMs: number;
  readonly requestHeaders: HeaderRecord;
  readonly responseHeaders: HeaderRecord;
  readonly endpointId?: string;
  /** Request body bytes received (headers and chunk framing excluded). */
  readonly bytesIn?: number;
  /** Response body bytes sent (headers and chunk framing excluded). */
  readonly bytesOut?: number;
  readonly clientIp?: string;
}

/** Access-log configuration: the record level and the header filter of each side. */
export interface AccessLogFilters {
  /** Piko's `access_log.level`; 5xx responses are raised to at least `warn`. */
  readonly level: LogLevel;
  readonly requestHeaders: HeaderFilter;
  readonly responseHeaders: HeaderFilter;
}

/** An access-log record, ready for `logger.log(record.level, record.message, record.fields)`. */
export interface AccessLogRecord {
  readonly level: LogLevel;
  readonly message: 'request';
  readonly fields: LogFields;
}

/**
 * Builds the access-log record of one request, for the server's proxy port and the agent's HTTP listeners.
 *
 * The `request` field keeps Piko's object shape (`proto`, `method`, `host`, `path`, `request_headers`,
 * `response_headers`, `status`), so existing log queries keep working; where we differ, the duration is a
 * number of milliseconds under `duration_ms` (rounded to 3 decimals, microseconds) instead of a Go duration
 * string under `duration`. The optional facts Piko does not log are top-level kebab-case fields (`endpoint-id`,
 * `client-ip`, `bytes-in`, `bytes-out`), present only when given; the byte counts are body bytes (no headers, no
 * chunk framing) on the server and on the agent alike.
 *
 * Callers check {@link shouldLogPath} first; this function does not.
 */
export function accessLogRecord(request: AccessLogRequest, filters: AccessLogFilters): AccessLogRecord {
  const fields: Record<string, unknown> = {
    request: {
      proto: request.proto,
      method: request.method,
      host: request.host,
      path: stripQuery(request.path),
      request_headers: filters.requestHeaders(request.requestHeaders),
      response_headers: filters.responseHeaders(request.responseHeaders),
      status: request.status,
      duration_ms: roundMs(request.durationMs),
    },
  };
  if (request.endpointId !== undefined) fields['endpoint-id'] = request.endpointId;
  if (request.clientIp !== undefined) fields['client-ip'] = request.clientIp;
  if (request.bytesIn !== undefined) fields['bytes-in'] = request.bytesIn;
  if (request.bytesOut !== undefined) fields['bytes-out'] = request.bytesOut;
  return { level: accessLogLevel(filters.level, request.status), message: 'request', fields };
}

/** The record level: the configured one, raised to `warn` for a 5xx status (an `error` level stays `error`). */
export function accessLogLevel(configured: LogLevel, status: number): LogLevel {
  if (status >= 500 && (configured === 'debug' || configured === 'info')) return 'warn';
  return configured;
}

/** Milliseconds to 3 decimals (microseconds): a clock's 14 decimals are noise in a log line. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function stripQuery(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

function toValues(value: string | number | readonly string[]): string[] {
  return typeof value === 'object' ? [...value] : [String(value)];
}

function lowerCaseSet(names: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((names ?? []).map((name) => name.toLowerCase()));
}
