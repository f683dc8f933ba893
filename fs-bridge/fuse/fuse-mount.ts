/**
 * @module fs-bridge/fuse/fuse-mount
 * The FUSE front end: libfuse's path-based operations onto BridgeFs (each path walked by
 * lookups, which the bridge answers from its inode table and attribute cache). Every
 * handler is async (no sync I/O on the thread serving the mount); errors become -errno
 * through the bridge's errno table. Files are committed at release (sent by the kernel after
 * close() returns, so a writer does not wait for the upload) and at fsync; reads within the
 * mount see spooled bytes at once. Directories made or changed through the mount are written
 * in the background too when the bridge is set so (`dirWriteDelayMs`; fsyncdir writes them).
 * Kernel caching: attributes and entries for `cacheSeconds`, auto_cache (page cache kept
 * while size and mtime do not change), big_writes.
 */
import { BridgePaths, ROOT_INO, errnoOf, ERRNO, stModeOf, type Attr, type BridgeFs, type Ino } from '../core';
import { forceUnmount, newFuse, prepareNative, UTIME_OMIT_MS, type Cb, type FuseHandle, type FuseOps } from './native';

export interface FuseMountOptions {
  bridge: BridgeFs;
  mountpoint: string;
  /** kernel attribute/entry cache lifetime (s); matches the bridge's own TTL by default */
  cacheSeconds?: number;
  allowOther?: boolean;
  fsname?: string;
  debug?: boolean;
  /** commit delay after the last close (coalesces attribute changes made right after close) */
  releaseDelayMs?: number;
  /** background commits at once (24: measured faster than 8 for an untar, the grid's answers being the wait) */
  releaseConcurrency?: number;
  /** where the corrected fuse-native addon is built and cached (see native.ts) */
  nativeCacheDir?: string;
  onWarning?: (msg: string) => void;
  /** called with unexpected errors (logged by the caller) */
  onError?: (op: string, path: string, e: unknown) => void;
}

