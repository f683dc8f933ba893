/**
 * @module fs-bridge/ftp/bridge-file-system
 * ftp-srv's FileSystem on BridgeFs: the user's root is its account (containers as top-level
 * folders). Paths are normalized against the session's cwd with POSIX rules, so `..` and
 * absolute paths stop at the root; names go through the bridge's checks (NUL, '/', length).
 * STOR streams into the spool (REST offsets and APPE work) and replies only after the commit.
 */
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { OioError } from '../../appliance/common';
import { BridgePaths, normalizePath, ROOT_INO, stModeOf, type Attr, type BridgeFs, type Ino } from '../core';

/** What ftp-srv's LIST/STAT/MDTM/SIZE read from a file entry (fs.Stats-like). */
export interface FtpStat {
  name: string;
  size: number;
  mtime: Date;
  mode: number;
  uid: number;
  gid: number;
  ino: number;
  dev: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

function statOf(a: Attr, name: string): FtpStat {
  return {
    name, size: a.size, mtime: new Date(a.mtimeMs), mode: stModeOf(a), uid: a.uid, gid: a.gid, ino: a.ino, dev: 1,
    isDirectory: () => a.type === 'dir', isFile: () => a.type === 'file', isSymbolicLink: () => a.type === 'symlink',
  };
}

/** One FTP session's view (cwd) on a shared bridge. */
export class BridgeFileSystem {
  cwd = '/';
  /** the last error thrown, for the reply code table (ftp-srv answers 550 by itself) */
  lastError: unknown;

  private readonly paths: BridgePaths;

  constructor(readonly connection: unknown, private readonly b: BridgeFs) { this.paths = new BridgePaths(b); }

  get root(): string { return '/'; }

  /** Absolute, normalized client path (never above '/'). */
  private abs(p = '.'): string {
    return normalizePath((path.posix.isAbsolute(p) ? p : path.posix.join(this.cwd, p)).replace(/\\/g, '/'));
  }

  private resolve(abs: string): Promise<Attr> { return this.paths.resolve(abs); }

  private parentOf(abs: string): Promise<{ parent: Ino; name: string }> { return this.paths.parentOf(abs); }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    try { return await fn(); } catch (e) { this.lastError = e; throw e; }
  }

  currentDirectory(): string { return this.cwd; }

  get(fileName: string): Promise<FtpStat> {
    return this.track(async () => statOf(await this.resolve(this.abs(fileName)), fileName));
  }

  list(p = '.'): Promise<FtpStat[]> {
    return this.track(async () => {
      const dir = await this.resolve(this.abs(p));
      if (dir.type !== 'dir') return [statOf(dir, path.posix.basename(this.abs(p)))];
      const out: FtpStat[] = [];
      let cookie = 0;
      for (;;) {
        const page = await this.b.readdir(dir.ino, cookie, 1000, true);
        for (const e of page.entries) out.push(statOf(e.attr ?? await this.b.getattr(e.ino), e.name));
        if (page.eof || page.nextCookie === undefined) break;
        cookie = page.nextCookie;
      }
      return out;
    });
  }

  chdir(p = '.'): Promise<string> {
    return this.track(async () => {
      const abs = this.abs(p);
      const a = await this.resolve(abs);
      if (a.type !== 'dir') throw new OioError('BAD_REQUEST', 'not a directory');
      this.cwd = abs;
      return this.cwd;
    });
  }

