/**
 * @module fs-bridge/core/inode-table
 * The permanent inode numbers of a bridge: a small local SQLite base (better-sqlite3, behind
 * this one module) mapping ino <-> (container, path). A number is given once to a path and
 * kept across restarts and renames (rename moves the row and the rows beneath it), so NFS
 * file handles stay valid. Lookups go through an in-memory map in front of the base; each
 * statement is a sub-millisecond local call (no network, WAL, synchronous=NORMAL).
 */
import fs from 'node:fs';
import path from 'node:path';
import { OioError } from '../../appliance/common';
import { ROOT_INO, type Ino } from './types';

/** Where an inode lives: `ctr` '' is the account root; `path` '' is the container's top level. */
export interface Loc {
  ctr: string;
  path: string;
}

interface NativeStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  pragma(sql: string): unknown;
  exec(sql: string): void;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T;
  close(): void;
}

/** The native seam: loads better-sqlite3 with a clear message when the addon is missing. */
function openNative(file: string): NativeDatabase {
  let Database: new (file: string) => NativeDatabase;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    Database = require('better-sqlite3') as new (file: string) => NativeDatabase;
  } catch (e) {
    throw new OioError('INTERNAL', `fs-bridge: the better-sqlite3 native module cannot be loaded (${(e as Error).message})`, { cause: e });
  }
  return new Database(file);
}

const keyOf = (l: Loc) => `${l.ctr}\0${l.path}`;

/** ino <-> (container, path), permanent. */
export class InodeTable {
  private readonly db: NativeDatabase;
  private readonly byKey = new Map<string, Ino>();
  private readonly byIno = new Map<Ino, Loc>();
  private readonly stGet: NativeStatement;
  private readonly stLoc: NativeStatement;
  private readonly stInsert: NativeStatement;
  private readonly stDelete: NativeStatement;
  private readonly renameTx: (from: Loc, to: Loc) => void;

  /** `root` is inode 1 (kept in the base: a base made for another root is refused). */
  constructor(file: string, readonly root: Loc) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = openNative(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS inodes (
      ino INTEGER PRIMARY KEY AUTOINCREMENT, ctr TEXT NOT NULL, path TEXT NOT NULL, UNIQUE (ctr, path))`);
    const r = this.db.prepare('SELECT ctr, path FROM inodes WHERE ino = 1').get() as Loc | undefined;
    if (!r) this.db.prepare('INSERT INTO inodes (ino, ctr, path) VALUES (1, ?, ?)').run(root.ctr, root.path);
    else if (r.ctr !== root.ctr || r.path !== root.path) {
      this.db.close();
      throw new OioError('BAD_REQUEST', `inode base ${file} belongs to root "${r.ctr}" not "${root.ctr}"`);
    }
    this.stGet = this.db.prepare('SELECT ino FROM inodes WHERE ctr = ? AND path = ?');
    this.stLoc = this.db.prepare('SELECT ctr, path FROM inodes WHERE ino = ?');
    this.stInsert = this.db.prepare('INSERT INTO inodes (ctr, path) VALUES (?, ?)');
    this.stDelete = this.db.prepare('DELETE FROM inodes WHERE ctr = ? AND path = ?');
    const stDelUnder = this.db.prepare("DELETE FROM inodes WHERE ctr = ? AND (path = ? OR substr(path, 1, ?) = ?)");
    const stMove = this.db.prepare('UPDATE inodes SET ctr = ?, path = ? || substr(path, ?) WHERE ctr = ? AND (path = ? OR substr(path, 1, ?) = ?)');
    this.renameTx = this.db.transaction((from: Loc, to: Loc) => {
      const fromDir = from.path === '' ? '' : `${from.path}/`;
      const toDir = to.path === '' ? '' : `${to.path}/`;
      // The destination's inodes (an overwritten file or empty dir) are forgotten first.
      stDelUnder.run(to.ctr, to.path, toDir.length, toDir);
      stMove.run(to.ctr, to.path, from.path.length + 1, from.ctr, from.path, fromDir.length, fromDir);
    });
  }

  /** The inode of a location, given on first sight and kept. */
  inoOf(loc: Loc): Ino {
    const k = keyOf(loc);
    const cached = this.byKey.get(k);
    if (cached !== undefined) return cached;
    let row = this.stGet.get(loc.ctr, loc.path) as { ino: number } | undefined;
    if (!row) row = { ino: Number(this.stInsert.run(loc.ctr, loc.path).lastInsertRowid) };
    this.remember(row.ino, loc);
    return row.ino;
  }

  /** The inode of a location if it has one. */
  find(loc: Loc): Ino | undefined {
    const k = keyOf(loc);
    const cached = this.byKey.get(k);
    if (cached !== undefined) return cached;
    const row = this.stGet.get(loc.ctr, loc.path) as { ino: number } | undefined;
    if (row) this.remember(row.ino, loc);
    return row?.ino;
  }

  /** Where an inode lives, undefined when it was forgotten (removed). */
  locOf(ino: Ino): Loc | undefined {
    if (ino === ROOT_INO) return this.root;
    const cached = this.byIno.get(ino);
    if (cached) return cached;
    const row = this.stLoc.get(ino) as Loc | undefined;
    if (row) this.remember(ino, { ctr: row.ctr, path: row.path });
    return row;
  }

  /** Forgets a removed file or directory (its number is never given again). */
  remove(loc: Loc): void {
    if (loc.ctr === this.root.ctr && loc.path === this.root.path) return;
    this.stDelete.run(loc.ctr, loc.path);
    const k = keyOf(loc);
    const ino = this.byKey.get(k);
    this.byKey.delete(k);
    if (ino !== undefined) this.byIno.delete(ino);
  }

  /** Moves a location and everything beneath it; the inode numbers follow. */
  rename(from: Loc, to: Loc): void {
    this.renameTx(from, to);
    this.byKey.clear();
    this.byIno.clear();
  }

  close(): void { this.db.close(); }

  private remember(ino: Ino, loc: Loc): void {
    if (this.byKey.size > 200_000) { this.byKey.clear(); this.byIno.clear(); }
    this.byKey.set(keyOf(loc), ino);
    this.byIno.set(ino, loc);
  }
}
