/**
 * `piko-ts status <what> [--server.url URL] [--forward NODE] [--output table|json]`: asks a node's admin port
 * (Piko's status API, §3.3) and prints the answer as a readable table (default) or as JSON.
 *
 *   upstream endpoints       endpoints with local listeners
 *   cluster nodes            every node of the cluster, with its status and counts
 *   cluster node <id|local>  one node, with its endpoints
 *   gossip nodes             what the gossip layer knows of each node
 *   gossip node <id>         one node's gossip entries
 */
export async function runStatus(argv: readonly string[]): Promise<void> {
  let url = process.env.PIKO_SERVER_URL ?? 'http://localhost:8002';
  let token = process.env.PIKO_SERVER_TOKEN ?? '';
  let forward = '';
  let output = 'table';
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--server.url') url = inline ?? argv[++i] ?? '';
    else if (name === '--server.token') token = inline ?? argv[++i] ?? '';
    else if (name === '--forward') forward = inline ?? argv[++i] ?? '';
    else if (name === '--output' || name === '-o') output = inline ?? argv[++i] ?? '';
    else if (name === '--help' || name === '-h') {
      process.stdout.write(STATUS_USAGE);
      return;
    } else if (a.startsWith('-')) fail(`unknown flag ${name}`);
    else words.push(a);
  }
  if (output !== 'table' && output !== 'json') fail(`--output must be table or json (got ${JSON.stringify(output)})`);
  const path = statusPath(words);
  if (path === undefined) fail(`expected one of: upstream endpoints | cluster nodes | cluster node <id> | gossip nodes | gossip node <id> (got ${JSON.stringify(words.join(' '))}; try --help)`);
  const base = url.endsWith('/') ? url.slice(0, -1) : url;
  const query = forward !== '' ? `?forward=${encodeURIComponent(forward)}` : '';
  let body: unknown;
  try {
    const res = await fetch(base + path + query, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) fail(`${path}: bad status: ${res.status}${await errorOf(res)}`);
    body = await res.json();
  } catch (err) {
    fail(`${base}${path}: ${describeFetchError(err)}`);
  }
  process.stdout.write(output === 'json' ? JSON.stringify(body, null, 2) + '\n' : renderTable(words, body));
}

const STATUS_USAGE = `Usage: piko-ts status <what> [flags]

What:
  upstream endpoints        endpoints with listeners on the node, and how many
  cluster nodes             every node of the cluster (status, addresses, endpoint and upstream counts)
  cluster node <id|local>   one node and its endpoints
  gossip nodes              the gossip view of every node (version, left, unreachable, expiry)
  gossip node <id>          one node's gossip entries

Flags:
      --server.url string    Admin URL of the node (default "http://localhost:8002", env PIKO_SERVER_URL)
      --server.token string  Bearer token for the admin port (default "", env PIKO_SERVER_TOKEN)
      --forward string       Ask the node with this ID, through the node at --server.url
  -o, --output string        table or json (default "table")
`;

function fail(message: string): never {
  process.stderr.write(`status: ${message}\n`);
  process.exit(1);
}

/** The admin route of a status command, or undefined when the words name none. */
export function statusPath(words: readonly string[]): string | undefined {
  const [a, b, id, extra] = words;
  if (extra !== undefined) return undefined;
  if (a === 'upstream' && b === 'endpoints' && id === undefined) return '/status/upstream/endpoints';
  if (a === 'cluster' && b === 'nodes' && id === undefined) return '/status/cluster/nodes';
  if (a === 'cluster' && b === 'node' && id !== undefined) return `/status/cluster/nodes/${encodeURIComponent(id)}`;
  if (a === 'gossip' && b === 'nodes' && id === undefined) return '/status/gossip/nodes';
  if (a === 'gossip' && b === 'node' && id !== undefined) return `/status/gossip/nodes/${encodeURIComponent(id)}`;
  return undefined;
}

async function errorOf(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown };
    return typeof body.error === 'string' ? ` (${body.error})` : '';
  } catch {
    return '';
  }
}

/** Renders rows as an aligned text table with a header line. */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

type Json = Record<string, unknown>;

/** The readable form of a status answer. */
export function renderTable(words: readonly string[], body: unknown): string {
  const [a, b] = words;
  if (a === 'upstream') {
    const rows = Object.entries((body ?? {}) as Record<string, number>).sort(([x], [y]) => (x < y ? -1 : 1));
    return rows.length === 0 ? 'no endpoints\n' : table(['ENDPOINT', 'LISTENERS'], rows);
  }
  if (a === 'cluster' && b === 'nodes') {
    const rows = (body as Json[]).map((n) => [n.id, n.status, n.proxy_addr, n.admin_addr, n.endpoints, n.upstreams]);
    return table(['ID', 'STATUS', 'PROXY', 'ADMIN', 'ENDPOINTS', 'UPSTREAMS'], rows);
  }
  if (a === 'cluster') {
    const n = body as Json;
    const endpoints = Object.entries((n.endpoints ?? {}) as Record<string, number>);
    return (
      table(['ID', 'STATUS', 'PROXY', 'ADMIN'], [[n.id, n.status, n.proxy_addr, n.admin_addr]]) +
      (endpoints.length === 0 ? 'no endpoints\n' : '\n' + table(['ENDPOINT', 'LISTENERS'], endpoints))
    );
  }
  if (b === 'nodes') {
    const rows = (body as Json[]).map((n) => [n.id, n.addr, n.version, n.left, n.unreachable, n.expiry]);
    return table(['ID', 'ADDR', 'VERSION', 'LEFT', 'UNREACHABLE', 'EXPIRY'], rows);
  }
  const n = body as Json & { Entries?: Json[] | null };
  const entries = (n.Entries ?? []).map((e) => [e.key, e.value, e.version, e.deleted]);
  return table(['ID', 'ADDR', 'VERSION', 'LEFT', 'UNREACHABLE'], [[n.id, n.addr, n.version, n.left, n.unreachable]]) + '\n' + table(['KEY', 'VALUE', 'VERSION', 'DELETED'], entries);
}

/**
 * Says why a `fetch` failed: undici reports only "fetch failed" and keeps the reason (refused, unknown host,
 * timeout...) in `cause`, which is what an operator needs to fix the URL.
 */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'no answer within 15 s';
  const cause = (err as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    const reason = code === 'ECONNREFUSED' ? 'connection refused (is the admin port right? see --server.url)' : code === 'ENOTFOUND' ? 'unknown host' : cause.message;
    return `cannot reach the admin port: ${reason}${code !== undefined && !reason.includes(code) ? ` (${code})` : ''}`;
  }
  return err.message;
}