export interface FuseMount {
  readonly mountpoint: string;
  /** unmounts (fusermount -uz) and waits for pending commits */
  unmount(): Promise<void>;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const UNCHANGED = 0xffffffff;

function toStat(a: Attr): Record<string, unknown> {
  return {
    mode: stModeOf(a), uid: a.uid, gid: a.gid, size: a.size, nlink: a.nlink, ino: a.ino,
    blksize: 131072, blocks: Math.ceil(a.size / 512),
    atime: new Date(a.atimeMs), mtime: new Date(a.mtimeMs), ctime: new Date(a.ctimeMs),
  };
}

/** Mounts a bridge; resolves once the kernel sees the mount. */
export async function mountFuse(opts: FuseMountOptions): Promise<FuseMount> {
  const b = opts.bridge;
  const handles = new Map<number, Ino>();
  let nextFd = 10;
  const pending = new Set<Promise<unknown>>();
  const releases = new ReleaseQueue(b, opts.releaseDelayMs ?? 30, opts.releaseConcurrency ?? 24, (ino, p, e) => opts.onError?.('release', p, e));

  const paths = new BridgePaths(b);
  const resolve = async (p: string): Promise<Ino> => (p === '/' ? ROOT_INO : (await paths.resolve(p)).ino);
  const parentOf = (p: string): Promise<{ parent: Ino; name: string }> => paths.parentOf(p);

  /** Runs an async handler and answers libfuse: 0/value, or -errno. */
  function run<T>(op: string, p: string, cb: Cb, fn: () => Promise<T>, reply: (v: T) => unknown[] = () => []): void {
    const job = fn().then((v) => cb(0, ...reply(v)), (e: unknown) => {
      const errno = errnoOf(e);
      if (errno === ERRNO.EIO) opts.onError?.(op, p, e);
      cb(-errno);
    });
    pending.add(job);
    void job.finally(() => pending.delete(job));
  }

  const ops: FuseOps = {
    init: (cb) => cb(0),
    access: (_p, _m, cb) => cb(0),
    statfs: (p, cb) => run('statfs', p, cb, () => b.statfs(), (s) => [{
      bsize: s.blockSize, frsize: s.blockSize, blocks: Math.floor(s.totalBytes / s.blockSize), bfree: Math.floor(s.freeBytes / s.blockSize),
      bavail: Math.floor(s.availBytes / s.blockSize), files: s.files, ffree: s.freeFiles, favail: s.freeFiles, namemax: s.nameMax,
    }]),
    getattr: (p, cb) => run('getattr', p, cb, async () => b.getattr(await resolve(p)), (a) => [toStat(a)]),
    fgetattr: (p, fd, cb) => run('fgetattr', p, cb, async () => b.getattr(handles.get(fd) ?? await resolve(p)), (a) => [toStat(a)]),
    readdir: (p, cb) => run('readdir', p, cb, async () => {
      const ino = await resolve(p);
      const names: string[] = [];
      const stats: Array<Record<string, unknown>> = [];
      let cookie = 0;
      for (;;) {
        const page = await b.readdir(ino, cookie, 1000, true);
        for (const e of page.entries) {
          names.push(e.name);
          stats.push(e.attr ? toStat(e.attr) : { mode: e.type === 'dir' ? S_IFDIR | 0o755 : S_IFREG | 0o644, ino: e.ino });
        }
        if (page.eof || page.nextCookie === undefined) break;
        cookie = page.nextCookie;
      }
      return { names, stats };
    }, (r) => [r.names, r.stats]),
    opendir: (_p, _f, cb) => cb(0, 0),
    releasedir: (_p, _fd, cb) => cb(0),
    fsyncdir: (p, _d, _fd, cb) => run('fsyncdir', p, cb, async () => b.flush(await resolve(p))),
    open: (p, _flags, cb) => run('open', p, cb, async () => {
      const ino = await resolve(p);
      await b.open(ino);
      const fd = nextFd++;
      handles.set(fd, ino);
      return fd;
    }, (fd) => [fd]),
    create: (p, mode, cb) => run('create', p, cb, async () => {
      const { parent, name } = await parentOf(p);
      const a = await b.create(parent, name, mode & 0o7777, { exclusive: true });
      await b.open(a.ino);
      const fd = nextFd++;
      handles.set(fd, a.ino);
      return fd;
    }, (fd) => [fd]),
    read: (p, fd, buf, len, pos, cb) => {
      const job = (async () => b.read(handles.get(fd) ?? await resolve(p), pos, len))().then((data) => {
        data.copy(buf, 0, 0, Math.min(len, data.length));
        cb(Math.min(len, data.length));
      }, (e: unknown) => { opts.onError?.('read', p, e); cb(-errnoOf(e)); });
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
    write: (p, fd, buf, len, pos, cb) => {
      const job = (async () => b.write(handles.get(fd) ?? await resolve(p), pos, len === buf.length ? buf : buf.subarray(0, len)))().then(
        (n) => cb(n), (e: unknown) => { opts.onError?.('write', p, e); cb(-errnoOf(e)); });
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
    flush: (_p, _fd, cb) => cb(0),
    fsync: (p, _d, fd, cb) => run('fsync', p, cb, async () => b.flush(handles.get(fd) ?? await resolve(p))),
    release: (_p, fd, cb) => {
      // The kernel does not wait for RELEASE (close() has returned): answer at once and
      // commit in the background, a little later so that the utimens/chmod a program sends
      // right after close() (tar, cp -p, rsync) land in the same upload.
      const ino = handles.get(fd);
      handles.delete(fd);
      cb(0);
      if (ino !== undefined) releases.push(ino, _p);
    },
    truncate: (p, size, cb) => run('truncate', p, cb, async () => { await b.setattr(await resolve(p), { size }); }),
    ftruncate: (p, fd, size, cb) => run('ftruncate', p, cb, async () => { await b.setattr(handles.get(fd) ?? await resolve(p), { size }); }),
    chmod: (p, mode, cb) => run('chmod', p, cb, async () => { await b.setattr(await resolve(p), { mode: mode & 0o7777 }); }),
    chown: (p, uid, gid, cb) => run('chown', p, cb, async () => {
      const ch: { uid?: number; gid?: number } = {};
      if (uid !== UNCHANGED && uid !== -1) ch.uid = uid;
      if (gid !== UNCHANGED && gid !== -1) ch.gid = gid;
      await b.setattr(await resolve(p), ch);
    }),
    utimens: (p, atime, mtime, cb) => run('utimens', p, cb, async () => {
      // One time alone (touch -a / touch -m): the other arrives as UTIME_OMIT_MS.
      await b.setattr(await resolve(p), { atimeMs: atime >= UTIME_OMIT_MS ? undefined : atime, mtimeMs: mtime >= UTIME_OMIT_MS ? undefined : mtime });
    }),
    readlink: (p, cb) => run('readlink', p, cb, async () => b.readlink(await resolve(p)), (t) => [t]),
    symlink: (target, p, cb) => run('symlink', p, cb, async () => { const { parent, name } = await parentOf(p); await b.symlink(parent, name, target); }),
    link: (_src, _dest, cb) => cb(-ERRNO.EPERM),
    unlink: (p, cb) => run('unlink', p, cb, async () => { const { parent, name } = await parentOf(p); await b.unlink(parent, name); }),
    mkdir: (p, mode, cb) => run('mkdir', p, cb, async () => { const { parent, name } = await parentOf(p); await b.mkdir(parent, name, mode & 0o7777); }),
    rmdir: (p, cb) => run('rmdir', p, cb, async () => { const { parent, name } = await parentOf(p); await b.rmdir(parent, name); }),
    rename: (src, dest, cb) => run('rename', src, cb, async () => {
      const s = await parentOf(src);
      const d = await parentOf(dest);
      await b.rename(s.parent, s.name, d.parent, d.name);
    }),
  };

  const warning = await prepareNative(opts.nativeCacheDir);
  if (warning) opts.onWarning?.(warning);
  const cache = opts.cacheSeconds ?? 1;
  const fuse: FuseHandle = newFuse(opts.mountpoint, ops, {
    timeout: false, force: true, mkdir: false, fsname: opts.fsname ?? 'oio', subtype: 'oio', allowOther: opts.allowOther, debug: opts.debug,
    autoCache: true, attrTimeout: cache, entryTimeout: cache, acAttrTimeout: cache,
    extraOptions: ['big_writes', 'max_write=131072', 'max_readahead=1048576', `negative_timeout=${cache}`],
  });
  await new Promise<void>((res, rej) => fuse.mount((err) => (err ? rej(err) : res())));
  let unmounting: Promise<void> | undefined;
  return {
    mountpoint: opts.mountpoint,
    unmount() {
      unmounting ??= (async () => {
        await new Promise<void>((res) => fuse.unmount((err) => {
          if (err) forceUnmount(opts.mountpoint).then(() => res(), () => res());
          else res();
        }));
        await Promise.allSettled([...pending]);
        await releases.drain();
      })();
      return unmounting;
    },
  };
}

/** Background releases (commits) with a delay and a concurrency limit. */
class ReleaseQueue {
  private readonly queue: Array<{ ino: Ino; path: string; at: number }> = [];
  private running = 0;
  private idle: Array<() => void> = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly b: BridgeFs, private readonly delayMs: number, private readonly max: number, private readonly onError: (ino: Ino, p: string, e: unknown) => void) {}

  push(ino: Ino, path: string): void {
    this.queue.push({ ino, path, at: Date.now() + this.delayMs });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.max && this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.at - Date.now();
      if (wait > 0) {
        if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, wait);
        return;
      }
      this.queue.shift();
      this.running++;
      this.b.release(head.ino).catch((e: unknown) => this.onError(head.ino, head.path, e)).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  /** Resolves when every queued release is done (delays skipped). */
  drain(): Promise<void> {
    for (const q of this.queue) q.at = 0;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.pump();
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
