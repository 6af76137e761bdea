/** What the proxy port answers to a request it could not parse. */
export interface ClientErrorAnswer {
  readonly status: 400 | 408 | 431;
  readonly reason: string;
  readonly message: string;
}

/** Codes of a peer that reset or went away: nothing can be answered, the socket is only destroyed. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * The answer to a `clientError` of Node's HTTP server (`code` is the error's code: an llhttp `HPE_*` code, or
 * `ERR_HTTP_REQUEST_TIMEOUT` when the headers did not arrive within the header timeout), or undefined when the
 * peer is gone and the socket should just be destroyed. Statuses follow Node's own defaults (408, 431, else
 * 400); the body names the parser's code so that a client can tell what was wrong with its request.
 */
export function clientErrorAnswer(code: string | undefined, message: string): ClientErrorAnswer | undefined {
  if (code !== undefined && GONE.has(code)) return undefined;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, reason: 'Request Timeout', message: 'request timeout: headers not received in time' };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, reason: 'Request Header Fields Too Large', message: 'request header fields too large' };
  }
  return { status: 400, reason: 'Bad Request', message: `bad request: ${code ?? message}` };
}
