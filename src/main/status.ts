/**
 * `piko-ts status upstream endpoints [--server.url URL]`: prints a node's endpoints and their local upstream
 * counts as JSON, from the admin port's status API. Non-200 answers exit 1 with the status.
 */
export async function runStatus(argv: readonly string[]): Promise<void> {
  let url = process.env.PIKO_SERVER_URL ?? 'http://localhost:8002';
  let token = process.env.PIKO_SERVER_TOKEN ?? '';
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--server.url') url = inline ?? argv[++i] ?? '';
    else if (name === '--server.token') token = inline ?? argv[++i] ?? '';
    else if (name === '--help' || name === '-h') {
      process.stdout.write(
        'Usage: piko-ts status upstream endpoints [flags]\n\nFlags:\n' +
          '      --server.url string    Admin URL of the node (default "http://localhost:8002", env PIKO_SERVER_URL)\n' +
          '      --server.token string  Bearer token for the admin port (default "", env PIKO_SERVER_TOKEN)\n',
      );
      return;
    } else if (a.startsWith('-')) {
      process.stderr.write(`status: unknown flag ${name}\n`);
      process.exit(1);
    } else words.push(a);
  }
  const path = words.join(' ') === 'upstream endpoints' ? '/status/upstream/endpoints' : undefined;
  if (path === undefined) {
    process.stderr.write('status: expected "upstream endpoints" (try --help)\n');
    process.exit(1);
  }
  const base = url.endsWith('/') ? url.slice(0, -1) : url;
  try {
    const res = await fetch(base + path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) {
      process.stderr.write(`status: ${path}: bad status: ${res.status}\n`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify(await res.json(), null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`status: ${base}${path}: ${describeFetchError(err)}\n`);
    process.exit(1);
  }
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
