/**
 * @module fs-bridge/fuse/native
 * The native seam: fuse-native (libfuse2) behind one typed module, loaded with a clear
 * message when the addon or libfuse is missing. Adds the mount options fuse-native has no
 * flag for (big_writes, max_write, max_readahead) by extending its option string.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OioError } from '../../appliance/common';

export type Cb = (code: number, ...rest: unknown[]) => void;

/** The high-level (path-based) libfuse operations fuse-native calls. */
export interface FuseOps {
  init?(cb: Cb): void;
  access?(path: string, mode: number, cb: Cb): void;
  statfs?(path: string, cb: Cb): void;
  getattr?(path: string, cb: Cb): void;
  fgetattr?(path: string, fd: number, cb: Cb): void;
  flush?(path: string, fd: number, cb: Cb): void;
  fsync?(path: string, datasync: boolean, fd: number, cb: Cb): void;
  fsyncdir?(path: string, datasync: boolean, fd: number, cb: Cb): void;
  readdir?(path: string, cb: Cb): void;
  truncate?(path: string, size: number, cb: Cb): void;
  ftruncate?(path: string, fd: number, size: number, cb: Cb): void;
  readlink?(path: string, cb: Cb): void;
  chown?(path: string, uid: number, gid: number, cb: Cb): void;
  chmod?(path: string, mode: number, cb: Cb): void;
  open?(path: string, flags: number, cb: Cb): void;
  opendir?(path: string, flags: number, cb: Cb): void;
  read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void;
  write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb): void;
  release?(path: string, fd: number, cb: Cb): void;
  releasedir?(path: string, fd: number, cb: Cb): void;
  create?(path: string, mode: number, cb: Cb): void;
  utimens?(path: string, atime: number, mtime: number, cb: Cb): void;
  unlink?(path: string, cb: Cb): void;
  rename?(src: string, dest: string, cb: Cb): void;
  link?(src: string, dest: string, cb: Cb): void;
  symlink?(target: string, path: string, cb: Cb): void;
  mkdir?(path: string, mode: number, cb: Cb): void;
  rmdir?(path: string, cb: Cb): void;
}

export interface FuseOptions {
  /** per-operation timeout of fuse-native (ms); false: none (an fsync of a large file takes long) */
  timeout?: number | false;
  force?: boolean;
  mkdir?: boolean;
  fsname?: string;
  subtype?: string;
  allowOther?: boolean;
  autoCache?: boolean;
  attrTimeout?: number;
  entryTimeout?: number;
  acAttrTimeout?: number;
  maxRead?: number;
  debug?: boolean;
  /** extra `-o` options appended as they are */
  extraOptions?: string[];
}

