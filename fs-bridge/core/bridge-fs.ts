/**
 * @module fs-bridge/core/bridge-fs
 * The bridge layer: `createBridgeFs()` implements the BridgeFs contract over the client
 * library. It owns the mapping of paths onto objects (path-map), the permanent inodes
 * (inode-table), the write spool (spool: in memory for a small file, else a file; committed
 * as a new version by flush), the read-ahead of clean files (ranged GETs, one small buffer
 * per inode, the next window fetched while the current one is served) and the short
 * attribute/entry caches that bound how long a change made through S3 stays invisible
 * (`attrTtlMs`, default 1 s). Optionally, directory markers and attributes are written in
 * the background (`dirWriteDelayMs`, the FUSE mount).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidArgumentError, OioError, isNotFound, isReservedName, randomHex, type Logger } from '../../appliance/common';
import type { ContentInfo } from '../../appliance/common/model';
import type { ObjectStorage } from '../../appliance/client/object-storage';
import { InodeTable, type Loc } from './inode-table';
import { withRetry } from './retry';
import { NAME_MAX, attrProps, checkName, childPath, dirPrefix, markerOf, propAttrs, splitPath } from './path-map';
import { Spool, type SpoolBudget } from './spool';
import { ROOT_INO, type Attr, type BridgeFs, type DirEntry, type FileType, type Ino, type ReaddirPage, type SetAttr, type StatFs } from './types';

export interface BridgeFsOptions {
  storage: ObjectStorage;
  /** one container as the root; absent: the whole account (top level lists containers) */
  container?: string;
  /** where the inode base lives (kept across restarts) */
  stateDir: string;
  /**
   * where writes are spooled before their commit; the bridge owns it: spool files a dead
   * process left there (files it never committed) are removed when the bridge starts
   */
  spoolDir: string;
  /** attribute and entry cache lifetime: bound on the staleness of changes made elsewhere */
  attrTtlMs?: number;
  /** an unopened dirty file (NFS writes, truncate) is committed after this idle time */
  idleFlushMs?: number;
  /**
   * a directory this bridge just made is known empty of names it has not seen for this long
   * (lookups of new names under it need no request: untar); also the staleness bound for an
   * object written through S3 into such a directory
   */
  freshDirMs?: number;
  /** largest read-ahead window */
  readAheadMaxBytes?: number;
  /** memory for the spools of small files being written (default 16 MiB; beyond, spool files) */
  spoolMemoryBytes?: number;
  /** owner of objects that carry none */
  uid?: number;
  gid?: number;
  /** nominal capacity reported by statfs (the grid reports free space in percent) */
  capacityBytes?: number;
  /**
   * mkdir and a directory's attribute changes are written this long after the last change,
   * in the background (tar makes a directory, then sets its owner, mode and times one call at
   * a time; each was a wait for the grid). Until written, this bridge shows them from memory;
   * rmdir, rename, flush and close write them first. Absent: written before the call returns.
   */
  dirWriteDelayMs?: number;
  log?: Logger;
}

/** BridgeFs plus its lifecycle. */
export interface LocalBridgeFs extends BridgeFs {
  /** commits every dirty file, drops the spool and closes the inode base */
  close(): Promise<void>;
  /** the root this bridge shows */
  readonly root: Loc;
}

interface CachedAttr { attr: Attr; exp: number; version?: number; symlink?: string }

interface OpenFile {
  ino: Ino;
  loc: Loc;
  refs: number;
  /** the object exists in the grid (at `loc`) */
  committed: boolean;
  /** spooled bytes not committed yet */
  dirty: boolean;
  /** attribute changes not committed yet */
  attrsDirty: boolean;
  /** bumped by every write, so a flush knows whether writes came during its upload */
  gen: number;
  size: number;
  attrs: { mode: number; uid: number; gid: number; mtimeMs: number; atimeMs: number; ctimeMs: number };
  /** the local copy of the bytes, once the file is written (or truncated) */
  spool?: Spool;
  spooling?: Promise<void>;
  flushing?: Promise<void>;
  idle?: NodeJS.Timeout;
  unlinked: boolean;
}

/** Whether an open file has bytes not stored yet (being spooled, spooled, or never committed): they are read from its spool. */
function unsaved(f: OpenFile | undefined): f is OpenFile {
  return f !== undefined && (f.spool !== undefined || f.spooling !== undefined || !f.committed);
}

/** A directory whose marker (mkdir) or attributes are not written yet (`dirWriteDelayMs`). */
interface PendingDir {
  ino: Ino;
  loc: Loc;
  /** what this bridge shows until the write */
  attr: Attr;
  /** the marker object does not exist yet */
  create: boolean;
  /** changed since the last write began */
  dirty: boolean;
  timer?: NodeJS.Timeout;
  writing?: Promise<void>;
}

interface ReadAhead { version: number; start: number; buf: Rope; window: number; next?: { start: number; p: Promise<Rope> } }

/**
 * The bytes of a read-ahead window as the buffers they arrived in: joining a window of up
 * to `raMax` into one buffer cost a copy of every byte into freshly faulted memory (most of
 * the CPU of a sequential NFS read); a read copies its own range out instead.
 */
class Rope {
  readonly length: number;
  private readonly offsets: number[] = [];

  constructor(private readonly parts: Buffer[]) {
    let n = 0;
    for (const b of parts) { this.offsets.push(n); n += b.length; }
    this.length = n;
  }

  /** A new buffer with bytes [from, to) (clamped to the rope). */
  copyOut(from: number, to: number): Buffer {
    const a = Math.max(0, from);
    const b = Math.min(this.length, to);
    const out = Buffer.allocUnsafe(Math.max(0, b - a));
    if (b <= a) return out;
    // The last part starting at or before `a`.
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= a) lo = mid; else hi = mid - 1;
    }
    let written = 0;
    for (let i = lo; i < this.parts.length && a + written < b; i++) {
      const part = this.parts[i]!;
      const off = this.offsets[i]!;
      const s = Math.max(0, a + written - off);
      const e = Math.min(part.length, b - off);
      if (e > s) written += part.copy(out, written, s, e);
    }
    return out;
  }
}

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

