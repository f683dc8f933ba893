/**
 * @module fs-bridge/nfs/status
 * The NFSv3 column of the error table (STYLE.md §4): every error code of
 * appliance/common/errors maps to one nfsstat3 (RFC 1813 §2.6), so a new code does not
 * compile until it is mapped here.
 */
import { type ErrorCode, toOioError } from '../../appliance/common';

export const enum Nfsstat3 {
  OK = 0,
  PERM = 1,
  NOENT = 2,
  IO = 5,
  NXIO = 6,
  ACCES = 13,
  EXIST = 17,
  XDEV = 18,
  NODEV = 19,
  NOTDIR = 20,
  ISDIR = 21,
  INVAL = 22,
  FBIG = 27,
  NOSPC = 28,
  ROFS = 30,
  MLINK = 31,
  NAMETOOLONG = 63,
  NOTEMPTY = 66,
  DQUOT = 69,
  STALE = 70,
  REMOTE = 71,
  BADHANDLE = 10001,
  NOT_SYNC = 10002,
  BAD_COOKIE = 10003,
  NOTSUPP = 10004,
  TOOSMALL = 10005,
  SERVERFAULT = 10006,
  BADTYPE = 10007,
  JUKEBOX = 10008,
}

/** error code -> nfsstat3 */
export const NFS_STATUS: Record<ErrorCode, Nfsstat3> = {
  ACCOUNT_NOT_FOUND: Nfsstat3.NOENT,
  CONTAINER_NOT_FOUND: Nfsstat3.NOENT,
  CONTENT_NOT_FOUND: Nfsstat3.NOENT,
  CHUNK_NOT_FOUND: Nfsstat3.IO,
  SERVICE_NOT_FOUND: Nfsstat3.JUKEBOX,
  CONTAINER_EXISTS: Nfsstat3.EXIST,
  CONTENT_EXISTS: Nfsstat3.EXIST,
  CHUNK_EXISTS: Nfsstat3.EXIST,
  CONTAINER_NOT_EMPTY: Nfsstat3.NOTEMPTY,
  INVALID_NAME: Nfsstat3.INVAL,
  BAD_REQUEST: Nfsstat3.INVAL,
  NOT_ALLOWED: Nfsstat3.ACCES,
  PRECONDITION_FAILED: Nfsstat3.NOT_SYNC,
  QUOTA_EXCEEDED: Nfsstat3.DQUOT,
  NO_SPACE: Nfsstat3.NOSPC,
  HASH_MISMATCH: Nfsstat3.IO,
  POLICY_NOT_SATISFIABLE: Nfsstat3.JUKEBOX,
  NOT_MASTER: Nfsstat3.JUKEBOX,
  UNAVAILABLE: Nfsstat3.JUKEBOX,
  EXCESSIVE_LOAD: Nfsstat3.JUKEBOX,
  TIMEOUT: Nfsstat3.JUKEBOX,
  NOT_IMPLEMENTED: Nfsstat3.NOTSUPP,
  INTERNAL: Nfsstat3.SERVERFAULT,
};

/** An NFS status raised inside the adapter (bad handle, read-only export, not a directory...). */
export class NfsStatusError extends Error {
  constructor(readonly status: Nfsstat3, message = `nfsstat3 ${status}`) {
    super(message);
    this.name = 'NfsStatusError';
  }
}

/** Detail `reason` values of the bridge (fs-bridge/core errno.ts) that pick a finer status. */
export const NFS_REASONS: Record<string, Nfsstat3> = {
  name_too_long: Nfsstat3.NAMETOOLONG,
  not_dir: Nfsstat3.NOTDIR,
  is_dir: Nfsstat3.ISDIR,
  file_too_big: Nfsstat3.FBIG,
  read_only: Nfsstat3.ROFS,
  cross_device: Nfsstat3.XDEV,
  not_permitted: Nfsstat3.PERM,
  bad_cookie: Nfsstat3.BAD_COOKIE,
};

/** The nfsstat3 for anything thrown by the bridge or the adapter (unknown: SERVERFAULT). */
export function statusOf(e: unknown): Nfsstat3 {
  if (e instanceof NfsStatusError) return e.status;
  const err = toOioError(e);
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && NFS_REASONS[reason] !== undefined) return NFS_REASONS[reason]!;
  return NFS_STATUS[err.code];
}

const NAMES: Partial<Record<number, string>> = {
  1: 'NFS3ERR_PERM', 2: 'NFS3ERR_NOENT', 5: 'NFS3ERR_IO', 13: 'NFS3ERR_ACCES', 17: 'NFS3ERR_EXIST', 18: 'NFS3ERR_XDEV', 20: 'NFS3ERR_NOTDIR',
  21: 'NFS3ERR_ISDIR', 22: 'NFS3ERR_INVAL', 27: 'NFS3ERR_FBIG', 28: 'NFS3ERR_NOSPC', 30: 'NFS3ERR_ROFS', 63: 'NFS3ERR_NAMETOOLONG',
  66: 'NFS3ERR_NOTEMPTY', 69: 'NFS3ERR_DQUOT', 70: 'NFS3ERR_STALE', 10001: 'NFS3ERR_BADHANDLE', 10002: 'NFS3ERR_NOT_SYNC',
  10003: 'NFS3ERR_BAD_COOKIE', 10004: 'NFS3ERR_NOTSUPP', 10005: 'NFS3ERR_TOOSMALL', 10006: 'NFS3ERR_SERVERFAULT', 10008: 'NFS3ERR_JUKEBOX',
};

/** `NFS3ERR_NOENT` for 2 (access lines) */
export function nfsstatName(s: number): string {
  return s === 0 ? 'NFS3_OK' : NAMES[s] ?? `NFS3ERR_${s}`;
}
