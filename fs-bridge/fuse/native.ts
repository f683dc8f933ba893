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

/**
 * fuse-native 2.2.6 passes the access time twice to `utimens` (fuse-native.c: the second
 * FUSE_UINT64_TO_INTS_ARGV reads l->atime), so no mtime set through FUSE survives (rsync,
 * cp -a, tar lose modification times). Until a fixed release is installed, the addon is
 * rebuilt once from its own source with that line corrected (gcc, async, cached under
 * `cacheDir`) and loaded in place of the prebuilt one. Resolves with a warning when it
 * cannot (no compiler): mounts then work, with that one defect.
 */
export async function prepareNative(cacheDir = path.join(os.homedir(), '.cache', 'oio')): Promise<string | undefined> {
  if (loaded) return fixedBinding ? undefined : 'fuse-native already loaded';
  let fnDir: string;
  try { fnDir = path.dirname(require.resolve('fuse-native/package.json')); } catch (e) { return `fuse-native not found: ${(e as Error).message}`; }
  const src = await fs.promises.readFile(path.join(fnDir, 'fuse-native.c'), 'utf8').catch(() => undefined);
  const BAD = 'FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)';
  if (!src || !src.includes(BAD)) return undefined;
  const fixed = src.replace(BAD, 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)');
  const id = createHash('sha1').update(fixed).update(process.versions.napi ?? '').update(process.arch).digest('hex').slice(0, 12);
  const out = path.join(cacheDir, `fuse-native-${id}.node`);
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
      return `cannot rebuild fuse-native with the utimens fix (modification times set through FUSE are lost): ${(e as Error).message}`;
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
