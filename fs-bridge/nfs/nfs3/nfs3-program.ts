/**
 * @module fs-bridge/nfs/nfs3/nfs3-program
 * The NFSv3 program (RFC 1813, program 100003 version 3): every procedure decoded, run on the
 * export's BridgeFs and encoded. Handles carry export id + permanent inode (file-handle.ts);
 * each call checks the client address against the export and refuses changes on read-only
 * exports. Errors from the bridge map through status.ts; XDR errors become GARBAGE_ARGS in
 * the RPC layer.
 *
 * Writes: UNSTABLE data is spooled by the bridge and committed by COMMIT (or after an idle
 * delay when a client never commits); DATA_SYNC and FILE_SYNC flush before replying. The write
 * verifier changes with each server start, so a client resends what it had not committed.
 */
import crypto from 'node:crypto';
import type { Logger } from '../../../appliance/common';
import { isNotFound, isRetryable } from '../../../appliance/common';
import { type Attr, type DirEntry, type Ino, ROOT_INO } from '../../core/types';
import { clientAllowed, type NfsExport } from '../exports';
import type { ExportTable } from '../export-table';
import { decodeHandle, encodeHandle, GENERATION } from '../file-handle';
import { ProcUnavailError, type CallContext, type RpcProgram } from '../rpc';
import { Nfsstat3, NfsStatusError, nfsstatName, statusOf } from '../status';
import { XdrWriter, type XdrReader } from '../xdr';
import {
  ACCESS3, CreateMode, type DirOpArgs, Ftype3, NAME_MAX, NFS_PROGRAM, NFS_V3, Nfs3Proc, PATH_MAX, readDirOpArgs, readFh, readNfstime,
  readSattr3, StableHow, toSetAttr, writeFattr3, writePostOpAttr, writePostOpFh, writeWcc,
} from './nfs3-types';

/** Transfer sizes announced in FSINFO (bytes). */
export const MAX_IO_BYTES = 1024 * 1024;
const DIR_PREF_BYTES = 64 * 1024;
/** entries asked from the bridge per readdir call */
const READDIR_PAGE = 512;

const PROC_NAMES = ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD',
  'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'];


export interface Nfs3Options {
  log?: Logger;
  /** UNSTABLE writes not committed after this idle delay are flushed anyway (0: never) */
  idleFlushMs?: number;
  /** one info line per call (config access_log) */
  accessLog?: boolean;
  /** how long a commit failing with a retryable error is retried before JUKEBOX (default 5 s) */
  flushRetryMs?: number;
}

interface Target {
  exp: NfsExport;
  ino: Ino;
  fsid: bigint;
}

export class Nfs3Program implements RpcProgram {
  readonly prog = NFS_PROGRAM;
  readonly lowVersion = NFS_V3;
  readonly highVersion = NFS_V3;
  /** changes at each start: clients resend uncommitted writes after a restart */
  readonly writeVerifier = crypto.randomBytes(8);
  /** child directory ino -> parent ino, per export, for LOOKUP ".." */
  private readonly parents = new Map<string, Map<Ino, Ino>>();
  private readonly dirty = new Map<string, { exp: NfsExport; ino: Ino; timer?: NodeJS.Timeout }>();

  constructor(private readonly exports: ExportTable, private readonly opts: Nfs3Options = {}) {}

  async handle(ctx: CallContext, reply: XdrWriter): Promise<void> {
    const { call } = ctx;
    const r = call.args;
    const t0 = process.hrtime.bigint();
    let status: Nfsstat3 | undefined;
    try {
      status = await this.run(ctx, call.proc, r, reply);
    } finally {
      // One access line per call (info when access_log is on, debug otherwise).
      const fields = {
        method: `NFS3_${PROC_NAMES[call.proc] ?? call.proc}`, status: status ?? 0, code: status ? nfsstatName(status) : undefined,
        bytes: reply.length, durationMs: Number(process.hrtime.bigint() - t0) / 1e6, client: ctx.remoteAddress, xid: call.xid,
      };
      if (this.opts.accessLog) this.opts.log?.info('access', fields);
      else this.opts.log?.debug('access', fields);
    }
  }

  /** Flushes every inode with uncommitted writes (server stop). */
  async flushAll(): Promise<void> {
    const all = [...this.dirty.values()];
    this.dirty.clear();
    for (const d of all) {
      if (d.timer) clearTimeout(d.timer);
      await d.exp.fs.flush(d.ino).catch((e: unknown) => this.opts.log?.warn('flush at stop failed', { ino: d.ino, err: e as Error }));
    }
  }

