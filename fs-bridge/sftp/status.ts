/**
 * @module fs-bridge/sftp/status
 * The SFTP column of the error table (STYLE.md §4): every error code of appliance/common
 * maps to one SSH_FX_* status (SFTP v3 has only a few: a missing file, a refusal, an
 * unsupported operation, and FAILURE with a message for everything else), so a new code
 * does not compile until SFTP maps it. The bridge's detail reasons (errno.ts) refine nothing
 * here but the message.
 */
import { type ErrorCode, toOioError } from '../../appliance/common';
import { SftpStatus } from './wire';

export const SFTP_STATUS_OF_CODE: Record<ErrorCode, SftpStatus> = {
  ACCOUNT_NOT_FOUND: SftpStatus.NO_SUCH_FILE,
  CONTAINER_NOT_FOUND: SftpStatus.NO_SUCH_FILE,
  CONTENT_NOT_FOUND: SftpStatus.NO_SUCH_FILE,
  CHUNK_NOT_FOUND: SftpStatus.FAILURE,
  SERVICE_NOT_FOUND: SftpStatus.FAILURE,
  CONTAINER_EXISTS: SftpStatus.FAILURE,
  CONTENT_EXISTS: SftpStatus.FAILURE,
  CHUNK_EXISTS: SftpStatus.FAILURE,
  CONTAINER_NOT_EMPTY: SftpStatus.FAILURE,
  INVALID_NAME: SftpStatus.FAILURE,
  BAD_REQUEST: SftpStatus.FAILURE,
  NOT_ALLOWED: SftpStatus.PERMISSION_DENIED,
  PRECONDITION_FAILED: SftpStatus.FAILURE,
  QUOTA_EXCEEDED: SftpStatus.FAILURE,
  NO_SPACE: SftpStatus.FAILURE,
  HASH_MISMATCH: SftpStatus.FAILURE,
  POLICY_NOT_SATISFIABLE: SftpStatus.FAILURE,
  NOT_MASTER: SftpStatus.FAILURE,
  UNAVAILABLE: SftpStatus.FAILURE,
  EXCESSIVE_LOAD: SftpStatus.FAILURE,
  TIMEOUT: SftpStatus.FAILURE,
  NOT_IMPLEMENTED: SftpStatus.OP_UNSUPPORTED,
  INTERNAL: SftpStatus.FAILURE,
};

/** Messages of the bridge's detail reasons (what a POSIX server would say). */
const REASON_MESSAGES: Record<string, string> = {
  name_too_long: 'File name too long',
  not_dir: 'Not a directory',
  is_dir: 'Is a directory',
  file_too_big: 'File too large',
  read_only: 'Read-only file system',
  cross_device: 'Cross-container rename is not possible (copy instead)',
  not_permitted: 'Operation not permitted',
};

/** Status and message of any thrown value; unknown errors never leak internal text. */
export function sftpStatusOf(e: unknown): { code: SftpStatus; message: string } {
  const err = toOioError(e);
  const code = SFTP_STATUS_OF_CODE[err.code];
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && REASON_MESSAGES[reason] !== undefined) return { code, message: REASON_MESSAGES[reason]! };
  if (err.code === 'INTERNAL') return { code, message: 'Failure (internal error)' };
  if (code === SftpStatus.NO_SUCH_FILE) return { code, message: 'No such file' };
  if (code === SftpStatus.PERMISSION_DENIED) return { code, message: `Permission denied: ${err.message}` };
  return { code, message: `${err.code}: ${err.message}` };
}