  async write(fileName: string, opts: { append?: boolean; start?: number } = {}): Promise<{ stream: Writable; clientPath: string }> {
    return this.track(async () => {
      const abs = this.abs(fileName);
      const { parent, name } = await this.parentOf(abs);
      let attr: Attr;
      try {
        attr = await this.b.lookup(parent, name);
        if (attr.type === 'dir') throw new OioError('BAD_REQUEST', 'is a directory');
      } catch (e) {
        if ((e as OioError).code !== 'CONTENT_NOT_FOUND' && (e as OioError).code !== 'CONTAINER_NOT_FOUND') throw e;
        attr = await this.b.create(parent, name, 0o644);
      }
      const ino = attr.ino;
      await this.b.open(ino);
      let offset = opts.append ? attr.size : (opts.start ?? 0);
      if (!opts.append && !opts.start) await this.b.setattr(ino, { size: 0 });
      else if (opts.start !== undefined && !opts.append) await this.b.setattr(ino, { size: opts.start });
      const b = this.b;
      let released = false;
      const release = async () => { if (!released) { released = true; await b.release(ino); } };
      const stream = new Writable({
        highWaterMark: 1024 * 1024,
        write(chunk: Buffer, _enc, cb) {
          const at = offset;
          offset += chunk.length;
          b.write(ino, at, chunk).then(() => cb(), (e: unknown) => cb(e as Error));
        },
        final(cb) { release().then(() => cb(), (e: unknown) => cb(e as Error)); },
        destroy(err, cb) { release().then(() => cb(err), () => cb(err)); },
      });
      return { stream, clientPath: abs };
    });
  }

  async read(fileName: string, opts: { start?: number } = {}): Promise<{ stream: Readable; clientPath: string }> {
    return this.track(async () => {
      const abs = this.abs(fileName);
      const a = await this.resolve(abs);
      if (a.type === 'dir') throw new OioError('BAD_REQUEST', 'is a directory');
      const b = this.b;
      await b.open(a.ino);
      let pos = opts.start ?? 0;
      let released = false;
      const release = () => { if (!released) { released = true; void b.release(a.ino).catch(() => undefined); } };
      // A stored file goes out as one ranged GET, as S3 sends it; one with unsaved bytes (being
      // written through this bridge) is read from its spool, 1 MiB at a time.
      const whole = await b.readStream(a.ino, pos).catch((e: unknown) => { release(); throw e; });
      if (whole) {
        whole.once('close', release);
        return { stream: whole, clientPath: abs };
      }
      const stream = new Readable({
        highWaterMark: 1024 * 1024,
        read() {
          b.read(a.ino, pos, 1024 * 1024).then((buf) => {
            if (buf.length === 0) { release(); this.push(null); return; }
            pos += buf.length;
            this.push(buf);
          }, (e: unknown) => { release(); this.destroy(e as Error); });
        },
        destroy(err, cb) { release(); cb(err); },
      });
      return { stream, clientPath: abs };
    });
  }

  delete(p: string): Promise<void> {
    return this.track(async () => {
      const abs = this.abs(p);
      const a = await this.resolve(abs);
      const { parent, name } = await this.parentOf(abs);
      if (a.type === 'dir') await this.b.rmdir(parent, name);
      else await this.b.unlink(parent, name);
    });
  }

  mkdir(p: string): Promise<string> {
    return this.track(async () => {
      const abs = this.abs(p);
      // Like mkdir -p (ftp-srv's own file system does the same).
      let cur = await this.b.getattr(ROOT_INO);
      for (const part of abs.split('/').filter(Boolean)) {
        try { cur = await this.b.lookup(cur.ino, part); } catch (e) {
          if ((e as OioError).code !== 'CONTENT_NOT_FOUND' && (e as OioError).code !== 'CONTAINER_NOT_FOUND') throw e;
          cur = await this.b.mkdir(cur.ino, part, 0o755);
        }
        if (cur.type !== 'dir') throw new OioError('CONTENT_EXISTS', 'a file has that name');
      }
      return abs;
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.track(async () => {
      const f = await this.parentOf(this.abs(from));
      const t = await this.parentOf(this.abs(to));
      await this.b.rename(f.parent, f.name, t.parent, t.name);
    });
  }

  chmod(p: string, mode: number): Promise<void> {
    return this.track(async () => { await this.b.setattr((await this.resolve(this.abs(p))).ino, { mode: mode & 0o7777 }); });
  }

  /** Sets the modification time (MFMT, SITE UTIME). */
  utimes(p: string, mtimeMs: number): Promise<void> {
    return this.track(async () => { await this.b.setattr((await this.resolve(this.abs(p))).ino, { mtimeMs }); });
  }

  getUniqueName(): string {
    return `ftp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }
}
