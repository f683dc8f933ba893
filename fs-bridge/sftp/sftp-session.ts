/**
 * @module fs-bridge/sftp/sftp-session
 * One SFTP v3 session on a bridge: every request of ssh2's server SFTP stream answered from
 * BridgeFs (paths from '/', the bridge's root: an account's containers at the top level).
 * Handles are small numbers of this session; reads go through the bridge's ranged reads and
 * read-ahead, writes into its spool (committed as a new object version when the handle is
 * closed, and the CLOSE reply waits for that commit, so a client sees upload errors). No
 * file is ever held whole in memory. Open handles are released when the channel ends.
 */
import type { EventEmitter } from 'node:events';
import { InvalidArgumentError, OioError, toOioError, type Logger } from '../../appliance/common';
import { BridgePaths, normalizePath, stModeOf, type Attr, type BridgeFs, type Ino, type SetAttr } from '../core';
import { longName } from './long-name';
import { sftpStatusOf } from './status';
import { OPEN_FLAG, SftpStatus, asSftpWire, sendExitStatus, type SftpWire, type WireAttrs, type WireName } from './wire';

/** Largest READ answered (OpenSSH asks for 32 KiB to 256 KiB). */
const MAX_READ_BYTES = 256 * 1024;
/** Entries per READDIR reply. */
const DIR_PAGE = 100;

interface FileHandle {
  kind: 'file';
  ino: Ino;
  path: string;
  canRead: boolean;
  canWrite: boolean;
  append: boolean;
  /** requests in flight on this handle (CLOSE waits for them) */
  pending: Set<Promise<unknown>>;
}

interface DirHandle {
  kind: 'dir';
  ino: Ino;
  path: string;
  cookie: number;
  done: boolean;
  pending: Set<Promise<unknown>>;
}

type Handle = FileHandle | DirHandle;

export interface SftpSessionOptions {
  bridge: BridgeFs;
  log?: Logger;
  /** open handles allowed at once (FAILURE beyond) */
  maxHandles?: number;
}

/** Bytes moved by a session (logged when it ends). */
export interface SftpCounters { bytesRead: number; bytesWritten: number; requests: number; errors: number }

/** Wire attributes of a bridge attribute record. */
export function wireAttrsOf(a: Attr): WireAttrs {
  return { mode: stModeOf(a), size: a.size, uid: a.uid, gid: a.gid, atime: Math.floor(a.atimeMs / 1000), mtime: Math.floor(a.mtimeMs / 1000) };
}

/** Bridge changes asked by wire attributes (only the fields present). */
export function setAttrOf(w: WireAttrs): SetAttr {
  const s: SetAttr = {};
  if (typeof w.size === 'number') s.size = w.size;
  if (typeof w.mode === 'number') s.mode = w.mode & 0o7777;
  if (typeof w.uid === 'number' && typeof w.gid === 'number') { s.uid = w.uid; s.gid = w.gid; }
  if (typeof w.atime === 'number' && typeof w.mtime === 'number') { s.atimeMs = w.atime * 1000; s.mtimeMs = w.mtime * 1000; }
  return s;
}

/**
 * Serves one SFTP channel until it ends; resolves then, with the session's counters, once
 * every handle left open has been released (committed).
 */
export function serveSftp(stream: EventEmitter, opts: SftpSessionOptions): Promise<SftpCounters> {
  return new SftpSession(asSftpWire(stream), opts).run();
}

class SftpSession {
  private readonly fs: BridgeFs;
  private readonly paths: BridgePaths;
  private readonly handles = new Map<number, Handle>();
  /** request ids in arrival order, and replies ready to go (sent in that order) */
  private readonly order: number[] = [];
  private readonly ready = new Map<number, () => void>();
  private nextHandle = 1;
  private readonly maxHandles: number;
  private readonly counters: SftpCounters = { bytesRead: 0, bytesWritten: 0, requests: 0, errors: 0 };

  constructor(private readonly wire: SftpWire, private readonly opts: SftpSessionOptions) {
    this.fs = opts.bridge;
    this.paths = new BridgePaths(opts.bridge);
    this.maxHandles = opts.maxHandles ?? 256;
  }