export interface FuseHandle {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

interface FuseClass {
  new (mnt: string, ops: FuseOps, opts: FuseOptions): FuseHandle & { _fuseOptions(): string; opts: FuseOptions };
  unmount(mnt: string, cb: (err: Error | null) => void): void;
}

let loaded: FuseClass | undefined;
let fixedBinding: string | undefined;

/** A time `utimens` receives for UTIME_OMIT (the other time is set alone): leave it as is. */
export const UTIME_OMIT_MS = 2 ** 53;

/**
 * The corrections made to fuse-native 2.2.6's C source:
 * - it passes the access time twice to `utimens` (the second FUSE_UINT64_TO_INTS_ARGV reads
 *   l->atime), so no mtime set through FUSE survives (rsync, cp -a, tar);
 * - libfuse 2.9 calls `utimens` only when both times are set unless the file system says it
 *   understands UTIME_OMIT / UTIME_NOW (flag_utime_omit_ok): `touch -m` and `touch -a` were
 *   answered 0 and changed nothing. The flag is set; UTIME_NOW becomes the current time and
 *   UTIME_OMIT becomes UTIME_OMIT_MS.
 */
const C_FIXES: Array<[string, string]> = [
  ['FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)', 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)'],
  ['FUSE_METHOD_VOID(utimens,', `static uint64_t utime_arg (const struct timespec* ts) {
  if (ts->tv_nsec == UTIME_OMIT) return 9007199254740992ULL;
  if (ts->tv_nsec == UTIME_NOW) { struct timespec now; clock_gettime(CLOCK_REALTIME, &now); return timespec_to_uint64(&now); }
  return timespec_to_uint64(ts);
}

FUSE_METHOD_VOID(utimens,`],
  ['l->atime = timespec_to_uint64(&tv[0]);\n  l->mtime = timespec_to_uint64(&tv[1]);', 'l->atime = utime_arg(&tv[0]);\n  l->mtime = utime_arg(&tv[1]);'],
  ['if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;', 'if (implemented[op_utimens]) { ops.utimens = fuse_native_utimens; ops.flag_utime_omit_ok = 1; }'],
];

/**
 * fuse-native's C source with C_FIXES applied; undefined when none applies (a fixed release,
 * or a source already corrected, as the image's addon builder leaves it). Throws when only
 * some apply (another release: the fixes would be wrong).
 */
export function fixedFuseNativeSource(src: string): string | undefined {
  const missing = C_FIXES.filter(([from]) => !src.includes(from));
  if (missing.length === C_FIXES.length) return undefined;
  if (missing.length > 0) throw new Error(`fuse-native's source is not the one the utimens fixes are for (${missing.length} of ${C_FIXES.length} not found)`);
  return C_FIXES.reduce((text, [from, to]) => text.replace(from, to), src);
}

/** Where a release ships the corrected addon built at staging time (image/stage-app.sh): `<app>/native`. */
const SHIPPED_DIR = path.resolve(__dirname, '..', '..', '..', 'native');

/**
 * Until a fixed release is installed, the addon is rebuilt once from its own source with
 * C_FIXES applied (gcc, async, cached under `cacheDir`; a build shipped in SHIPPED_DIR is
 * used first, as on the appliance, which has no compiler) and loaded in place of the
 * prebuilt one. Resolves with a warning when it cannot (no compiler): mounts then work, with
 * those defects.
 */
export async function prepareNative(cacheDir = path.join(os.homedir(), '.cache', 'oio')): Promise<string | undefined> {
  if (loaded) return fixedBinding ? undefined : 'fuse-native already loaded';
  let fnDir: string;
  try { fnDir = path.dirname(require.resolve('fuse-native/package.json')); } catch (e) { return `fuse-native not found: ${(e as Error).message}`; }
  const src = await fs.promises.readFile(path.join(fnDir, 'fuse-native.c'), 'utf8').catch(() => undefined);
  if (!src) return undefined;
  let fixed: string | undefined;
  try { fixed = fixedFuseNativeSource(src); } catch (e) { return `${(e as Error).message}: modification times may be lost`; }
  if (fixed === undefined) return undefined;
  // N-API is ABI-stable: the source and the architecture name the build (a release's shipped
  // build, made with the build host's Node, serves the appliance's).
  const id = createHash('sha1').update(fixed).update(process.arch).digest('hex').slice(0, 12);
  const name = `fuse-native-${id}.node`;
  const shipped = path.join(SHIPPED_DIR, name);
  const out = fs.existsSync(shipped) ? shipped : path.join(cacheDir, name);
  if (!fs.existsSync(out)) {
    try {
      const shared = require(require.resolve('fuse-shared-library', { paths: [fnDir] })) as { include: string; lib: string };
      const { include, lib } = shared;
      const macros = path.dirname(require.resolve('napi-macros/package.json', { paths: [fnDir] }));
      const nodeInc = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
      if (!nodeInc) return 'node headers (node_api.h) not found';
      await fs.promises.mkdir(cacheDir, { recursive: true });
      const work = await fs.promises.mkdtemp(path.join(cacheDir, 'build-'));
      await fs.promises.writeFile(path.join(work, 'fuse-native.c'), fixed);
      await fs.promises.copyFile(path.join(fnDir, 'semaphore.h'), path.join(work, 'semaphore.h'));
      const tmp = path.join(work, 'fuse.node');
      await new Promise<void>((resolve, reject) => execFile('cc', [
        '-shared', '-fPIC', '-O2', '-D_FILE_OFFSET_BITS=64', '-o', tmp, path.join(work, 'fuse-native.c'),
        `-I${nodeInc}`, `-I${macros}`, `-I${include}`, lib, `-Wl,-rpath,${path.dirname(lib)}`, '-pthread',
      ], (err, _o, stderr) => (err ? reject(new Error(`cc: ${stderr || err.message}`)) : resolve())));
      await fs.promises.rename(tmp, out);
      await fs.promises.rm(work, { recursive: true, force: true });
    } catch (e) {
      return `cannot rebuild fuse-native with the utimens fixes (modification times set through FUSE are lost): ${(e as Error).message}`;
    }
  }
  // fuse-native loads its addon with node-gyp-build(__dirname): answer that call with ours.
  const ngbPath = require.resolve('node-gyp-build', { paths: [fnDir] });
  const original = require(ngbPath) as ((dir: string) => unknown) & Record<string, unknown>;
  const wrapper = Object.assign((dir: string) => (path.resolve(dir) === fnDir ? require(out) : original(dir)), original);
  const cached = require.cache[ngbPath];
  if (cached) cached.exports = wrapper;
  fixedBinding = out;
  return undefined;
}

function load(): FuseClass {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    loaded = require('fuse-native') as FuseClass;
  } catch (e) {
    throw new OioError('NOT_IMPLEMENTED', `FUSE is not available: the fuse-native module or libfuse2 cannot be loaded (apt-get install libfuse2 fuse): ${(e as Error).message}`, { cause: e });
  }
  return loaded;
}

/** A fuse-native mount with our extra options. */
export function newFuse(mnt: string, ops: FuseOps, opts: FuseOptions): FuseHandle {
  const Fuse = load();
  const f = new Fuse(mnt, ops, opts);
  const base = f._fuseOptions.bind(f);
  f._fuseOptions = () => {
    const o = base();
    const extra = opts.extraOptions ?? [];
    if (extra.length === 0) return o;
    return o ? `${o},${extra.join(',')}` : `-o${extra.join(',')}`;
  };
  return f;
}

/** `fusermount -uz` through fuse-native (async child process). */
export function forceUnmount(mnt: string): Promise<void> {
  const Fuse = load();
  return new Promise((resolve, reject) => Fuse.unmount(mnt, (err) => (err ? reject(err) : resolve())));
}
