/**
 * @module fs-bridge/ftp/replies
 * The FTP column of STYLE.md §4: the reply code of each error code (RFC 959: 450 transient,
 * 451 local error, 452 no space, 502 not implemented, 550 unavailable file, 552 quota,
 * 553 name not allowed), so a new code does not compile until FTP maps it.
 */
import { type ErrorCode, toOioError } from '../../appliance/common';

export const FTP_REPLY_OF_CODE: Record<ErrorCode, number> = {
  ACCOUNT_NOT_FOUND: 550,
  CONTAINER_NOT_FOUND: 550,
  CONTENT_NOT_FOUND: 550,
  CHUNK_NOT_FOUND: 451,
  SERVICE_NOT_FOUND: 451,
  CONTAINER_EXISTS: 550,
  CONTENT_EXISTS: 550,
  CHUNK_EXISTS: 451,
  CONTAINER_NOT_EMPTY: 550,
  INVALID_NAME: 553,
  BAD_REQUEST: 550,
  NOT_ALLOWED: 550,
  PRECONDITION_FAILED: 451,
  QUOTA_EXCEEDED: 552,
  NO_SPACE: 452,
  HASH_MISMATCH: 451,
  POLICY_NOT_SATISFIABLE: 450,
  NOT_MASTER: 450,
  UNAVAILABLE: 450,
  EXCESSIVE_LOAD: 450,
  TIMEOUT: 450,
  NOT_IMPLEMENTED: 502,
  INTERNAL: 451,
};

/** Reply code and a message that never leaks internal text for unknown errors. */
export function ftpReplyOf(e: unknown): { code: number; message: string } {
  const err = toOioError(e);
  const code = FTP_REPLY_OF_CODE[err.code];
  return { code, message: err.code === 'INTERNAL' ? 'Local error in processing' : `${err.code}: ${err.message}` };
}
