/** Stable codes of domain errors. Adapters map them to HTTP statuses; the domain knows nothing of HTTP. */
export type DomainErrorCode =
  | 'INVALID_ENDPOINT_ID'
  | 'MISSING_ENDPOINT_ID'
  | 'NO_AVAILABLE_UPSTREAMS';

/** An error raised by a domain rule. `code` is stable and safe to switch on. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