const sameLoc = (a: Loc, b: Loc) => a.ctr === b.ctr && a.path === b.path;
/**
 * Files up to this size are spooled in memory (within the bridge's budget) and uploaded from
 * a buffer; larger ones are spooled to a file and streamed from it.
 */
const SMALL_UPLOAD_BYTES = 1024 * 1024;

/** The name of a spool file: the inode and a random suffix. */
const SPOOL_NAME = /^\d+-[0-9a-f]{12}$/;

/** Creates the bridge over one container or a whole account. */
export function createBridgeFs(opts: BridgeFsOptions): LocalBridgeFs {
  return new Bridge(opts);
}

class Bridge implements LocalBridgeFs {
  readonly root: Loc;
  private readonly s: ObjectStorage;
  private readonly table: InodeTable;
  private readonly ttl: number;
  private readonly idleMs: number;
  private readonly raMax: number;
  private readonly uid: number;
  private readonly gid: number;
  private readonly started = Date.now();
  private readonly attrs = new Map<Ino, CachedAttr>();
  private readonly absent = new Map<string, number>();
  private readonly fresh = new Map<string, number>();
  private readonly freshMs: number;
  private readonly files = new Map<Ino, OpenFile>();
  private readonly dirs = new Map<Ino, PendingDir>();
  private readonly ra = new Map<Ino, ReadAhead>();
  private readonly readQueue = new Map<Ino, Promise<Buffer>>();
  private readonly cookies = new Map<number, string>();
  private statCache?: { v: StatFs; exp: number };
  private closed = false;
  private readonly spoolBudget: SpoolBudget;

  constructor(private readonly opts: BridgeFsOptions) {
    this.s = withRetry(opts.storage);
    this.root = { ctr: opts.container ?? '', path: '' };
    const id = createHash('sha1').update(`${opts.storage.account}/${opts.container ?? ''}`).digest('hex').slice(0, 16);
    this.table = new InodeTable(path.join(opts.stateDir, `inodes-${id}.db`), this.root);
    fs.mkdirSync(opts.spoolDir, { recursive: true });
    for (const name of fs.readdirSync(opts.spoolDir)) {
      if (SPOOL_NAME.test(name)) fs.rmSync(path.join(opts.spoolDir, name), { force: true });
    }
    this.ttl = opts.attrTtlMs ?? 1000;
    this.idleMs = opts.idleFlushMs ?? 3000;
    this.freshMs = opts.freshDirMs ?? 5000;
    this.raMax = opts.readAheadMaxBytes ?? 32 * 1024 * 1024;
    this.uid = opts.uid ?? process.getuid?.() ?? 0;
    this.gid = opts.gid ?? process.getgid?.() ?? 0;
    this.spoolBudget = { used: 0, max: opts.spoolMemoryBytes ?? 16 * 1024 * 1024 };
  }

  // ---- locations --------------------------------------------------------------------------

  private locOf(ino: Ino): Loc {
    const loc = this.table.locOf(ino);
    if (!loc) throw new OioError('CONTENT_NOT_FOUND', `stale inode ${ino}`);
    return loc;
  }

  private childLoc(parent: Loc, name: string): Loc {
    checkName(name);
    if (parent.ctr === '') return { ctr: name, path: '' };
    return { ctr: parent.ctr, path: childPath(parent.path, name) };
  }

  private isAccountRoot(loc: Loc): boolean { return loc.ctr === ''; }
  private isContainerTop(loc: Loc): boolean { return loc.ctr !== '' && loc.path === ''; }

  private invalidate(ino: Ino | undefined): void {
    if (ino === undefined) return;
    this.attrs.delete(ino);
    this.ra.delete(ino);
  }

  // ---- attributes -------------------------------------------------------------------------

  private dirAttr(ino: Ino, props?: Record<string, string>, mtime?: number): Attr {
    const p = propAttrs(props);
    const m = p.mtimeMs ?? mtime ?? this.started;
    return { ino, type: 'dir', mode: p.mode ?? DIR_MODE, uid: p.uid ?? this.uid, gid: p.gid ?? this.gid, size: 4096, nlink: 2, atimeMs: p.atimeMs ?? m, mtimeMs: m, ctimeMs: mtime ?? m };
  }

  private contentAttr(ino: Ino, c: ContentInfo): CachedAttr {
    const p = propAttrs(c.properties);
    const type: FileType = p.symlink !== undefined ? 'symlink' : 'file';
    const m = p.mtimeMs ?? c.mtime;
    const attr: Attr = {
      ino, type, mode: p.mode ?? (type === 'symlink' ? 0o777 : FILE_MODE), uid: p.uid ?? this.uid, gid: p.gid ?? this.gid,
      size: c.size, nlink: 1, atimeMs: p.atimeMs ?? m, mtimeMs: m, ctimeMs: c.mtime,
    };
    return { attr, exp: Date.now() + this.ttl, version: c.version, symlink: p.symlink };
  }

  private openAttr(f: OpenFile): Attr {
    return { ino: f.ino, type: 'file', mode: f.attrs.mode, uid: f.attrs.uid, gid: f.attrs.gid, size: f.size, nlink: 1, atimeMs: f.attrs.atimeMs, mtimeMs: f.attrs.mtimeMs, ctimeMs: f.attrs.ctimeMs };
  }

