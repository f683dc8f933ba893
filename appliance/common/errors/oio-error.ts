/**
 * @module common/errors/oio-error
 * The typed error hierarchy. Everything thrown across a module boundary is an OioError
 * (or becomes one at the edge through `toOioError`). Branch on `code`, never on text.
 */
import { ERROR_CODES, ErrorCode, isErrorCode } from './codes';

export interface OioErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class OioError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: OioErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OioError';
    this.code = code;
    this.details = opts.details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export class NotFoundError extends OioError {}
export class ConflictError extends OioError {}
export class InvalidArgumentError extends OioError {}
export class UnavailableError extends OioError {}

const NOT_FOUND: ReadonlySet<ErrorCode> = new Set([
  'ACCOUNT_NOT_FOUND', 'CONTAINER_NOT_FOUND', 'CONTENT_NOT_FOUND', 'CHUNK_NOT_FOUND', 'SERVICE_NOT_FOUND',
]);

/** Builds the subclass that fits the code (used by `client/` to rebuild remote errors). */
export function makeError(code: ErrorCode, message: string, opts: OioErrorOptions = {}): OioError {
  if (NOT_FOUND.has(code)) return new NotFoundError(code, message, opts);
  switch (code) {
    case 'CONTAINER_EXISTS': case 'CONTENT_EXISTS': case 'CHUNK_EXISTS': case 'CONTAINER_NOT_EMPTY':
      return new ConflictError(code, message, opts);
    case 'INVALID_NAME': case 'BAD_REQUEST':
      return new InvalidArgumentError(code, message, opts);
    case 'UNAVAILABLE': case 'EXCESSIVE_LOAD': case 'TIMEOUT': case 'NOT_MASTER': case 'POLICY_NOT_SATISFIABLE':
      return new UnavailableError(code, message, opts);
    default:
      return new OioError(code, message, opts);
  }
}

export function isOioError(e: unknown): e is OioError {
  return e instanceof OioError;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof OioError && NOT_FOUND.has(e.code);
}

export function isRetryable(e: unknown): boolean {
  if (e instanceof OioError) return e.retryable;
  // Socket-level failures (refused, reset, timeout) are worth another replica or attempt.
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|UND_ERR_SOCKET|ECONNABORTED)$/.test(code);
}

/** Turns anything thrown into an OioError; unknown errors become INTERNAL (text kept internal). */
export function toOioError(e: unknown): OioError {
  if (e instanceof OioError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) return makeError(code, String((e as Error).message ?? code), { cause: e });
  if (code === 'ENOSPC' || code === 'EDQUOT') return new OioError('NO_SPACE', 'no space left on volume', { cause: e });
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH)$/.test(code)) {
    return new UnavailableError('UNAVAILABLE', `service unreachable (${code})`, { cause: e });
  }
  if (code === 'ETIMEDOUT') return new UnavailableError('TIMEOUT', 'timeout', { cause: e });
  return new OioError('INTERNAL', 'internal error', { cause: e });
}
