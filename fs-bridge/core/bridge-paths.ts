/**
 * @module fs-bridge/core/bridge-paths
 * Client paths onto the bridge's inodes, for the path-based front ends (FUSE, FTP, SFTP and
 * scp): POSIX normalization against the root (`..` and absolute paths stop at '/'),
 * component-by-component lookups, parent folders, symbolic links followed.
 */
import path from 'node:path';
import { InvalidArgumentError, OioError, isNotFound } from '../../appliance/common';
import { ROOT_INO, type Attr, type BridgeFs, type Ino } from './types';

/** Absolute, normalized path of a client path (relative ones start at '/'). */
export function normalizePath(p: string): string {
  const joined = path.posix.join('/', p === '' ? '.' : p);
  const n = path.posix.normalize(joined);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Path lookups over one bridge. */
export class BridgePaths {
  constructor(readonly fs: BridgeFs) {}

  /** Attributes of an absolute path (symbolic links in the path are not followed). */
  async resolve(abs: string): Promise<Attr> {
    let a: Attr | undefined;
    for (const part of abs.split('/')) {
      if (part === '') continue;
      if (a && a.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
      a = await this.fs.lookup(a?.ino ?? ROOT_INO, part);
    }
    return a ?? this.fs.getattr(ROOT_INO);
  }

  /** Like resolve, undefined when the path does not exist. */
  async find(abs: string): Promise<Attr | undefined> {
    try { return await this.resolve(abs); } catch (e) { if (isNotFound(e)) return undefined; throw e; }
  }

  /** The parent directory's inode and the last name of a path (never the root). */
  async parentOf(abs: string): Promise<{ parent: Ino; name: string }> {
    if (abs === '/') throw new OioError('NOT_ALLOWED', 'the root cannot be changed');
    const p = await this.resolve(path.posix.dirname(abs));
    if (p.type !== 'dir') throw new InvalidArgumentError('BAD_REQUEST', 'not a directory', { details: { reason: 'not_dir' } });
    return { parent: p.ino, name: path.posix.basename(abs) };
  }

  /** Follows symbolic links (at most 8, relative targets from the link's folder) to what they name. */
  async follow(abs: string): Promise<{ abs: string; attr: Attr }> {
    let cur = abs;
    let a = await this.resolve(cur);
    for (let i = 0; a.type === 'symlink'; i++) {
      if (i >= 8) throw new InvalidArgumentError('BAD_REQUEST', 'too many levels of symbolic links');
      const target = await this.fs.readlink(a.ino);
      cur = normalizePath(path.posix.isAbsolute(target) ? target : path.posix.join(path.posix.dirname(cur), target));
      a = await this.resolve(cur);
    }
    return { abs: cur, attr: a };
  }
}