  /** Asks the grid what lives at `loc` (no cache). */
  private async fetch(loc: Loc, ino: Ino): Promise<CachedAttr> {
    const exp = Date.now() + this.ttl;
    if (this.isAccountRoot(loc)) return { attr: this.dirAttr(ino), exp };
    if (this.isContainerTop(loc)) {
      if (ino === ROOT_INO) return { attr: this.dirAttr(ino), exp };
      const c = await this.s.containerShow(loc.ctr);
      return { attr: this.dirAttr(ino, c.properties, c.mtime), exp };
    }
    const [head, list] = await Promise.allSettled([
      this.s.objectHead(loc.ctr, loc.path),
      this.s.objectList(loc.ctr, { prefix: `${loc.path}/`, limit: 1 }),
    ]);
    if (head.status === 'fulfilled') return this.contentAttr(ino, head.value);
    if (!isNotFound(head.reason)) throw head.reason;
    if (list.status === 'rejected') throw list.reason;
    const first = list.value.objects[0];
    if (first && first.name === markerOf(loc.path)) return { attr: this.dirAttr(ino, first.properties, first.mtime), exp };
    if (first || list.value.prefixes.length > 0) return { attr: this.dirAttr(ino), exp };
    throw new OioError('CONTENT_NOT_FOUND', 'no such file or directory');
  }

  private async attrOf(ino: Ino, loc: Loc): Promise<CachedAttr> {
    const f = this.files.get(ino);
    if (f) return { attr: this.openAttr(f), exp: 0 };
    const d = this.dirs.get(ino);
    if (d) return { attr: d.attr, exp: 0 };
    const c = this.attrs.get(ino);
    if (c && c.exp > Date.now()) return c;
    try {
      const got = await this.fetch(loc, ino);
      this.attrs.set(ino, got);
      return got;
    } catch (e) {
      this.attrs.delete(ino);
      throw e;
    }
  }

  async getattr(ino: Ino): Promise<Attr> {
    const f = this.files.get(ino);
    if (f) return this.openAttr(f);
    return (await this.attrOf(ino, this.locOf(ino))).attr;
  }

  async lookup(parent: Ino, name: string): Promise<Attr> {
    const ploc = this.locOf(parent);
    const loc = this.childLoc(ploc, name);
    const known = this.table.find(loc);
    if (known !== undefined) {
      const f = this.files.get(known);
      if (f && !f.unlinked) return this.openAttr(f);
      const d = this.dirs.get(known);
      if (d) return d.attr;
      const c = this.attrs.get(known);
      if (c && c.exp > Date.now()) return c.attr;
    }
    const k = `${loc.ctr}\0${loc.path}`;
    const neg = this.absent.get(k);
    if ((neg !== undefined && neg > Date.now()) || (known === undefined && this.knownAbsent(loc))) throw new OioError('CONTENT_NOT_FOUND', 'no such file or directory');
    const ino = known ?? this.table.inoOf(loc);
    try {
      return (await this.attrOf(ino, loc)).attr;
    } catch (e) {
      if (isNotFound(e)) {
        if (this.absent.size > 10_000) this.absent.clear();
        this.absent.set(k, Date.now() + this.ttl);
      }
      throw e;
    }
  }

  private present(loc: Loc): void { this.absent.delete(`${loc.ctr}\0${loc.path}`); }

  /** A name never seen under a directory this bridge made moments ago does not exist. */
  private knownAbsent(loc: Loc): boolean {
    if (this.table.find(loc) !== undefined) return false;
    const i = loc.path.lastIndexOf('/');
    const parent = loc.path === '' ? '' : i < 0 ? '' : loc.path.slice(0, i);
    const k = loc.path === '' ? '\0' : `${loc.ctr}\0${parent}`;
    const until = this.fresh.get(k);
    if (until === undefined) return false;
    if (until < Date.now()) { this.fresh.delete(k); return false; }
    return true;
  }

  private markFresh(loc: Loc): void {
    if (this.fresh.size > 10_000) this.fresh.clear();
    this.fresh.set(`${loc.ctr}\0${loc.path}`, Date.now() + this.freshMs);
  }

  private async exists(loc: Loc): Promise<Attr | undefined> {
    const neg = this.absent.get(`${loc.ctr}\0${loc.path}`);
    if ((neg !== undefined && neg > Date.now()) || this.knownAbsent(loc)) return undefined;
    const ino = this.table.inoOf(loc);
    try { return (await this.attrOf(ino, loc)).attr; } catch (e) { if (isNotFound(e)) return undefined; throw e; }
  }

