/**
 * @module fs-bridge/core/types
 * The contract between the bridge layer (paths onto the flat container namespace, inodes,
 * spooling, attributes in properties) and its thin front ends (FUSE, NFSv3, FTP). Front ends
 * import this and `errno.ts`, never the client library's internals or each other.
 *
 * Inodes are permanent numbers kept by the bridge (a small local base): the same object or
 * directory keeps its number across bridge restarts and across renames, so NFS file handles
 * (which carry the inode) stay valid. Inode 1 is the bridge's root: an account (its top level
 * lists containers) or one container (its top level lists that container's objects).
 * Every method throws OioError with a code from appliance/common/errors; front ends map codes
 * to errno / NFS3ERR_* / FTP replies (errno.ts and each adapter's table).
 */
import type { Readable } from 'node:stream';

export type Ino = number;

export const ROOT_INO: Ino = 1;

export type FileType = 'file' | 'dir' | 'symlink';

export interface Attr {
  ino: Ino;
  type: FileType;
  /** permission bits only (0o7777); the type is in `type` */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface DirEntry {
  name: string;
  ino: Ino;
  type: FileType;
  /** filled when the listing already knew it (readdirplus) */
  attr?: Attr;
}

export interface ReaddirPage {
  entries: DirEntry[];
  /** opaque position to continue after the last entry (0 = start); absent at the end */
  nextCookie?: number;
  eof: boolean;
}

export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  /** truncate or extend */
  size?: number;
  atimeMs?: number;
  mtimeMs?: number;
}

export interface StatFs {
  totalBytes: number;
  freeBytes: number;
  availBytes: number;
  files: number;
  freeFiles: number;
  /** preferred I/O size */
  blockSize: number;
  nameMax: number;
}

/**
 * The bridge file system. Writes are spooled locally and committed to the grid as a new
 * object version by `flush` (FUSE fsync/release, NFS COMMIT or FILE_SYNC, FTP end of STOR);
 * reads see the spooled bytes of the same bridge at once (local-file semantics within one
 * bridge, last flush wins across bridges).
 */
export interface BridgeFs {
  lookup(parent: Ino, name: string): Promise<Attr>;
  getattr(ino: Ino): Promise<Attr>;
  setattr(ino: Ino, changes: SetAttr): Promise<Attr>;
  /** `limit` entries at most; pages over the grid's listing, never the whole directory in memory */
  readdir(ino: Ino, cookie: number, limit: number, plus?: boolean): Promise<ReaddirPage>;
  mkdir(parent: Ino, name: string, mode: number, owner?: { uid: number; gid: number }): Promise<Attr>;
  /** ENOTEMPTY (CONTAINER_NOT_EMPTY) when not empty */
  rmdir(parent: Ino, name: string): Promise<void>;
  /** `exclusive`: CONTENT_EXISTS if the name exists */
  create(parent: Ino, name: string, mode: number, opts?: { exclusive?: boolean; uid?: number; gid?: number }): Promise<Attr>;
  unlink(parent: Ino, name: string): Promise<void>;
  /** files are relinked (no data copy); directories are renamed object by object */
  rename(parent: Ino, name: string, newParent: Ino, newName: string): Promise<void>;
  symlink(parent: Ino, name: string, target: string): Promise<Attr>;
  readlink(ino: Ino): Promise<string>;
  /** at most `length` bytes from `offset` (short at end of file) */
  read(ino: Ino, offset: number, length: number): Promise<Buffer>;
  /**
   * The bytes from `offset` to the end of a file whose content is all stored, as one stream
   * (one ranged GET, no read-ahead buffer: a whole-file transfer); undefined when the file has
   * unsaved bytes (read those with `read`).
   */
  readStream(ino: Ino, offset: number): Promise<Readable | undefined>;
  /** spools the bytes; resolves with the count written */
  write(ino: Ino, offset: number, data: Buffer): Promise<number>;
  /** commits spooled writes of the inode as a new version (no-op when clean) */
  flush(ino: Ino): Promise<void>;
  /** a front end holds the inode open (FUSE open/create, FTP transfer); release flushes at last close */
  open(ino: Ino): Promise<void>;
  release(ino: Ino): Promise<void>;
  statfs(): Promise<StatFs>;
}