  private async run(ctx: CallContext, proc: number, r: XdrReader, w: XdrWriter): Promise<Nfsstat3 | undefined> {
    switch (proc) {
      case Nfs3Proc.NULL: return undefined;
      case Nfs3Proc.GETATTR: return this.getattr(ctx, r, w);
      case Nfs3Proc.SETATTR: return this.setattr(ctx, r, w);
      case Nfs3Proc.LOOKUP: return this.lookup(ctx, r, w);
      case Nfs3Proc.ACCESS: return this.access(ctx, r, w);
      case Nfs3Proc.READLINK: return this.readlink(ctx, r, w);
      case Nfs3Proc.READ: return this.read(ctx, r, w);
      case Nfs3Proc.WRITE: return this.write(ctx, r, w);
      case Nfs3Proc.CREATE: return this.create(ctx, r, w);
      case Nfs3Proc.MKDIR: return this.mkdir(ctx, r, w);
      case Nfs3Proc.SYMLINK: return this.symlink(ctx, r, w);
      case Nfs3Proc.MKNOD: return this.mknod(ctx, r, w);
      case Nfs3Proc.REMOVE: return this.remove(ctx, r, w, false);
      case Nfs3Proc.RMDIR: return this.remove(ctx, r, w, true);
      case Nfs3Proc.RENAME: return this.rename(ctx, r, w);
      case Nfs3Proc.LINK: return this.link(ctx, r, w);
      case Nfs3Proc.READDIR: return this.readdir(ctx, r, w, false);
      case Nfs3Proc.READDIRPLUS: return this.readdir(ctx, r, w, true);
      case Nfs3Proc.FSSTAT: return this.fsstat(ctx, r, w);
      case Nfs3Proc.FSINFO: return this.fsinfo(ctx, r, w);
      case Nfs3Proc.PATHCONF: return this.pathconf(ctx, r, w);
      case Nfs3Proc.COMMIT: return this.commit(ctx, r, w);
      default: throw new ProcUnavailError(proc);
    }
  }