  async setattr(ino: Ino, ch: SetAttr): Promise<Attr> {
    const loc = this.locOf(ino);
    const cur = await this.getattr(ino);
    if (ch.size !== undefined) {
      if (cur.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
      if (!Number.isInteger(ch.size) || ch.size < 0) throw new InvalidArgumentError('BAD_REQUEST', 'bad size');
      const f = await this.fileFor(ino, loc, cur);
      await this.spool(f, ch.size);
      if (ch.size !== f.size) {
        await f.spool!.truncate(ch.size);
        f.size = ch.size;
      }
      f.dirty = true;
      f.gen++;
      f.attrs.mtimeMs = f.attrs.ctimeMs = Date.now();
      this.ra.delete(ino);
    }
    const a: { mode?: number; uid?: number; gid?: number; mtimeMs?: number; atimeMs?: number } = {};
    if (ch.mode !== undefined) a.mode = ch.mode & 0o7777;
    if (ch.uid !== undefined) a.uid = ch.uid;
    if (ch.gid !== undefined) a.gid = ch.gid;
    if (ch.mtimeMs !== undefined) a.mtimeMs = ch.mtimeMs;
    if (ch.atimeMs !== undefined) a.atimeMs = ch.atimeMs;
    if (Object.keys(a).length > 0) {
      const f = this.files.get(ino);
      if (f) {
        Object.assign(f.attrs, a);
        f.attrs.ctimeMs = Date.now();
        if (f.committed && !f.dirty && !f.unlinked) await this.s.objectSetProperties(loc.ctr, loc.path, attrProps(a));
        else f.attrsDirty = true;
      } else if (cur.type === 'dir') {
        if (!this.isAccountRoot(loc) && !this.isContainerTop(loc)) {
          if (this.opts.dirWriteDelayMs !== undefined) {
            const d = this.dirs.get(ino) ?? { ino, loc, attr: cur, create: false, dirty: false };
            d.attr = { ...d.attr, ...a, ctimeMs: Date.now() };
            this.dirLater(d);
          } else {
            await this.setMarkerProps(loc, attrProps({ mode: cur.mode, uid: cur.uid, gid: cur.gid, mtimeMs: cur.mtimeMs, ...a }));
          }
        }
      } else {
        await this.s.objectSetProperties(loc.ctr, loc.path, attrProps(a));
      }
      this.attrs.delete(ino);
    }
    const f = this.files.get(ino);
    if (f) this.touch(f);
    return this.getattr(ino);
  }

  // ---- directories ------------------------------------------------------------------------

  async readdir(ino: Ino, cookie: number, limit: number, plus = false): Promise<ReaddirPage> {
    const loc = this.locOf(ino);
    const a = await this.getattr(ino);
    if (a.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    const marker = cookie === 0 ? undefined : (this.cookies.get(cookie) ?? this.cookieFallback(cookie));
    const max = Math.max(1, Math.min(limit, 1000));
    const entries: DirEntry[] = [];
    let next: string | undefined;
    if (this.isAccountRoot(loc)) {
      const page = await this.s.containerList({ marker, limit: max });
      for (const c of page.containers) {
        const cl: Loc = { ctr: c.name, path: '' };
        const cino = this.table.inoOf(cl);
        entries.push({ name: c.name, ino: cino, type: 'dir', attr: plus ? this.dirAttr(cino, undefined, c.mtime) : undefined });
      }
      next = page.truncated ? (page.next_marker ?? page.containers[page.containers.length - 1]?.name) : undefined;
    } else {
      const prefix = dirPrefix(loc.path);
      const page = await this.s.objectList(loc.ctr, { prefix, delimiter: '/', marker, limit: max });
      const files = new Set<string>();
      const items: Array<{ key: string; obj?: ContentInfo }> = [
        ...page.objects.map((o) => ({ key: o.name, obj: o })),
        ...page.prefixes.map((p) => ({ key: p })),
      ].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      for (const it of items) {
        if (isReservedName(it.key)) continue; // S3 multipart uploads in progress
        if (it.obj) {
          const name = it.key.slice(prefix.length);
          if (name === '' || name.includes('/') || Buffer.byteLength(name) > NAME_MAX) continue;
          const cl: Loc = { ctr: loc.ctr, path: it.key };
          const cino = this.table.inoOf(cl);
          const f = this.files.get(cino);
          const cached = this.contentAttr(cino, it.obj);
          if (!f) this.attrs.set(cino, cached);
          files.add(name);
          entries.push({ name, ino: cino, type: cached.attr.type, attr: plus ? (f ? this.openAttr(f) : cached.attr) : undefined });
        } else {
          const name = it.key.slice(prefix.length, -1);
          if (name === '' || name.includes('/') || files.has(name) || Buffer.byteLength(name) > NAME_MAX) continue;
          const cino = this.table.inoOf({ ctr: loc.ctr, path: it.key.slice(0, -1) });
          entries.push({ name, ino: cino, type: 'dir', attr: plus ? (this.dirs.get(cino)?.attr ?? this.attrs.get(cino)?.attr ?? this.dirAttr(cino)) : undefined });
        }
      }
      next = page.truncated ? (page.next_marker ?? items[items.length - 1]?.key) : undefined;
    }
    if (next !== undefined) {
      const last = entries[entries.length - 1];
      // The cookie is a number: the last entry's inode, remembered with the listing marker.
      const c = last?.ino ?? (cookie + 1);
      if (this.cookies.size > 10_000) this.cookies.clear();
      this.cookies.set(c, next);
      return { entries, nextCookie: c, eof: false };
    }
    // Files created here and not committed yet are listed at the end (once: a commit may
    // have reached the listing before its answer reached us).
    const listed = new Set(entries.map((e) => e.name));
    for (const f of this.files.values()) {
      if (f.committed || f.unlinked || f.loc.ctr !== loc.ctr) continue;
      const { dir, name } = splitPath(f.loc.path);
      if (dir !== loc.path || this.isAccountRoot(loc) || listed.has(name)) continue;
      entries.push({ name, ino: f.ino, type: 'file', attr: plus ? this.openAttr(f) : undefined });
    }
    // So are directories made here whose marker is not written yet.
    for (const d of this.dirs.values()) {
      if (!d.create || d.loc.ctr !== loc.ctr || this.isAccountRoot(loc)) continue;
      const { dir, name } = splitPath(d.loc.path);
      if (dir !== loc.path || listed.has(name)) continue;
      listed.add(name);
      entries.push({ name, ino: d.ino, type: 'dir', attr: plus ? d.attr : undefined });
    }
    return { entries, eof: true };
  }

  private cookieFallback(cookie: number): string {
    const l = this.table.locOf(cookie);
    if (!l) throw new OioError('BAD_REQUEST', 'stale readdir cookie', { details: { reason: 'bad_cookie' } });
    return l.path === '' ? l.ctr : l.path;
  }

  async mkdir(parent: Ino, name: string, mode: number, owner?: { uid: number; gid: number }): Promise<Attr> {
    const ploc = this.locOf(parent);
    const loc = this.childLoc(ploc, name);
    if (this.isAccountRoot(ploc)) {
      await this.s.containerCreate(loc.ctr);
      this.present(loc);
      const ino = this.table.inoOf(loc);
      this.invalidate(ino);
      return this.getattr(ino);
    }
    if (await this.exists(loc)) throw new OioError('CONTENT_EXISTS', 'file exists');
    const now = Date.now();
    if (this.opts.dirWriteDelayMs !== undefined) {
      const ino = this.table.inoOf(loc);
      const attr: Attr = { ...this.dirAttr(ino), mode: mode & 0o7777, uid: owner?.uid ?? this.uid, gid: owner?.gid ?? this.gid, atimeMs: now, mtimeMs: now, ctimeMs: now };
      this.present(loc);
      this.markFresh(loc);
      this.invalidate(ino);
      this.dirLater({ ino, loc, attr, create: true, dirty: false });
      return attr;
    }
    const props = attrProps({ mode: mode & 0o7777, uid: owner?.uid ?? this.uid, gid: owner?.gid ?? this.gid, mtimeMs: now });
    const c = await this.s.objectPut(loc.ctr, markerOf(loc.path), Buffer.alloc(0), { properties: props });
    this.present(loc);
    this.markFresh(loc);
    const ino = this.table.inoOf(loc);
    this.attrs.set(ino, { attr: this.dirAttr(ino, c.properties, c.mtime), exp: Date.now() + this.ttl });
    return this.getattr(ino);
  }

  async rmdir(parent: Ino, name: string): Promise<void> {
    const ploc = this.locOf(parent);
    const loc = this.childLoc(ploc, name);
    await this.writeDirs(loc);
    const ino = this.table.inoOf(loc);
    const a = await this.attrOf(ino, loc);
    if (a.attr.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    if (this.isAccountRoot(ploc)) {
      await this.s.containerDelete(loc.ctr);
    } else {
      const marker = markerOf(loc.path);
      const list = await this.s.objectList(loc.ctr, { prefix: marker, limit: 2 });
      const pending = [...this.files.values()].some((f) => !f.committed && !f.unlinked && f.loc.ctr === loc.ctr && f.loc.path.startsWith(marker));
      if (pending || list.objects.some((o) => o.name !== marker) || list.prefixes.length > 0) throw new OioError('CONTAINER_NOT_EMPTY', 'directory not empty');
      await this.s.objectDelete(loc.ctr, marker).catch((e) => { if (!isNotFound(e)) throw e; });
    }
    this.invalidate(ino);
    this.table.remove(loc);
  }

  // ---- files ------------------------------------------------------------------------------

  async create(parent: Ino, name: string, mode: number, o: { exclusive?: boolean; uid?: number; gid?: number } = {}): Promise<Attr> {
    const ploc = this.locOf(parent);
    if (this.isAccountRoot(ploc)) throw new OioError('NOT_ALLOWED', 'only directories (containers) at the top level');
    const loc = this.childLoc(ploc, name);
    const existing = await this.exists(loc);
    if (existing) {
      if (o.exclusive || existing.type === 'dir') throw new OioError('CONTENT_EXISTS', 'file exists');
      return existing;
    }
    const ino = this.table.inoOf(loc);
    const now = Date.now();
    const f: OpenFile = {
      ino, loc, refs: 0, committed: false, dirty: true, attrsDirty: false, gen: 1, size: 0, unlinked: false,
      attrs: { mode: mode & 0o7777, uid: o.uid ?? this.uid, gid: o.gid ?? this.gid, mtimeMs: now, atimeMs: now, ctimeMs: now },
    };
    this.files.set(ino, f);
    await this.spool(f, 0);
    this.present(loc);
    this.invalidate(ino);
    this.touch(f);
    return this.openAttr(f);
  }

  async unlink(parent: Ino, name: string): Promise<void> {
    const ploc = this.locOf(parent);
    const loc = this.childLoc(ploc, name);
    const ino = this.table.inoOf(loc);
    const cur = await this.attrOf(ino, loc);
    if (cur.attr.type === 'dir') throw new OioError('NOT_ALLOWED', 'is a directory', { details: { reason: 'is_dir' } });
    const f = this.files.get(ino);
    const committed = f ? f.committed : true;
    if (f) {
      f.unlinked = true;
      f.dirty = false;
      f.attrsDirty = false;
      if (f.refs <= 0) await this.drop(f);
    }
    if (committed) await this.s.objectDelete(loc.ctr, loc.path).catch((e) => { if (!isNotFound(e)) throw e; });
    this.invalidate(ino);
    this.table.remove(loc);
  }

  async rename(parent: Ino, name: string, newParent: Ino, newName: string): Promise<void> {
    const from = this.childLoc(this.locOf(parent), name);
    const to = this.childLoc(this.locOf(newParent), newName);
    if (sameLoc(from, to)) return;
    if (this.isContainerTop(from) || this.isContainerTop(to)) throw new OioError('NOT_IMPLEMENTED', 'containers cannot be renamed', { details: { reason: 'cross_device' } });
    if (from.ctr !== to.ctr) throw new OioError('NOT_IMPLEMENTED', 'rename across containers', { details: { reason: 'cross_device' } });
    const ino = this.table.inoOf(from);
    const src = (await this.attrOf(ino, from)).attr;
    const dst = await this.exists(to);
    const dstIno = this.table.find(to);
    if (src.type === 'dir') {
      if (to.path.startsWith(`${from.path}/`)) throw new InvalidArgumentError('BAD_REQUEST', 'a directory cannot move under itself');
      await this.writeDirs(from);
      if (dst) {
        if (dst.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
        await this.rmdir(newParent, newName);
      }
      await this.renameDir(from, to);
    } else {
      if (dst?.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
      const f = this.files.get(ino);
      if (dstIno !== undefined) {
        const df = this.files.get(dstIno);
        if (df && df !== f) { df.unlinked = true; df.dirty = false; df.attrsDirty = false; if (df.refs <= 0) await this.drop(df); }
      }
      // Pending bytes are committed under the old name first (a commit racing a rename of an
      // uncommitted file left the grid without either name), then the chunks are relinked.
      if (f) await this.flush(ino);
      await this.s.objectLink(from.ctr, from.path, to.path);
      await this.s.objectDelete(from.ctr, from.path).catch((e) => { if (!isNotFound(e)) throw e; });
      if (f) f.loc = to;
      this.table.rename(from, to);
    }
    this.invalidate(ino);
    this.invalidate(dstIno);
    this.present(to);
    this.attrs.clear();
  }

  /** Moves every object under a directory (marker included): link + delete, no data copy. */
  private async renameDir(from: Loc, to: Loc): Promise<void> {
    const fromP = `${from.path}/`;
    const toP = `${to.path}/`;
    for (const f of this.files.values()) {
      if (f.loc.ctr === from.ctr && f.loc.path.startsWith(fromP) && !f.unlinked) await this.flush(f.ino);
    }
    let marker: string | undefined;
    for (;;) {
      const page = await this.s.objectList(from.ctr, { prefix: fromP, marker, limit: 500 });
      const names = page.objects.map((o) => o.name);
      for (let i = 0; i < names.length; i += 8) {
        await Promise.all(names.slice(i, i + 8).map(async (n) => {
          await this.s.objectLink(from.ctr, n, toP + n.slice(fromP.length));
          await this.s.objectDelete(from.ctr, n).catch((e) => { if (!isNotFound(e)) throw e; });
        }));
      }
      if (!page.truncated || names.length === 0) break;
      marker = page.next_marker ?? names[names.length - 1];
    }
    for (const f of this.files.values()) {
      if (f.loc.ctr === from.ctr && f.loc.path.startsWith(fromP)) f.loc = { ctr: to.ctr, path: toP + f.loc.path.slice(fromP.length) };
    }
    this.table.rename(from, to);
  }

  async symlink(parent: Ino, name: string, target: string): Promise<Attr> {
    const ploc = this.locOf(parent);
    if (this.isAccountRoot(ploc)) throw new OioError('NOT_ALLOWED', 'only directories (containers) at the top level');
    const loc = this.childLoc(ploc, name);
    if (typeof target !== 'string' || target === '' || target.includes('\0') || Buffer.byteLength(target) > 4096) throw new InvalidArgumentError('INVALID_NAME', 'bad symlink target');
    if (await this.exists(loc)) throw new OioError('CONTENT_EXISTS', 'file exists');
    const c = await this.s.objectPut(loc.ctr, loc.path, Buffer.from(target), { properties: attrProps({ mode: 0o777, uid: this.uid, gid: this.gid, mtimeMs: Date.now(), symlink: target }) });
    this.present(loc);
    const ino = this.table.inoOf(loc);
    const ca = this.contentAttr(ino, c);
    this.attrs.set(ino, ca);
    return ca.attr;
  }

  async readlink(ino: Ino): Promise<string> {
    const loc = this.locOf(ino);
    let c = await this.attrOf(ino, loc);
    if (c.attr.type === 'symlink' && c.symlink === undefined) { this.attrs.delete(ino); c = await this.attrOf(ino, loc); }
    if (c.attr.type !== 'symlink' || c.symlink === undefined) throw new InvalidArgumentError('BAD_REQUEST', 'not a symbolic link');
    return c.symlink;
  }

  // ---- data -------------------------------------------------------------------------------

  /** The open-file record of an inode, made on first use (not counted as an open). */
  private async fileFor(ino: Ino, loc: Loc, cur?: Attr): Promise<OpenFile> {
    const have = this.files.get(ino);
    if (have) return have;
    const a = cur ?? (await this.attrOf(ino, loc)).attr;
    if (a.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    const again = this.files.get(ino);
    if (again) return again;
    const f: OpenFile = {
      ino, loc, refs: 0, committed: true, dirty: false, attrsDirty: false, gen: 0, size: a.size, unlinked: false,
      attrs: { mode: a.mode, uid: a.uid, gid: a.gid, mtimeMs: a.mtimeMs, atimeMs: a.atimeMs, ctimeMs: a.ctimeMs },
    };
    this.files.set(ino, f);
    return f;
  }

  /** Makes the spool of `f` (with the committed bytes unless truncated to 0). */
  private spool(f: OpenFile, truncateTo?: number): Promise<void> {
    if (f.spool) return Promise.resolve();
    f.spooling ??= (async () => {
      const o = { dir: this.opts.spoolDir, name: `${f.ino}-${randomHex(6)}`, budget: this.spoolBudget, memMax: SMALL_UPLOAD_BYTES };
      if (f.committed && f.size > 0 && truncateTo !== 0) {
        const got = await this.s.objectGet(f.loc.ctr, f.loc.path);
        f.spool = await Spool.from(o, got.stream, got.content.size);
        f.size = got.content.size;
      } else {
        f.spool = Spool.empty(o);
      }
    })().finally(() => { f.spooling = undefined; });
    return f.spooling;
  }

  async open(ino: Ino): Promise<void> {
    const loc = this.locOf(ino);
    const f = this.files.get(ino);
    if (f) {
      f.refs++;
      if (f.idle) { clearTimeout(f.idle); f.idle = undefined; }
      return;
    }
    const a = (await this.attrOf(ino, loc)).attr;
    if (a.type === 'dir') return;
    const nf = await this.fileFor(ino, loc, a);
    nf.refs++;
  }

  async release(ino: Ino): Promise<void> {
    const f = this.files.get(ino);
    if (!f) return;
    f.refs = Math.max(0, f.refs - 1);
    if (f.refs > 0) return;
    try {
      // Attribute changes or writes that came during the upload are committed too.
      for (let i = 0; i < 3 && f.refs === 0 && !f.unlinked && (f.dirty || f.attrsDirty); i++) await this.flush(ino);
    } finally {
      if (f.refs === 0 && !f.dirty && !f.attrsDirty) await this.drop(f);
      else this.touch(f);
    }
  }

  /** Closes and deletes the spool of a file nobody holds, forgets the record. */
  private async drop(f: OpenFile): Promise<void> {
    if (f.idle) { clearTimeout(f.idle); f.idle = undefined; }
    if (this.files.get(f.ino) === f) this.files.delete(f.ino);
    const sp = f.spool;
    f.spool = undefined;
    await sp?.close();
    this.attrs.delete(f.ino);
  }

  /** An unopened dirty file is committed after `idleFlushMs` without activity. */
  private touch(f: OpenFile): void {
    if (f.refs > 0 || this.closed) return;
    if (f.idle) clearTimeout(f.idle);
    f.idle = setTimeout(() => {
      f.idle = undefined;
      if (f.refs > 0) return;
      this.flush(f.ino).then(() => (f.refs === 0 && !f.dirty && !f.attrsDirty ? this.drop(f) : undefined)).catch((e) => {
        this.opts.log?.error('idle flush failed', { ino: f.ino, error: e });
      });
    }, this.idleMs);
  }

  async read(ino: Ino, offset: number, length: number): Promise<Buffer> {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 0) throw new InvalidArgumentError('BAD_REQUEST', 'bad read range');
    const f = this.files.get(ino);
    if (unsaved(f)) {
      if (f.spooling) await f.spooling;
      if (!f.spool) await this.spool(f);
      const n = Math.max(0, Math.min(length, f.size - offset));
      if (n === 0) return Buffer.alloc(0);
      const buf = Buffer.allocUnsafe(n);
      const bytesRead = await f.spool!.read(buf, n, offset);
      if (bytesRead < n) buf.fill(0, bytesRead);
      return buf;
    }
    const { loc, version, size } = await this.stored(ino, f);
    if (offset >= size || length === 0) return Buffer.alloc(0);
    const end = Math.min(size, offset + length);
    // One remote read of an inode at a time: the kernel sends read-ahead requests in parallel,
    // and each would otherwise fetch its own window; queued, they are served from the buffer.
    const prev = this.readQueue.get(ino);
    const p = (prev ? prev.catch(() => undefined) : Promise.resolve()).then(() => this.readRemote(ino, loc, version, offset, end));
    this.readQueue.set(ino, p);
    void p.catch(() => undefined).finally(() => { if (this.readQueue.get(ino) === p) this.readQueue.delete(ino); });
    return p;
  }

  async readStream(ino: Ino, offset: number): Promise<Readable | undefined> {
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError('BAD_REQUEST', 'bad read offset');
    const f = this.files.get(ino);
    if (unsaved(f)) return undefined;
    const { loc, version, size } = await this.stored(ino, f);
    if (offset >= size) return Readable.from([]);
    return (await this.s.objectGet(loc.ctr, loc.path, { start: offset, version })).stream;
  }

  /** Where a file's stored bytes are, their version and the file's size; BAD_REQUEST for a directory. */
  private async stored(ino: Ino, f: OpenFile | undefined): Promise<{ loc: Loc; version: number | undefined; size: number }> {
    const loc = this.locOf(ino);
    const c = await this.attrOf(ino, loc);
    if (c.attr.type === 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'is a directory', { details: { reason: 'is_dir' } });
    return { loc, version: c.version, size: f ? f.size : c.attr.size };
  }

  /** Reads [start, end) of a clean file through its read-ahead buffer. */
  private async readRemote(ino: Ino, loc: Loc, version: number | undefined, start: number, end: number): Promise<Buffer> {
    let ra = this.ra.get(ino);
    if (ra && version !== undefined && ra.version !== version) { this.ra.delete(ino); ra = undefined; }
    const within = (r: ReadAhead) => start >= r.start && end <= r.start + r.buf.length;
    if (ra && !within(ra) && ra.next && start >= ra.next.start) {
      const nextStart = ra.next.start;
      const buf = await ra.next.p.catch(() => undefined);
      if (buf && this.ra.get(ino) === ra) { ra.start = nextStart; ra.buf = buf; ra.next = undefined; ra.window = Math.min(this.raMax, ra.window * 2); }
    }
    if (!ra || !within(ra)) {
      // Sequential enough: at or just past the end of the buffer (reads may arrive slightly out of order).
      const sequential = ra !== undefined && start >= ra.start && start <= ra.start + ra.buf.length + ra.window;
      const window = ra ? (sequential ? Math.min(this.raMax, ra.window * 2) : 128 * 1024) : 128 * 1024;
      const want = Math.max(end - start, window);
      const got = await this.fetchRange(loc, version, start, start + want);
      ra = { version: got.version, start, buf: got.buf, window };
      if (this.ra.size > 16) this.ra.clear();
      this.ra.set(ino, ra);
      if (end > start + got.buf.length) end = start + got.buf.length;
    }
    const out = ra.buf.copyOut(start - ra.start, end - ra.start);
    // A quarter into the buffer while reading sequentially: fetch the next window now.
    const bufEnd = ra.start + ra.buf.length;
    if (!ra.next && ra.window >= 512 * 1024 && end - ra.start > ra.buf.length / 4) {
      const size = (this.attrs.get(ino)?.attr.size) ?? Infinity;
      if (bufEnd < size) {
        const r = ra;
        const p = this.fetchRange(loc, r.version, bufEnd, bufEnd + Math.min(this.raMax, r.window * 2)).then((g) => g.buf);
        p.catch(() => undefined);
        r.next = { start: bufEnd, p };
      }
    }
    return out;
  }

  private async fetchRange(loc: Loc, version: number | undefined, start: number, endExcl: number): Promise<{ buf: Rope; version: number }> {
    const got = await this.s.objectGet(loc.ctr, loc.path, { start, end: endExcl - 1, version });
    const parts: Buffer[] = [];
    for await (const chunk of got.stream) parts.push(chunk as Buffer);
    return { buf: new Rope(parts), version: got.content.version };
  }

  async write(ino: Ino, offset: number, data: Buffer): Promise<number> {
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError('BAD_REQUEST', 'bad write offset');
    const loc = this.locOf(ino);
    const f = await this.fileFor(ino, loc);
    if (f.unlinked && !f.spool) throw new OioError('CONTENT_NOT_FOUND', 'file was removed');
    await this.spool(f);
    await f.spool!.write(data, offset);
    f.size = Math.max(f.size, offset + data.length);
    f.dirty = true;
    f.gen++;
    f.attrs.mtimeMs = f.attrs.ctimeMs = Date.now();
    this.ra.delete(ino);
    this.touch(f);
    return data.length;
  }

  async flush(ino: Ino): Promise<void> {
    const d = this.dirs.get(ino);
    if (d) return this.dirWrite(d);
    const f = this.files.get(ino);
    if (!f) return;
    while (f.flushing) await f.flushing.catch(() => undefined);
    if (f.unlinked || (!f.dirty && !f.attrsDirty)) return;
    f.flushing = this.commit(f).finally(() => { f.flushing = undefined; });
    return f.flushing;
  }

  private async commit(f: OpenFile): Promise<void> {
    // Attributes are read and marked clean in the same tick: a change made while the upload
    // runs marks them dirty again and is committed by the next flush.
    const takeProps = () => {
      f.attrsDirty = false;
      return attrProps({ mode: f.attrs.mode, uid: f.attrs.uid, gid: f.attrs.gid, mtimeMs: f.attrs.mtimeMs, atimeMs: f.attrs.atimeMs });
    };
    if (f.dirty || !f.committed) {
      const gen = f.gen;
      if (!f.spool) await this.spool(f);
      // A small file is sent from a copy of its bytes, a large one streamed from its spool file.
      const source = f.size <= SMALL_UPLOAD_BYTES ? await f.spool!.readAll(f.size) : await f.spool!.toFile();
      const props = takeProps();
      const loc = f.loc;
      const c = await this.s.objectPut(loc.ctr, loc.path, source, { size: f.size, properties: props });
      if (f.unlinked) {
        await this.s.objectDelete(loc.ctr, loc.path, c.version).catch(() => undefined);
        return;
      }
      f.committed = true;
      if (f.gen === gen) f.dirty = false;
      if (!sameLoc(loc, f.loc)) {
        // Renamed during the upload: move what was just committed.
        await this.s.objectLink(loc.ctr, loc.path, f.loc.path);
        await this.s.objectDelete(loc.ctr, loc.path).catch(() => undefined);
      }
    } else if (f.attrsDirty) {
      await this.s.objectSetProperties(f.loc.ctr, f.loc.path, takeProps());
    }
    this.attrs.delete(f.ino);
    this.ra.delete(f.ino);
  }

  // ---- directory writes in the background (dirWriteDelayMs) ------------------------------

  /** Records a directory change and (re)starts its write timer. */
  private dirLater(d: PendingDir): void {
    this.dirs.set(d.ino, d);
    d.dirty = true;
    if (d.timer) clearTimeout(d.timer);
    d.timer = setTimeout(() => {
      d.timer = undefined;
      this.dirWrite(d).catch((e: unknown) => this.opts.log?.error('directory write failed', { path: `${d.loc.ctr}/${d.loc.path}`, error: e }));
    }, this.opts.dirWriteDelayMs ?? 0);
  }

  /** Writes a pending directory now (marker, or its attributes); the entry goes once clean. */
  private dirWrite(d: PendingDir): Promise<void> {
    if (d.timer) { clearTimeout(d.timer); d.timer = undefined; }
    d.writing ??= (async () => {
      try {
        while (d.dirty) {
          d.dirty = false;
          const a = d.attr;
          const props = attrProps({ mode: a.mode, uid: a.uid, gid: a.gid, mtimeMs: a.mtimeMs, atimeMs: a.atimeMs });
          if (d.create) {
            await this.s.objectPut(d.loc.ctr, markerOf(d.loc.path), Buffer.alloc(0), { properties: props });
            d.create = false;
          } else {
            await this.setMarkerProps(d.loc, props);
          }
        }
      } finally {
        d.writing = undefined;
        // A change during a failed write is kept (its timer runs); a failure drops the rest.
        if (!d.timer && this.dirs.get(d.ino) === d) { this.dirs.delete(d.ino); this.attrs.delete(d.ino); }
      }
    })();
    return d.writing;
  }

  /** Sets a directory's attributes on its marker, made if the directory had none (a prefix only). */
  private async setMarkerProps(loc: Loc, props: Record<string, string>): Promise<void> {
    const marker = markerOf(loc.path);
    await this.s.objectSetProperties(loc.ctr, marker, props).catch(async (e) => {
      if (!isNotFound(e)) throw e;
      await this.s.objectPut(loc.ctr, marker, Buffer.alloc(0), { properties: props });
    });
  }

  /** Writes the pending directories at or under `under` (all of them without it). */
  private async writeDirs(under?: Loc): Promise<void> {
    const inside = (l: Loc) => !under || (l.ctr === under.ctr && (under.path === '' || l.path === under.path || l.path.startsWith(`${under.path}/`)));
    const all = [...this.dirs.values()].filter((d) => inside(d.loc)).map((d) => this.dirWrite(d));
    const res = await Promise.allSettled(all);
    const failed = res.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async statfs(): Promise<StatFs> {
    if (this.statCache && this.statCache.exp > Date.now()) return this.statCache.v;
    const rawx = await this.s.clusterList('rawx').catch(() => []);
    const frees = rawx.map((r) => Number(r.tags['stat.space'])).filter((n) => Number.isFinite(n));
    const freePct = frees.length ? frees.reduce((a, b) => a + b, 0) / frees.length : 0;
    const total = this.opts.capacityBytes ?? 1024 ** 4;
    const free = Math.floor((total * freePct) / 100);
    const v: StatFs = { totalBytes: total, freeBytes: free, availBytes: free, files: 1 << 30, freeFiles: 1 << 30, blockSize: 1024 * 1024, nameMax: NAME_MAX };
    this.statCache = { v, exp: Date.now() + 5000 };
    return v;
  }

  async close(): Promise<void> {
    this.closed = true;
    const errors: unknown[] = [];
    await this.writeDirs().catch((e) => errors.push(e));
    for (const f of [...this.files.values()]) {
      if (f.idle) { clearTimeout(f.idle); f.idle = undefined; }
      await this.flush(f.ino).catch((e) => errors.push(e));
      await this.drop(f);
    }
    this.table.close();
    if (errors.length) throw errors[0];
  }
}