  run(): Promise<SftpCounters> {
    const w = this.wire;
    w.on('OPEN', (id, filename, flags, attrs) => this.answer(id, 'OPEN', () => this.open(id, filename, flags, attrs)));
    w.on('READ', (id, h, offset, length) => this.onHandle(id, 'READ', h, (hd) => this.read(id, hd, offset, length)));
    w.on('WRITE', (id, h, offset, data) => this.onHandle(id, 'WRITE', h, (hd) => this.write(id, hd, offset, Buffer.from(data))));
    w.on('CLOSE', (id, h) => this.answer(id, 'CLOSE', () => this.close(id, h)));
    w.on('FSTAT', (id, h) => this.onHandle(id, 'FSTAT', h, async (hd) => {
      const a = await this.fs.getattr(hd.ino);
      this.reply(id, () => w.attrs(id, wireAttrsOf(a)));
    }));
    w.on('FSETSTAT', (id, h, attrs) => this.onHandle(id, 'FSETSTAT', h, async (hd) => { await this.fs.setattr(hd.ino, setAttrOf(attrs)); this.ok(id); }));
    w.on('STAT', (id, p) => this.answer(id, 'STAT', async () => { const a = (await this.paths.follow(normalizePath(p))).attr; this.reply(id, () => w.attrs(id, wireAttrsOf(a))); }));
    w.on('LSTAT', (id, p) => this.answer(id, 'LSTAT', async () => { const a = await this.paths.resolve(normalizePath(p)); this.reply(id, () => w.attrs(id, wireAttrsOf(a))); }));
    w.on('SETSTAT', (id, p, attrs) => this.answer(id, 'SETSTAT', async () => {
      await this.fs.setattr((await this.paths.follow(normalizePath(p))).attr.ino, setAttrOf(attrs));
      this.ok(id);
    }));
    w.on('OPENDIR', (id, p) => this.answer(id, 'OPENDIR', () => this.opendir(id, p)));
    w.on('READDIR', (id, h) => this.onHandle(id, 'READDIR', h, (hd) => this.readdir(id, hd)));
    w.on('REMOVE', (id, p) => this.answer(id, 'REMOVE', () => this.remove(id, p)));
    w.on('MKDIR', (id, p, attrs) => this.answer(id, 'MKDIR', async () => {
      const { parent, name } = await this.paths.parentOf(normalizePath(p));
      await this.fs.mkdir(parent, name, typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : 0o755);
      this.ok(id);
    }));
    w.on('RMDIR', (id, p) => this.answer(id, 'RMDIR', async () => {
      const { parent, name } = await this.paths.parentOf(normalizePath(p));
      await this.fs.rmdir(parent, name);
      this.ok(id);
    }));
    w.on('REALPATH', (id, p) => this.answer(id, 'REALPATH', async () => {
      const abs = normalizePath(p);
      this.reply(id, () => w.name(id, [{ filename: abs, longname: abs, attrs: {} }]));
    }));
    w.on('RENAME', (id, from, to) => this.answer(id, 'RENAME', () => this.rename(id, from, to)));
    w.on('READLINK', (id, p) => this.answer(id, 'READLINK', async () => {
      const target = await this.fs.readlink((await this.paths.resolve(normalizePath(p))).ino);
      this.reply(id, () => w.name(id, [{ filename: target, longname: target, attrs: {} }]));
    }));
    w.on('SYMLINK', (id, linkPath, targetPath) => this.answer(id, 'SYMLINK', async () => {
      const { parent, name } = await this.paths.parentOf(normalizePath(linkPath));
      await this.fs.symlink(parent, name, targetPath);
      this.ok(id);
    }));
    w.on('EXTENDED', (id, name) => {
      this.opts.log?.debug('sftp extension refused', { name });
      this.order.push(id);
      this.reply(id, () => w.status(id, SftpStatus.OP_UNSUPPORTED, `${name} is not supported`));
    });
    w.on('error', (e) => this.opts.log?.debug('sftp stream error', { err: e.message }));
    return new Promise((resolve) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        // The client's EOF ends the session (OpenSSH's sftp-server exits): pending files are
        // committed, then the channel is closed so the client can leave.
        void this.releaseAll().then(() => {
          this.send(() => { sendExitStatus(w, 0); w.end(); });
          resolve(this.counters);
        });
      };
      w.on('end', end);
      w.on('close', end);
    });
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Replies are sent even when the channel is closing (ssh2 buffers or drops them). */
  private send(fn: () => void): void {
    try { fn(); } catch (e) { this.opts.log?.debug('sftp reply dropped', { err: (e as Error).message }); }
  }

  private ok(id: number): void { this.reply(id, () => this.wire.status(id, SftpStatus.OK)); }

  /**
   * Replies leave in the order the requests came, though requests run concurrently: OpenSSH's
   * client tracks the highest contiguous acknowledged write and truncates an upload there
   * when acknowledgements come out of order ("lost contiguity").
   */
  private reply(id: number, fn: () => void): void {
    this.ready.set(id, fn);
    while (this.order.length > 0 && this.ready.has(this.order[0]!)) {
      const head = this.order.shift()!;
      const send = this.ready.get(head)!;
      this.ready.delete(head);
      this.send(send);
    }
  }

  /** Runs one request; any error becomes its status reply (the SFTP column of the error table). */
  private answer(id: number, op: string, fn: () => Promise<void>): Promise<void> {
    this.counters.requests++;
    this.order.push(id);
    return fn().catch((e: unknown) => {
      this.counters.errors++;
      const err = toOioError(e);
      const s = sftpStatusOf(err);
      if (err.code === 'INTERNAL') this.opts.log?.error('sftp request failed', { op, err: (err.cause as Error) ?? err });
      else this.opts.log?.debug('sftp request refused', { op, code: err.code, reason: err.message });
      this.reply(id, () => this.wire.status(id, s.code, s.message));
    });
  }

  private handleOf(h: Buffer): Handle | undefined {
    return h.length === 4 ? this.handles.get(h.readUInt32BE(0)) : undefined;
  }

  private onHandle(id: number, op: string, h: Buffer, fn: (hd: Handle) => Promise<void>): void {
    const hd = this.handleOf(h);
    if (!hd) {
      this.counters.requests++;
      this.counters.errors++;
      this.order.push(id);
      this.reply(id, () => this.wire.status(id, SftpStatus.FAILURE, 'invalid handle'));
      return;
    }
    const p = this.answer(id, op, () => fn(hd));
    hd.pending.add(p);
    void p.finally(() => hd.pending.delete(p));
  }

  private addHandle(hd: Handle): Buffer {
    if (this.handles.size >= this.maxHandles) throw new OioError('EXCESSIVE_LOAD', `too many open handles (${this.maxHandles})`);
    const n = this.nextHandle++;
    this.handles.set(n, hd);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0, 0);
    return b;
  }

  // ---- files ------------------------------------------------------------------------------

  private async open(id: number, filename: string, flags: number, attrs: WireAttrs): Promise<void> {
    let abs = normalizePath(filename);
    const canWrite = (flags & (OPEN_FLAG.WRITE | OPEN_FLAG.APPEND)) !== 0;
    const canRead = (flags & OPEN_FLAG.READ) !== 0 || !canWrite;
    let a = await this.paths.find(abs);
    if (a?.type === 'symlink') {
      const f = await this.paths.follow(abs).catch(() => undefined);
      if (f) ({ abs, attr: a } = f);
      else throw new InvalidArgumentError('BAD_REQUEST', 'dangling symbolic link');
    }
    if (a && (flags & OPEN_FLAG.CREAT) && (flags & OPEN_FLAG.EXCL)) throw new OioError('CONTENT_EXISTS', 'file exists');
    if (!a) {
      if (!(flags & OPEN_FLAG.CREAT)) throw new OioError('CONTENT_NOT_FOUND', 'no such file');
      const { parent, name } = await this.paths.parentOf(abs);
      a = await this.fs.create(parent, name, typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : 0o644, { exclusive: (flags & OPEN_FLAG.EXCL) !== 0 });
    }
    if (a.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    await this.fs.open(a.ino);
    try {
      if (canWrite && (flags & OPEN_FLAG.TRUNC) && a.size > 0) await this.fs.setattr(a.ino, { size: 0 });
      const h = this.addHandle({ kind: 'file', ino: a.ino, path: abs, canRead, canWrite, append: (flags & OPEN_FLAG.APPEND) !== 0, pending: new Set() });
      this.opts.log?.debug('sftp open', { path: abs, flags });
      this.reply(id, () => this.wire.handle(id, h));
    } catch (e) {
      await this.fs.release(a.ino).catch(() => undefined);
      throw e;
    }
  }

  private async read(id: number, hd: Handle, offset: number, length: number): Promise<void> {
    if (hd.kind !== 'file') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    if (!hd.canRead) throw new OioError('NOT_ALLOWED', 'handle not open for reading');
    const buf = await this.fs.read(hd.ino, offset, Math.min(length, MAX_READ_BYTES));
    if (buf.length === 0) { this.reply(id, () => this.wire.status(id, SftpStatus.EOF)); return; }
    this.counters.bytesRead += buf.length;
    this.reply(id, () => this.wire.data(id, buf));
  }

  private async write(id: number, hd: Handle, offset: number, data: Buffer): Promise<void> {
    if (hd.kind !== 'file') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    if (!hd.canWrite) throw new OioError('NOT_ALLOWED', 'handle not open for writing');
    // O_APPEND: every write goes to the end, whatever offset the client sent.
    const at = hd.append ? (await this.fs.getattr(hd.ino)).size : offset;
    await this.fs.write(hd.ino, at, data);
    this.counters.bytesWritten += data.length;
    this.ok(id);
  }

  private async close(id: number, h: Buffer): Promise<void> {
    const hd = this.handleOf(h);
    if (!hd) throw new InvalidArgumentError('BAD_REQUEST', 'invalid handle');
    this.handles.delete(h.readUInt32BE(0));
    await Promise.allSettled([...hd.pending]);
    // The last release of a written file commits it: the reply waits, so errors reach the client.
    if (hd.kind === 'file') await this.fs.release(hd.ino);
    this.ok(id);
  }

  private async releaseAll(): Promise<void> {
    const open = [...this.handles.values()];
    this.handles.clear();
    for (const hd of open) {
      await Promise.allSettled([...hd.pending]);
      if (hd.kind === 'file') {
        await this.fs.release(hd.ino).catch((e: unknown) => this.opts.log?.warn('sftp release at end of session failed', { path: hd.path, err: toOioError(e) }));
      }
    }
  }

  // ---- directories and names --------------------------------------------------------------

  private async opendir(id: number, p: string): Promise<void> {
    const { abs, attr } = await this.paths.follow(normalizePath(p));
    if (attr.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    const h = this.addHandle({ kind: 'dir', ino: attr.ino, path: abs, cookie: 0, done: false, pending: new Set() });
    this.reply(id, () => this.wire.handle(id, h));
  }

  private async readdir(id: number, hd: Handle): Promise<void> {
    if (hd.kind !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    const names: WireName[] = [];
    while (!hd.done && names.length === 0) {
      const page = await this.fs.readdir(hd.ino, hd.cookie, DIR_PAGE, true);
      for (const e of page.entries) {
        const a = e.attr ?? await this.fs.getattr(e.ino).catch(() => undefined);
        if (!a) continue; // gone since the listing
        names.push({ filename: e.name, longname: longName(a, e.name), attrs: wireAttrsOf(a) });
      }
      if (page.eof || page.nextCookie === undefined) hd.done = true;
      else hd.cookie = page.nextCookie;
    }
    if (names.length === 0) { this.reply(id, () => this.wire.status(id, SftpStatus.EOF)); return; }
    this.reply(id, () => this.wire.name(id, names));
  }

  private async remove(id: number, p: string): Promise<void> {
    const abs = normalizePath(p);
    const a = await this.paths.resolve(abs);
    if (a.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    const { parent, name } = await this.paths.parentOf(abs);
    await this.fs.unlink(parent, name);
    this.ok(id);
  }

  /** SFTP v3 RENAME does not replace an existing target (OpenSSH's sftp-server refuses too). */
  private async rename(id: number, from: string, to: string): Promise<void> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    await this.paths.resolve(src);
    if (await this.paths.find(dst)) throw new OioError('CONTENT_EXISTS', 'the target exists');
    const f = await this.paths.parentOf(src);
    const t = await this.paths.parentOf(dst);
    await this.fs.rename(f.parent, f.name, t.parent, t.name);
    this.ok(id);
  }
}
