/**
 * @module fs-bridge/core/errno
 * The errno column of STYLE.md §4: one `Record<ErrorCode, errno>` so a new error code does not
 * compile until the file-system bridges map it. Values are positive Linux errno numbers;
 * FUSE answers their negation. `errnoOf()` adds the one refinement a code cannot carry alone
 * (INVALID_NAME for a name too long is ENAMETOOLONG).
 */
import { type ErrorCode, toOioError } from '../../appliance/common';

/** Linux errno numbers used by the bridges. */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EAGAIN: 11, EACCES: 13, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21,
  EINVAL: 22, EFBIG: 27, ENOSPC: 28, EROFS: 30, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, ENOTSUP: 95, EDQUOT: 122,
} as const;

/** errno of each error code (transient codes are retried by the client library before reaching here). */
export const ERRNO_OF_CODE: Record<ErrorCode, number> = {
  ACCOUNT_NOT_FOUND: ERRNO.ENOENT,
  CONTAINER_NOT_FOUND: ERRNO.ENOENT,
  CONTENT_NOT_FOUND: ERRNO.ENOENT,
  CHUNK_NOT_FOUND: ERRNO.EIO,
  SERVICE_NOT_FOUND: ERRNO.EIO,
  CONTAINER_EXISTS: ERRNO.EEXIST,
  CONTENT_EXISTS: ERRNO.EEXIST,
  CHUNK_EXISTS: ERRNO.EEXIST,
  CONTAINER_NOT_EMPTY: ERRNO.ENOTEMPTY,
  INVALID_NAME: ERRNO.EINVAL,
  BAD_REQUEST: ERRNO.EINVAL,
  NOT_ALLOWED: ERRNO.EACCES,
  PRECONDITION_FAILED: ERRNO.EIO,
  QUOTA_EXCEEDED: ERRNO.EDQUOT,
  NO_SPACE: ERRNO.ENOSPC,
  HASH_MISMATCH: ERRNO.EIO,
  POLICY_NOT_SATISFIABLE: ERRNO.EIO,
  NOT_MASTER: ERRNO.EIO,
  UNAVAILABLE: ERRNO.EIO,
  EXCESSIVE_LOAD: ERRNO.EIO,
  TIMEOUT: ERRNO.EIO,
  NOT_IMPLEMENTED: ERRNO.ENOSYS,
  INTERNAL: ERRNO.EIO,
};

/** Detail `reason` values the bridge sets on INVALID_NAME / BAD_REQUEST to pick a finer errno. */
export const ERRNO_REASONS: Record<string, number> = {
  name_too_long: ERRNO.ENAMETOOLONG,
  not_dir: ERRNO.ENOTDIR,
  is_dir: ERRNO.EISDIR,
  file_too_big: ERRNO.EFBIG,
  read_only: ERRNO.EROFS,
  cross_device: ERRNO.EXDEV,
  not_permitted: ERRNO.EPERM,
};

/** The positive errno for any thrown value (unknown errors are EIO). */
export function errnoOf(e: unknown): number {
  const err = toOioError(e);
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && ERRNO_REASONS[reason] !== undefined) return ERRNO_REASONS[reason]!;
  return ERRNO_OF_CODE[err.code];
}