  /**
   * Commits an inode, retrying a retryable failure (no rawx with a score, a proxy restarting)
   * for a few seconds: a flush is idempotent, and clients such as libnfs give up on JUKEBOX.
   */
  private async flush(exp: NfsExport, ino: Ino): Promise<void> {
    const deadline = Date.now() + (this.opts.flushRetryMs ?? 5000);
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await exp.fs.flush(ino);
      } catch (e) {
        if (!isRetryable(e) || Date.now() + delay > deadline) throw e;
        this.opts.log?.debug('flush retried', { ino, err: e as Error });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  // --- handles and checks ---

  /**
   * Unix permission check for the AUTH_SYS user (AUTH_NONE: nobody); root passes. With
   * `ownerOverride` the owner may read and write its file whatever the mode (as knfsd does, so
   * that a file created read-only can still be written by the open that created it).
   */
  private async permit(ctx: CallContext, t: Target, bits: number, ownerOverride = false): Promise<void> {
    const auth = ctx.call.authSys;
    const uid = auth?.uid ?? 65534;
    if (uid === 0) return;
    const a = await t.exp.fs.getattr(t.ino);
    if (ownerOverride && a.uid === uid) return;
    const granted = grantedAccess(a, uid, auth ? [auth.gid, ...auth.gids] : [65534]);
    if ((granted & bits) !== bits) throw new NfsStatusError(Nfsstat3.ACCES);
  }

  /** chmod / chown: the owner or root only (PERM otherwise). */
  private async ownerOnly(ctx: CallContext, t: Target): Promise<void> {
    const uid = ctx.call.authSys?.uid ?? 65534;
    if (uid === 0) return;
    if ((await t.exp.fs.getattr(t.ino)).uid !== uid) throw new NfsStatusError(Nfsstat3.PERM);
  }

  /** Resolves a handle to its export and inode; NfsStatusError BADHANDLE / STALE / ACCES / ROFS. */
  private async target(ctx: CallContext, fh: Buffer, write = false): Promise<Target> {
    const h = decodeHandle(fh);
    if (!h) throw new NfsStatusError(Nfsstat3.BADHANDLE);
    if (h.generation !== GENERATION) throw new NfsStatusError(Nfsstat3.STALE);
    const exp = await this.exports.byId(h.exportId);
    if (!exp) throw new NfsStatusError(Nfsstat3.STALE);
    if (!clientAllowed(exp, ctx.remoteAddress)) throw new NfsStatusError(Nfsstat3.ACCES);
    if (write && exp.readOnly) throw new NfsStatusError(Nfsstat3.ROFS);
    return { exp, ino: h.ino, fsid: BigInt('0x' + exp.id) };
  }

  handleOf(exp: NfsExport, ino: Ino): Buffer {
    return encodeHandle({ exportId: exp.id, ino, generation: GENERATION });
  }

  /** Status for an error on an operation of `t`: a vanished handle inode is STALE, not NOENT; a name in a file is NOTDIR. */
  private async statusFor(t: Target, e: unknown): Promise<Nfsstat3> {
    const s = statusOf(e);
    if (s === Nfsstat3.SERVERFAULT) this.opts.log?.error('nfs3 operation failed', { err: e as Error });
    if (s !== Nfsstat3.NOENT) return s;
    try {
      // A name looked up in a file: NOTDIR. The handle's own inode gone: STALE.
      const a = await t.exp.fs.getattr(t.ino);
      return a.type === 'dir' ? s : Nfsstat3.NOTDIR;
    } catch (e2) {
      if (t.ino === ROOT_INO) return s;
      return isNotFound(e2) ? Nfsstat3.STALE : s;
    }
  }

  private async attrOrUndefined(t: Target, ino: Ino = t.ino): Promise<Attr | undefined> {
    try {
      return await t.exp.fs.getattr(ino);
    } catch {
      return undefined;
    }
  }

  /** Name checks: NAMETOOLONG over 255 bytes; '/', NUL, empty: ACCES (never escape the export). */
  private checkName(a: DirOpArgs, forCreate: boolean): void {
    if (a.rawName.length > NAME_MAX) throw new NfsStatusError(Nfsstat3.NAMETOOLONG);
    if (a.rawName.length === 0 || a.rawName.includes(0) || a.rawName.includes(0x2f)) throw new NfsStatusError(Nfsstat3.ACCES);
    if (forCreate && (a.name === '.' || a.name === '..')) throw new NfsStatusError(Nfsstat3.EXIST);
  }

  private rememberParent(exp: NfsExport, child: Ino, parent: Ino): void {
    let m = this.parents.get(exp.id);
    if (!m) this.parents.set(exp.id, (m = new Map()));
    if (m.size > 100_000) m.clear();
    m.set(child, parent);
  }

  // --- procedures ---

  private async getattr(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    let t: Target;
    try {
      t = await this.target(ctx, fh);
    } catch (e) {
      return fail(w, statusOf(e));
    }
    try {
      const a = await t.exp.fs.getattr(t.ino);
      w.uint32(Nfsstat3.OK);
      writeFattr3(w, a, t.fsid);
      return Nfsstat3.OK;
    } catch (e) {
      const s = statusOf(e);
      return fail(w, s === Nfsstat3.NOENT ? Nfsstat3.STALE : s);
    }
  }

  private async setattr(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    const sattr = readSattr3(r);
    const guard = r.bool() ? readNfstime(r) : undefined;
    return this.withTarget(ctx, fh, true, w, (s) => writeWcc(w, undefined, undefined, 0n), async (t) => {
      if (sattr.mode !== undefined || sattr.uid !== undefined || sattr.gid !== undefined) await this.ownerOnly(ctx, t);
      if (sattr.size !== undefined) await this.permit(ctx, t, ACCESS3.MODIFY, true);
      if (sattr.atimeMs !== undefined || sattr.mtimeMs !== undefined) await this.ownerOnly(ctx, t);
      else if (sattr.atimeServer || sattr.mtimeServer) await this.permit(ctx, t, ACCESS3.MODIFY, true);
      const pre = await t.exp.fs.getattr(t.ino);
      if (guard !== undefined && Math.floor(guard / 1000) !== Math.floor(pre.ctimeMs / 1000)) {
        w.uint32(Nfsstat3.NOT_SYNC);
        writeWcc(w, pre, pre, t.fsid);
        return Nfsstat3.NOT_SYNC;
      }
      let post = await t.exp.fs.setattr(t.ino, toSetAttr(sattr, Date.now()));
      // A truncate is spooled by the bridge: commit it before answering (SETATTR is stable).
      if (sattr.size !== undefined && post.type === 'file') {
        await this.flush(t.exp, t.ino);
        post = await t.exp.fs.getattr(t.ino);
      }
      w.uint32(Nfsstat3.OK);
      writeWcc(w, pre, post, t.fsid);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  private async lookup(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    return this.withTarget(ctx, args.dir, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      this.checkName(args, false);
      await this.permit(ctx, t, ACCESS3.LOOKUP);
      let a: Attr;
      if (args.name === '.') a = await t.exp.fs.getattr(t.ino);
      else if (args.name === '..') a = await t.exp.fs.getattr(await this.parentOf(t));
      else {
        a = await t.exp.fs.lookup(t.ino, args.name);
        if (a.type === 'dir') this.rememberParent(t.exp, a.ino, t.ino);
      }
      w.uint32(Nfsstat3.OK);
      w.opaque(this.handleOf(t.exp, a.ino));
      writePostOpAttr(w, a, t.fsid);
      writePostOpAttr(w, await this.attrOrUndefined(t), t.fsid);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async parentOf(t: Target): Promise<Ino> {
    if (t.ino === ROOT_INO) return ROOT_INO;
    const known = this.parents.get(t.exp.id)?.get(t.ino);
    if (known !== undefined) return known;
    // Not seen since the start: ask the bridge (a directory's ".." when it supports it).
    const a = await t.exp.fs.lookup(t.ino, '..');
    return a.ino;
  }

  private async access(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    const asked = r.uint32();
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      const a = await t.exp.fs.getattr(t.ino);
      let granted = asked & grantedAccess(a, ctx.call.authSys?.uid ?? 65534, ctx.call.authSys ? [ctx.call.authSys.gid, ...ctx.call.authSys.gids] : [65534]);
      if (t.exp.readOnly) granted &= ~(ACCESS3.MODIFY | ACCESS3.EXTEND | ACCESS3.DELETE);
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, a, t.fsid);
      w.uint32(granted);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async readlink(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      const a = await t.exp.fs.getattr(t.ino);
      if (a.type !== 'symlink') throw new NfsStatusError(Nfsstat3.INVAL);
      const target = await t.exp.fs.readlink(t.ino);
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, a, t.fsid);
      w.string(target);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async read(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    const offset = r.uint64Number();
    const count = Math.min(r.uint32(), MAX_IO_BYTES);
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      await this.permit(ctx, t, ACCESS3.READ, true);
      const data = count > 0 ? await t.exp.fs.read(t.ino, offset, count) : Buffer.alloc(0);
      const a = await t.exp.fs.getattr(t.ino);
      if (a.type === 'dir') throw new NfsStatusError(Nfsstat3.ISDIR);
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, a, t.fsid);
      w.uint32(data.length).bool(offset + data.length >= a.size).opaque(data);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async write(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    const offset = r.uint64Number();
    const count = r.uint32();
    const stable = r.uint32();
    const data = r.opaque(MAX_IO_BYTES);
    const wccFail = (t: Target) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid));
    return this.withTarget(ctx, fh, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      if (stable > StableHow.FILE_SYNC) throw new NfsStatusError(Nfsstat3.INVAL);
      await this.permit(ctx, t, ACCESS3.MODIFY, true);
      const bytes = data.subarray(0, Math.min(count, data.length));
      const n = await t.exp.fs.write(t.ino, offset, bytes);
      let committed = StableHow.UNSTABLE;
      if (stable === StableHow.UNSTABLE) this.markDirty(t);
      else {
        await this.flush(t.exp, t.ino);
        committed = StableHow.FILE_SYNC;
      }
      const post = await t.exp.fs.getattr(t.ino);
      w.uint32(Nfsstat3.OK);
      writeWcc(w, undefined, post, t.fsid);
      w.uint32(n).uint32(committed).fixedOpaque(this.writeVerifier);
      return Nfsstat3.OK;
    }, wccFail);
  }

  private markDirty(t: Target): void {
    const key = `${t.exp.id}:${t.ino}`;
    const prev = this.dirty.get(key);
    if (prev?.timer) clearTimeout(prev.timer);
    const entry: { exp: NfsExport; ino: Ino; timer?: NodeJS.Timeout } = { exp: t.exp, ino: t.ino };
    const idle = this.opts.idleFlushMs ?? 0;
    if (idle > 0) {
      entry.timer = setTimeout(() => {
        if (this.dirty.get(key) !== entry) return;
        this.dirty.delete(key);
        t.exp.fs.flush(t.ino).catch((e: unknown) => this.opts.log?.warn('idle flush failed', { ino: t.ino, err: e as Error }));
      }, idle);
      entry.timer.unref();
    }
    this.dirty.delete(key);
    this.dirty.set(key, entry);
    // Clients that never COMMIT: the bridge commits idle files itself, so forget the oldest.
    if (this.dirty.size > 10_000) {
      const oldest = this.dirty.entries().next().value;
      if (oldest) { if (oldest[1].timer) clearTimeout(oldest[1].timer); this.dirty.delete(oldest[0]); }
    }
  }

  private async commit(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    r.uint64();
    r.uint32();
    return this.withTarget(ctx, fh, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      const key = `${t.exp.id}:${t.ino}`;
      const d = this.dirty.get(key);
      if (d?.timer) clearTimeout(d.timer);
      this.dirty.delete(key);
      await this.flush(t.exp, t.ino);
      const post = await t.exp.fs.getattr(t.ino);
      w.uint32(Nfsstat3.OK);
      writeWcc(w, undefined, post, t.fsid);
      w.fixedOpaque(this.writeVerifier);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  /**
   * Reply of CREATE / MKDIR / SYMLINK: handle, attributes, directory wcc. A new file is
   * committed first: RFC 1813 wants namespace changes on stable storage before the reply
   * (an empty file created and closed without WRITE must exist in the grid).
   */
  private async created(w: XdrWriter, t: Target, a: Attr): Promise<Nfsstat3> {
    if (a.type === 'file') await this.flush(t.exp, a.ino);
    w.uint32(Nfsstat3.OK);
    writePostOpFh(w, this.handleOf(t.exp, a.ino));
    writePostOpAttr(w, a, t.fsid);
    writeWcc(w, undefined, await this.attrOrUndefined(t), t.fsid);
    return Nfsstat3.OK;
  }

  private async create(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    const mode = r.uint32();
    let sattr: ReturnType<typeof readSattr3> = {};
    let verf: Buffer | undefined;
    if (mode === CreateMode.UNCHECKED || mode === CreateMode.GUARDED) sattr = readSattr3(r);
    else if (mode === CreateMode.EXCLUSIVE) verf = Buffer.from(r.fixedOpaque(8));
    else return fail(w, Nfsstat3.INVAL, () => writeWcc(w, undefined, undefined, 0n));
    const owner = ownerOf(ctx, sattr);
    return this.withTarget(ctx, args.dir, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      this.checkName(args, true);
      await this.permit(ctx, t, ACCESS3.LOOKUP | ACCESS3.MODIFY);
      const fs = t.exp.fs;
      const now = Date.now();
      if (verf) {
        // EXCLUSIVE: the verifier is kept in atime/mtime seconds; a retried CREATE finds it.
        const vAtime = verf.readUInt32BE(0) * 1000;
        const vMtime = verf.readUInt32BE(4) * 1000;
        let a: Attr;
        try {
          a = await fs.create(t.ino, args.name, 0o644, { exclusive: true, ...owner });
        } catch (e) {
          if (statusOf(e) !== Nfsstat3.EXIST) throw e;
          const existing = await fs.lookup(t.ino, args.name);
          if (existing.type === 'file' && Math.floor(existing.atimeMs / 1000) * 1000 === vAtime && Math.floor(existing.mtimeMs / 1000) * 1000 === vMtime) return this.created(w, t, existing);
          throw e;
        }
        a = await fs.setattr(a.ino, { atimeMs: vAtime, mtimeMs: vMtime });
        return this.created(w, t, a);
      }
      const set = toSetAttr(sattr, now);
      const fileMode = set.mode ?? 0o644;
      delete set.mode;
      if (mode === CreateMode.UNCHECKED) {
        const existing = await fs.lookup(t.ino, args.name).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; });
        if (existing) {
          if (existing.type === 'dir') throw new NfsStatusError(Nfsstat3.ISDIR);
          const a = Object.keys(set).length || sattr.mode !== undefined ? await fs.setattr(existing.ino, sattr.mode !== undefined ? { ...set, mode: sattr.mode } : set) : existing;
          return this.created(w, t, a);
        }
      }
      let a = await fs.create(t.ino, args.name, fileMode, { exclusive: mode === CreateMode.GUARDED, ...owner });
      delete set.uid;
      delete set.gid;
      if (set.size === 0) delete set.size;
      if (Object.keys(set).length) a = await fs.setattr(a.ino, set);
      return this.created(w, t, a);
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  private async mkdir(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    const sattr = readSattr3(r);
    const owner = ownerOf(ctx, sattr);
    return this.withTarget(ctx, args.dir, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      this.checkName(args, true);
      await this.permit(ctx, t, ACCESS3.LOOKUP | ACCESS3.MODIFY);
      const a = await t.exp.fs.mkdir(t.ino, args.name, sattr.mode ?? 0o755, owner);
      this.rememberParent(t.exp, a.ino, t.ino);
      return this.created(w, t, a);
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  private async symlink(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    readSattr3(r);
    const target = r.string(PATH_MAX);
    return this.withTarget(ctx, args.dir, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      this.checkName(args, true);
      await this.permit(ctx, t, ACCESS3.LOOKUP | ACCESS3.MODIFY);
      if (target.length === 0 || target.includes('\0')) throw new NfsStatusError(Nfsstat3.INVAL);
      const a = await t.exp.fs.symlink(t.ino, args.name, target);
      return this.created(w, t, a);
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  /** MKNOD: devices, sockets and fifos have no object form: NOTSUPP. */
  private async mknod(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    const type = r.uint32();
    if (type === Ftype3.CHR || type === Ftype3.BLK) { readSattr3(r); r.uint32(); r.uint32(); }
    else if (type === Ftype3.SOCK || type === Ftype3.FIFO) readSattr3(r);
    return this.withTarget(ctx, args.dir, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      w.uint32(Nfsstat3.NOTSUPP);
      writeWcc(w, undefined, await this.attrOrUndefined(t), t.fsid);
      return Nfsstat3.NOTSUPP;
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  private async remove(ctx: CallContext, r: XdrReader, w: XdrWriter, dir: boolean): Promise<Nfsstat3> {
    const args = readDirOpArgs(r);
    return this.withTarget(ctx, args.dir, true, w, () => writeWcc(w, undefined, undefined, 0n), async (t) => {
      this.checkName(args, false);
      if (args.name === '.' || args.name === '..') throw new NfsStatusError(dir ? Nfsstat3.INVAL : Nfsstat3.ACCES);
      await this.permit(ctx, t, ACCESS3.LOOKUP | ACCESS3.DELETE);
      const child = await t.exp.fs.lookup(t.ino, args.name);
      if (dir && child.type !== 'dir') throw new NfsStatusError(Nfsstat3.NOTDIR);
      if (!dir && child.type === 'dir') throw new NfsStatusError(Nfsstat3.ISDIR);
      if (dir) await t.exp.fs.rmdir(t.ino, args.name);
      else await t.exp.fs.unlink(t.ino, args.name);
      w.uint32(Nfsstat3.OK);
      writeWcc(w, undefined, await this.attrOrUndefined(t), t.fsid);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writeWcc(w, undefined, a, t.fsid)));
  }

  private async rename(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const from = readDirOpArgs(r);
    const to = readDirOpArgs(r);
    const empty = () => { writeWcc(w, undefined, undefined, 0n); writeWcc(w, undefined, undefined, 0n); };
    let src: Target;
    let dst: Target;
    try {
      src = await this.target(ctx, from.dir, true);
      dst = await this.target(ctx, to.dir, true);
    } catch (e) {
      return fail(w, statusOf(e), empty);
    }
    try {
      if (src.exp !== dst.exp) throw new NfsStatusError(Nfsstat3.XDEV);
      this.checkName(from, false);
      this.checkName(to, true);
      if (from.name === '.' || from.name === '..') throw new NfsStatusError(Nfsstat3.INVAL);
      await this.permit(ctx, src, ACCESS3.LOOKUP | ACCESS3.DELETE);
      await this.permit(ctx, dst, ACCESS3.LOOKUP | ACCESS3.MODIFY);
      await src.exp.fs.rename(src.ino, from.name, dst.ino, to.name);
      w.uint32(Nfsstat3.OK);
      writeWcc(w, undefined, await this.attrOrUndefined(src), src.fsid);
      writeWcc(w, undefined, await this.attrOrUndefined(dst), dst.fsid);
      return Nfsstat3.OK;
    } catch (e) {
      const s = await this.statusFor(src, e);
      w.uint32(s);
      writeWcc(w, undefined, await this.attrOrUndefined(src), src.fsid);
      writeWcc(w, undefined, await this.attrOrUndefined(dst), dst.fsid);
      return s;
    }
  }

  /** LINK: objects have one name: NOTSUPP (FSINFO does not announce FSF3_LINK). */
  private async link(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    readDirOpArgs(r);
    return this.withTarget(ctx, fh, true, w, () => { writePostOpAttr(w, undefined, 0n); writeWcc(w, undefined, undefined, 0n); }, async (t) => {
      w.uint32(Nfsstat3.NOTSUPP);
      writePostOpAttr(w, await this.attrOrUndefined(t), t.fsid);
      writeWcc(w, undefined, undefined, t.fsid);
      return Nfsstat3.NOTSUPP;
    }, async (t) => { writePostOpAttr(w, await this.attrOrUndefined(t), t.fsid); writeWcc(w, undefined, undefined, t.fsid); });
  }

  /**
   * READDIR / READDIRPLUS. Cookies encode (bridge page cookie << 16 | entries consumed from
   * it), so they survive a restart of the server; "." and ".." come first from cookie 0. The
   * cookie verifier is fixed per directory (export id + inode): a cookie presented with the
   * verifier of another directory gets BAD_COOKIE.
   */
  private async readdir(ctx: CallContext, r: XdrReader, w: XdrWriter, plus: boolean): Promise<Nfsstat3> {
    const fh = readFh(r);
    const cookie = r.uint64();
    const verf = Buffer.from(r.fixedOpaque(8));
    const dircount = r.uint32();
    const maxcount = plus ? r.uint32() : dircount;
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      const fs = t.exp.fs;
      const dirAttr = await fs.getattr(t.ino);
      if (dirAttr.type !== 'dir') throw new NfsStatusError(Nfsstat3.NOTDIR);
      await this.permit(ctx, t, ACCESS3.READ);
      const myVerf = cookieVerifier(t.exp.id, t.ino);
      if (cookie !== 0n && !verf.equals(Buffer.alloc(8)) && !verf.equals(myVerf)) throw new NfsStatusError(Nfsstat3.BAD_COOKIE);
      let pageStart = Number(cookie >> 16n);
      let consumed = Number(cookie & 0xffffn);
      // Reply budget: maxcount minus the fixed part (status, dir attrs, verifier, eof).
      const budget = maxcount - 120;
      const body = new XdrWriter(Math.min(Math.max(budget, 0) + 512, 1 << 20));
      let used = 0;
      let count = 0;
      let eof = false;
      let parentIno: Ino | undefined;
      const emit = (e: DirEntry, attr: Attr | undefined, nextCookie: bigint): boolean => {
        const nameLen = Buffer.byteLength(e.name);
        const size = 4 + 8 + 4 + ((nameLen + 3) & ~3) + 8 + (plus ? 4 + 84 + 4 + 4 + 28 : 0);
        if (used + size > budget) return false;
        used += size;
        count++;
        body.bool(true).uint64(e.ino).string(e.name).uint64(nextCookie);
        if (plus) {
          writePostOpAttr(body, attr, t.fsid);
          writePostOpFh(body, this.handleOf(t.exp, e.ino));
        }
        return true;
      };
      let full = false;
      if (pageStart === 0 && consumed < 2) {
        if (consumed === 0) {
          if (!emit({ name: '.', ino: t.ino, type: 'dir' }, dirAttr, 1n)) full = true;
          else consumed = 1;
        }
        if (!full) {
          parentIno = await this.parentOf(t).catch(() => t.ino);
          const pAttr = plus ? await this.attrOrUndefined(t, parentIno) : undefined;
          if (!emit({ name: '..', ino: parentIno, type: 'dir' }, pAttr, 2n)) full = true;
          else consumed = 2;
        }
      }
      while (!full) {
        const skip = pageStart === 0 ? consumed - 2 : consumed;
        const want = Math.min(READDIR_PAGE, 0xffff - consumed - 1);
        const page = await fs.readdir(t.ino, pageStart, skip + want, plus);
        const entries = page.entries.slice(skip);
        let i = 0;
        for (; i < entries.length; i++) {
          const e = entries[i]!;
          const lastOfPage = i === entries.length - 1;
          const next = lastOfPage && page.nextCookie !== undefined && !page.eof
            ? BigInt(page.nextCookie) << 16n
            : (BigInt(pageStart) << 16n) | BigInt(consumed + 1);
          let attr = e.attr;
          if (plus && !attr) attr = await fs.getattr(e.ino).catch(() => undefined);
          if (!emit(e, attr, next)) { full = true; break; }
          consumed++;
          if (e.type === 'dir') this.rememberParent(t.exp, e.ino, t.ino);
        }
        if (full) break;
        if (page.eof || page.nextCookie === undefined) { eof = true; break; }
        pageStart = page.nextCookie;
        consumed = 0;
        if (count >= 4096) break;
      }
      if (count === 0 && !eof) throw new NfsStatusError(Nfsstat3.TOOSMALL);
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, dirAttr, t.fsid);
      w.fixedOpaque(myVerf);
      for (const c of body.chunks()) w.fixedOpaque(c);
      w.bool(false).bool(eof);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async fsstat(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      const s = await t.exp.fs.statfs();
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, await this.attrOrUndefined(t), t.fsid);
      w.uint64(s.totalBytes).uint64(s.freeBytes).uint64(s.availBytes).uint64(s.files).uint64(s.freeFiles).uint64(s.freeFiles).uint32(0);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async fsinfo(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, await t.exp.fs.getattr(t.ino), t.fsid);
      w.uint32(MAX_IO_BYTES).uint32(MAX_IO_BYTES).uint32(4096);
      w.uint32(MAX_IO_BYTES).uint32(MAX_IO_BYTES).uint32(4096);
      w.uint32(DIR_PREF_BYTES);
      w.uint64(Number.MAX_SAFE_INTEGER);
      w.uint32(0).uint32(1_000_000); // time_delta: 1 ms
      w.uint32(0x2 | 0x8 | 0x10); // FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  private async pathconf(ctx: CallContext, r: XdrReader, w: XdrWriter): Promise<Nfsstat3> {
    const fh = readFh(r);
    return this.withTarget(ctx, fh, false, w, () => writePostOpAttr(w, undefined, 0n), async (t) => {
      w.uint32(Nfsstat3.OK);
      writePostOpAttr(w, await t.exp.fs.getattr(t.ino), t.fsid);
      w.uint32(1).uint32(NAME_MAX).bool(true).bool(true).bool(false).bool(true);
      return Nfsstat3.OK;
    }, (t) => this.attrOrUndefined(t).then((a) => writePostOpAttr(w, a, t.fsid)));
  }

  /**
   * Runs `op` on the handle's target. A failure to resolve the handle writes the status and
   * `noTarget` (empty attributes); a failure of `op` writes its status and `onFail`'s attributes.
   */
  private async withTarget(ctx: CallContext, fh: Buffer, write: boolean, w: XdrWriter, noTarget: (s: Nfsstat3) => void, op: (t: Target) => Promise<Nfsstat3>, onFail: (t: Target) => Promise<void>): Promise<Nfsstat3> {
    let t: Target;
    try {
      t = await this.target(ctx, fh, write);
    } catch (e) {
      const s = statusOf(e);
      w.uint32(s);
      noTarget(s);
      return s;
    }
    const mark = w.length;
    try {
      return await op(t);
    } catch (e) {
      if (w.length !== mark) throw e; // never a half-written reply: SYSTEM_ERR instead
      const s = await this.statusFor(t, e);
      w.uint32(s);
      await onFail(t);
      return s;
    }
  }
}

function fail(w: XdrWriter, s: Nfsstat3, tail?: () => void): Nfsstat3 {
  w.uint32(s);
  tail?.();
  return s;
}

function ownerOf(ctx: CallContext, s: { uid?: number; gid?: number }): { uid: number; gid: number } | undefined {
  const a = ctx.call.authSys;
  if (s.uid !== undefined || s.gid !== undefined) return { uid: s.uid ?? a?.uid ?? 0, gid: s.gid ?? a?.gid ?? 0 };
  return a ? { uid: a.uid, gid: a.gid } : undefined;
}

/** The ACCESS3 bits the Unix mode grants to uid/gids (root: all but execute without any x bit). */
export function grantedAccess(a: Attr, uid: number, gids: number[]): number {
  const isDir = a.type === 'dir';
  const all = ACCESS3.READ | ACCESS3.LOOKUP | ACCESS3.MODIFY | ACCESS3.EXTEND | ACCESS3.DELETE | ACCESS3.EXECUTE;
  if (uid === 0) return (a.mode & 0o111) || isDir ? all : all & ~ACCESS3.EXECUTE;
  const bits = uid === a.uid ? (a.mode >> 6) & 7 : gids.includes(a.gid) ? (a.mode >> 3) & 7 : a.mode & 7;
  let g = 0;
  if (bits & 4) g |= ACCESS3.READ;
  if (bits & 2) g |= ACCESS3.MODIFY | ACCESS3.EXTEND | (isDir ? ACCESS3.DELETE : 0);
  if (bits & 1) g |= isDir ? ACCESS3.LOOKUP : ACCESS3.EXECUTE;
  return g;
}

/** Cookie verifier of a directory: stable across restarts, different between directories. */
export function cookieVerifier(exportId: string, ino: Ino): Buffer {
  return crypto.createHash('sha256').update(`${exportId}:${ino}`).digest().subarray(0, 8);
}
