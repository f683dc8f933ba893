/**
 * @module fs-bridge/nfs/nfs3/nfs3-types
 * RFC 1813 data types on the wire: procedure numbers, fattr3 / wcc_data / post_op_* encoders
 * and sattr3 / diropargs3 decoders, kept apart from the procedure logic so both ends
 * (server and test client) share them.
 */
import type { Attr, SetAttr } from '../../core/types';
import { XdrError, type XdrReader, type XdrWriter } from '../xdr';

export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

export const enum Nfs3Proc {
  NULL = 0, GETATTR = 1, SETATTR = 2, LOOKUP = 3, ACCESS = 4, READLINK = 5, READ = 6, WRITE = 7,
  CREATE = 8, MKDIR = 9, SYMLINK = 10, MKNOD = 11, REMOVE = 12, RMDIR = 13, RENAME = 14, LINK = 15,
  READDIR = 16, READDIRPLUS = 17, FSSTAT = 18, FSINFO = 19, PATHCONF = 20, COMMIT = 21,
}

export const enum Ftype3 { REG = 1, DIR = 2, BLK = 3, CHR = 4, LNK = 5, SOCK = 6, FIFO = 7 }

export const enum StableHow { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 }

export const enum CreateMode { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 }

export const ACCESS3 = { READ: 0x1, LOOKUP: 0x2, MODIFY: 0x4, EXTEND: 0x8, DELETE: 0x10, EXECUTE: 0x20 } as const;

export const FHSIZE3 = 64;
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

export function ftypeOf(t: Attr['type']): Ftype3 {
  return t === 'dir' ? Ftype3.DIR : t === 'symlink' ? Ftype3.LNK : Ftype3.REG;
}

function nfstime(w: XdrWriter, ms: number): void {
  const m = Math.max(0, Math.floor(ms));
  w.uint32(Math.floor(m / 1000)).uint32((m % 1000) * 1_000_000);
}

export function readNfstime(r: XdrReader): number {
  const s = r.uint32();
  const ns = r.uint32();
  if (ns >= 1_000_000_000) throw new XdrError(`nfstime3: nseconds ${ns}`);
  return s * 1000 + Math.floor(ns / 1_000_000);
}

/** fattr3; `fsid` is the export's number */
export function writeFattr3(w: XdrWriter, a: Attr, fsid: bigint): void {
  w.uint32(ftypeOf(a.type)).uint32(a.mode & 0o7777).uint32(a.nlink).uint32(a.uid).uint32(a.gid);
  w.uint64(a.size).uint64(Math.ceil(a.size / 4096) * 4096);
  w.uint32(0).uint32(0); // rdev
  w.uint64(fsid).uint64(a.ino);
  nfstime(w, a.atimeMs);
  nfstime(w, a.mtimeMs);
  nfstime(w, a.ctimeMs);
}

export function writePostOpAttr(w: XdrWriter, a: Attr | undefined, fsid: bigint): void {
  w.bool(a !== undefined);
  if (a) writeFattr3(w, a, fsid);
}

/** wcc_data: pre_op_attr (size, mtime, ctime) then post_op_attr */
export function writeWcc(w: XdrWriter, pre: Attr | undefined, post: Attr | undefined, fsid: bigint): void {
  w.bool(pre !== undefined);
  if (pre) {
    w.uint64(pre.size);
    nfstime(w, pre.mtimeMs);
    nfstime(w, pre.ctimeMs);
  }
  writePostOpAttr(w, post, fsid);
}

export function writePostOpFh(w: XdrWriter, fh: Buffer | undefined): void {
  w.bool(fh !== undefined);
  if (fh) w.opaque(fh);
}

export interface Sattr3 extends SetAttr {
  /** SET_TO_SERVER_TIME asked for atime / mtime (resolved to now by the server) */
  atimeServer?: boolean;
  mtimeServer?: boolean;
}

