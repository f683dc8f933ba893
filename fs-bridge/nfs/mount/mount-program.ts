/**
 * @module fs-bridge/nfs/mount/mount-program
 * MOUNT v3 (RFC 1813 appendix I, program 100005): NULL, MNT, DUMP, UMNT, UMNTALL, EXPORT.
 * MNT accepts an export (`/<container>`) or any directory below it (libnfs tools mount the
 * parent folder of each file) and answers its handle; the client's address must be allowed
 * by the export. Served on the NFS port.
 */
import { isNotFound } from '../../../appliance/common';
import { ROOT_INO } from '../../core/types';
import { clientAllowed, type NfsExport } from '../exports';
import type { ExportTable } from '../export-table';
import { encodeHandle, GENERATION } from '../file-handle';
import { AUTH_NONE, AUTH_SYS, ProcUnavailError, type CallContext, type RpcProgram } from '../rpc';
import type { XdrWriter } from '../xdr';

export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;
export const MNTPATHLEN = 1024;

export const enum MountProc { NULL = 0, MNT = 1, DUMP = 2, UMNT = 3, UMNTALL = 4, EXPORT = 5 }

export const enum Mountstat3 {
  OK = 0, PERM = 1, NOENT = 2, IO = 5, ACCES = 13, NOTDIR = 20, INVAL = 22, NAMETOOLONG = 63, NOTSUPP = 10004, SERVERFAULT = 10006,
}

export class MountProgram implements RpcProgram {
  readonly prog = MOUNT_PROGRAM;
  readonly lowVersion = 1;
  readonly highVersion = MOUNT_V3;
  /** "host path" of the clients that mounted (DUMP) */
  private readonly mounts = new Set<string>();

  constructor(private readonly exports: ExportTable) {}

  async handle(ctx: CallContext, w: XdrWriter): Promise<void> {
    const r = ctx.call.args;
    if (ctx.call.vers !== MOUNT_V3 && ctx.call.proc !== MountProc.NULL && ctx.call.proc !== MountProc.EXPORT) throw new ProcUnavailError(ctx.call.proc);
    switch (ctx.call.proc) {
      case MountProc.NULL: return;
      case MountProc.MNT: {
        const path = r.string(MNTPATHLEN);
        const res = await this.mnt(ctx, path);
        w.uint32(res.status);
        if (res.status === Mountstat3.OK) {
          w.opaque(res.fh!);
          w.uint32(2).uint32(AUTH_SYS).uint32(AUTH_NONE);
          this.mounts.add(`${ctx.remoteAddress} ${normalizePath(path)}`);
        }
        return;
      }
      case MountProc.DUMP:
        for (const m of this.mounts) {
          const i = m.indexOf(' ');
          w.bool(true).string(m.slice(0, i)).string(m.slice(i + 1));
        }
        w.bool(false);
        return;
      case MountProc.UMNT: {
        const path = r.string(MNTPATHLEN);
        this.mounts.delete(`${ctx.remoteAddress} ${normalizePath(path)}`);
        return;
      }
      case MountProc.UMNTALL:
        for (const m of [...this.mounts]) if (m.startsWith(`${ctx.remoteAddress} `)) this.mounts.delete(m);
        return;
      case MountProc.EXPORT:
        for (const e of await this.exports.all()) {
          w.bool(true).string(e.path);
          for (const c of e.clients) w.bool(true).string(c);
          w.bool(false);
        }
        w.bool(false);
        return;
      default:
        throw new ProcUnavailError(ctx.call.proc);
    }
  }

  /** Resolves `/<container>[/sub/dir]` to a directory handle. */
  async mnt(ctx: Pick<CallContext, 'remoteAddress'>, rawPath: string): Promise<{ status: Mountstat3; fh?: Buffer; exp?: NfsExport }> {
    if (Buffer.byteLength(rawPath) > MNTPATHLEN) return { status: Mountstat3.NAMETOOLONG };
    if (rawPath.includes('\0')) return { status: Mountstat3.INVAL };
    const parts = normalizePath(rawPath).split('/').filter(Boolean);
    if (parts.some((p) => p === '..' || p === '.')) return { status: Mountstat3.ACCES };
    const [container, ...rest] = parts;
    if (!container) return { status: Mountstat3.ACCES };
    let exp: NfsExport | undefined;
    try {
      exp = await this.exports.byName(container);
    } catch {
      return { status: Mountstat3.SERVERFAULT };
    }
    if (!exp) return { status: Mountstat3.NOENT };
    if (!clientAllowed(exp, ctx.remoteAddress)) return { status: Mountstat3.ACCES };
    let ino = ROOT_INO;
    try {
      for (const name of rest) {
        if (Buffer.byteLength(name) > 255) return { status: Mountstat3.NAMETOOLONG };
        const a = await exp.fs.lookup(ino, name);
        if (a.type !== 'dir') return { status: Mountstat3.NOTDIR };
        ino = a.ino;
      }
    } catch (e) {
      return { status: isNotFound(e) ? Mountstat3.NOENT : Mountstat3.SERVERFAULT };
    }
    return { status: Mountstat3.OK, fh: encodeHandle({ exportId: exp.id, ino, generation: GENERATION }), exp };
  }
}

/** Collapses repeated slashes and a trailing slash. */
function normalizePath(p: string): string {
  const s = '/' + p.split('/').filter(Boolean).join('/');
  return s;
}
