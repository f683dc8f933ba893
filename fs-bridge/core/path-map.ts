/**
 * @module fs-bridge/core/path-map
 * Paths onto the flat namespace: `/<container>/a/b/file` is object `a/b/file`, a directory
 * `a/b` is the prefix `a/b/` of some object or an explicit marker object `a/b/`. Names are
 * checked here so nothing escapes the bridge: '', '.', '..', '/' and NUL are refused.
 * POSIX attributes live in object properties (`fs.mode` octal, `fs.uid`, `fs.gid`,
 * `fs.mtime` / `fs.atime` in ms, `fs.symlink` the link target).
 */
import { InvalidArgumentError, isReservedName } from '../../appliance/common';

/** st_mode of an entry: its type bits (S_IFDIR, S_IFLNK, S_IFREG) and permission bits. */
export function stModeOf(a: { type: 'file' | 'dir' | 'symlink'; mode: number }): number {
  return (a.type === 'dir' ? 0o040000 : a.type === 'symlink' ? 0o120000 : 0o100000) | (a.mode & 0o7777);
}

/** Longest file name (bytes), as most local file systems. */
export const NAME_MAX = 255;

export const PROP = { mode: 'fs.mode', uid: 'fs.uid', gid: 'fs.gid', mtime: 'fs.mtime', atime: 'fs.atime', symlink: 'fs.symlink' } as const;

/** Refuses names that could escape or corrupt the mapping; returns the name. */
export function checkName(name: string): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..') throw new InvalidArgumentError('INVALID_NAME', `invalid file name "${String(name)}"`);
  if (name.includes('/') || name.includes('\0')) throw new InvalidArgumentError('INVALID_NAME', 'a file name may not contain "/" or NUL');
  if (isReservedName(name)) throw new InvalidArgumentError('INVALID_NAME', 'a file name may not start with U+10FFFF (reserved for S3 multipart uploads)');
  if (Buffer.byteLength(name, 'utf8') > NAME_MAX) throw new InvalidArgumentError('INVALID_NAME', `file name longer than ${NAME_MAX} bytes`, { details: { reason: 'name_too_long' } });
  return name;
}

/** The object path of `name` inside directory path `dir` ('' is the container's top level). */
export function childPath(dir: string, name: string): string {
  return dir === '' ? checkName(name) : `${dir}/${checkName(name)}`;
}

/** The listing prefix of a directory path. */
export function dirPrefix(dir: string): string {
  return dir === '' ? '' : `${dir}/`;
}

/** The marker object of an explicit directory. */
export function markerOf(dir: string): string {
  return `${dir}/`;
}

/** The parent directory path and base name of an object path. */
export function splitPath(p: string): { dir: string; name: string } {
  const i = p.lastIndexOf('/');
  return i < 0 ? { dir: '', name: p } : { dir: p.slice(0, i), name: p.slice(i + 1) };
}

/** Properties holding POSIX attributes. */
export function attrProps(a: { mode?: number; uid?: number; gid?: number; mtimeMs?: number; atimeMs?: number; symlink?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (a.mode !== undefined) out[PROP.mode] = (a.mode & 0o7777).toString(8);
  if (a.uid !== undefined) out[PROP.uid] = String(a.uid);
  if (a.gid !== undefined) out[PROP.gid] = String(a.gid);
  if (a.mtimeMs !== undefined) out[PROP.mtime] = String(Math.round(a.mtimeMs));
  if (a.atimeMs !== undefined) out[PROP.atime] = String(Math.round(a.atimeMs));
  if (a.symlink !== undefined) out[PROP.symlink] = a.symlink;
  return out;
}

const num = (s: string | undefined, radix = 10): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number.parseInt(s, radix);
  return Number.isFinite(n) ? n : undefined;
};

/** POSIX attributes read back from properties (absent ones undefined). */
export function propAttrs(p: Record<string, string> | undefined): { mode?: number; uid?: number; gid?: number; mtimeMs?: number; atimeMs?: number; symlink?: string } {
  if (!p) return {};
  const mode = num(p[PROP.mode], 8);
  return {
    mode: mode === undefined ? undefined : mode & 0o7777,
    uid: num(p[PROP.uid]), gid: num(p[PROP.gid]),
    mtimeMs: num(p[PROP.mtime]), atimeMs: num(p[PROP.atime]),
    symlink: p[PROP.symlink],
  };
}