export function readSattr3(r: XdrReader): Sattr3 {
  const s: Sattr3 = {};
  if (r.bool()) s.mode = r.uint32() & 0o7777;
  if (r.bool()) s.uid = r.uint32();
  if (r.bool()) s.gid = r.uint32();
  if (r.bool()) s.size = r.uint64Number();
  const at = r.uint32();
  if (at === 1) s.atimeServer = true;
  else if (at === 2) s.atimeMs = readNfstime(r);
  else if (at !== 0) throw new XdrError(`time_how ${at}`);
  const mt = r.uint32();
  if (mt === 1) s.mtimeServer = true;
  else if (mt === 2) s.mtimeMs = readNfstime(r);
  else if (mt !== 0) throw new XdrError(`time_how ${mt}`);
  return s;
}

export function writeSattr3(w: XdrWriter, s: SetAttr): void {
  const opt = (v: number | undefined, big = false) => {
    w.bool(v !== undefined);
    if (v !== undefined) { if (big) w.uint64(v); else w.uint32(v); }
  };
  opt(s.mode);
  opt(s.uid);
  opt(s.gid);
  opt(s.size, true);
  for (const t of [s.atimeMs, s.mtimeMs]) {
    if (t === undefined) w.uint32(0);
    else { w.uint32(2); nfstime(w, t); }
  }
}

/** The SetAttr for the bridge, server times resolved to `now`. */
export function toSetAttr(s: Sattr3, now: number): SetAttr {
  const out: SetAttr = {};
  if (s.mode !== undefined) out.mode = s.mode;
  if (s.uid !== undefined) out.uid = s.uid;
  if (s.gid !== undefined) out.gid = s.gid;
  if (s.size !== undefined) out.size = s.size;
  if (s.atimeServer) out.atimeMs = now; else if (s.atimeMs !== undefined) out.atimeMs = s.atimeMs;
  if (s.mtimeServer) out.mtimeMs = now; else if (s.mtimeMs !== undefined) out.mtimeMs = s.mtimeMs;
  return out;
}

export interface DirOpArgs {
  dir: Buffer;
  name: string;
  /** raw bytes of the name (checked for NUL and '/') */
  rawName: Buffer;
}

export function readFh(r: XdrReader): Buffer {
  return r.opaque(FHSIZE3);
}

export function readDirOpArgs(r: XdrReader): DirOpArgs {
  const dir = readFh(r);
  // Names up to 1 KiB are decoded so that 256..1024 bytes answer NAMETOOLONG, not GARBAGE_ARGS.
  const rawName = r.opaque(1024);
  return { dir, name: rawName.toString('utf8'), rawName };
}

/** Decoded fattr3 (test clients). */
export interface Fattr3 {
  type: Ftype3; mode: number; nlink: number; uid: number; gid: number; size: number; used: number;
  fsid: bigint; fileid: number; atimeMs: number; mtimeMs: number; ctimeMs: number;
}

export function readFattr3(r: XdrReader): Fattr3 {
  const type = r.uint32() as Ftype3;
  const mode = r.uint32();
  const nlink = r.uint32();
  const uid = r.uint32();
  const gid = r.uint32();
  const size = r.uint64Number();
  const used = r.uint64Number();
  r.uint32(); r.uint32();
  const fsid = r.uint64();
  const fileid = r.uint64Number();
  return { type, mode, nlink, uid, gid, size, used, fsid, fileid, atimeMs: readNfstime(r), mtimeMs: readNfstime(r), ctimeMs: readNfstime(r) };
}

export function readPostOpAttr(r: XdrReader): Fattr3 | undefined {
  return r.bool() ? readFattr3(r) : undefined;
}

export function skipWcc(r: XdrReader): Fattr3 | undefined {
  if (r.bool()) { r.uint64(); r.uint32(); r.uint32(); r.uint32(); r.uint32(); }
  return readPostOpAttr(r);
}
