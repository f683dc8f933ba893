/**
 * @module common/errors/codes
 * The one catalog of error codes: each code has an internal HTTP status (used between
 * services) and a retryable flag (OpenIO CODE_IS_RETRY). Front ends map codes with a
 * `Record<ErrorCode, …>` so that a new code does not compile until every protocol maps it.
 */

export const ERROR_CODES = {
  ACCOUNT_NOT_FOUND: { status: 404, retryable: false },
  CONTAINER_NOT_FOUND: { status: 404, retryable: false },
  CONTENT_NOT_FOUND: { status: 404, retryable: false },
  CHUNK_NOT_FOUND: { status: 404, retryable: false },
  SERVICE_NOT_FOUND: { status: 404, retryable: false },
  CONTAINER_EXISTS: { status: 409, retryable: false },
  CONTENT_EXISTS: { status: 409, retryable: false },
  CHUNK_EXISTS: { status: 409, retryable: false },
  CONTAINER_NOT_EMPTY: { status: 409, retryable: false },
  INVALID_NAME: { status: 400, retryable: false },
  BAD_REQUEST: { status: 400, retryable: false },
  NOT_ALLOWED: { status: 403, retryable: false },
  PRECONDITION_FAILED: { status: 412, retryable: false },
  QUOTA_EXCEEDED: { status: 413, retryable: false },
  NO_SPACE: { status: 507, retryable: false },
  HASH_MISMATCH: { status: 422, retryable: false },
  POLICY_NOT_SATISFIABLE: { status: 503, retryable: true },
  NOT_MASTER: { status: 421, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
  EXCESSIVE_LOAD: { status: 429, retryable: true },
  TIMEOUT: { status: 504, retryable: true },
  NOT_IMPLEMENTED: { status: 501, retryable: false },
  INTERNAL: { status: 500, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, x);
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
