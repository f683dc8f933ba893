/**
 * @module services/account/backend
 * Account logic, no HTTP: accounts, their containers and usage, in one base.
 * Container updates carry absolute values and the mtime of the change; the greatest
 * (mtime, deleted, objects, bytes) wins, so updates are idempotent and order-independent.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { validateName } from '../../common/naming';
import { Base, writeBaseFile } from '../../sqliterepo';
import { MIGRATIONS } from './schema';

/** File name of the account base inside the service's data folder. */
export const ACCOUNT_BASE_FILE = 'account.db';
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

/** GET /v1/account/show answer: live sums over the account's containers. */
export interface AccountInfo { id: string; ctime: number; containers: number; objects: number; bytes: number }

/** A container's usage; `ctime` is when it was created (the first update seen of it). */
export interface ContainerUsage { name: string; objects: number; bytes: number; mtime: number; ctime: number }

export interface ContainerListing { containers: ContainerUsage[]; truncated: boolean; next_marker?: string }

/** POST /v1/account/container/update body. */
export interface ContainerUpdate { id: string; container: string; objects: number; bytes: number; mtime: number; deleted?: boolean }

function checkCount(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError('BAD_REQUEST', `${what} must be a non-negative integer`);
  return v;
}

type Row = { objects: number; bytes: number; mtime: number; deleted: number; ctime?: number | null; dtime?: number | null };

/** True when `a` is newer than (or as new as and greater than) `b`: the winner of the two. */
function wins(a: Row, b: Row): boolean {
  if (a.mtime !== b.mtime) return a.mtime > b.mtime;
  if (a.deleted !== b.deleted) return a.deleted > b.deleted;
  if (a.objects !== b.objects) return a.objects > b.objects;
  return a.bytes >= b.bytes;
}

/** The name of the account base in elections and replication. */
export const ACCOUNT_BASE = 'account';

/** A user (S3 credentials). `secret_key` only in show/create answers, never in lists or logs. */
export interface UserInfo { access_key: string; secret_key?: string; account: string; ctime: number }

/** A bucket name of the global S3 namespace and its owner account. */
export interface BucketOwner { name: string; account: string; ctime: number }

const ACCESS_KEY_RE = /^[A-Za-z0-9._-]{3,128}$/;
const SECRET_KEY_RE = /^[\x21-\x7e]{8,128}$/;

export class AccountBackend {
  constructor(public base: Base, private readonly file?: string) {}

  /** Opens (creating if needed) the account base in `dataDir`. */
  static open(dataDir: string): AccountBackend {
    const file = path.join(dataDir, ACCOUNT_BASE_FILE);
    return new AccountBackend(Base.open(file, MIGRATIONS).identify('account', ACCOUNT_BASE), file);
  }

  /** Replaces the base by a copy from its master (whole-base resync of a replica). */
  restore(data: Buffer): void {
    if (!this.file) throw new Error('account base opened without a file');
    this.base.close();
    writeBaseFile(this.file, data);
    this.base = Base.open(this.file, MIGRATIONS).identify('account', ACCOUNT_BASE);
  }

  /** Creates an account (existing: no-op). Returns true when created. INVALID_NAME. */
  create(idIn: unknown, now: number): boolean {
    const id = validateName('account', idIn);
    return this.base.write((tx) => tx.run(`INSERT OR IGNORE INTO accounts (id, ctime) VALUES (?, ?)`, [id, now]).changes > 0, now);
  }

  /** The account with live sums; ACCOUNT_NOT_FOUND. */
  show(idIn: unknown): AccountInfo {
    const id = validateName('account', idIn);
    const acc = this.base.get<{ ctime: number }>(`SELECT ctime FROM accounts WHERE id = ?`, [id]);
    if (!acc) throw new NotFoundError('ACCOUNT_NOT_FOUND', `account ${id} not found`);
    const s = this.base.get<{ c: number; o: number | null; b: number | null }>(
      `SELECT COUNT(*) AS c, SUM(objects) AS o, SUM(bytes) AS b FROM containers WHERE account = ? AND deleted = 0`, [id])!;
    return { id, ctime: acc.ctime, containers: s.c, objects: s.o ?? 0, bytes: s.b ?? 0 };
  }

  /** All account ids, in byte order. */
  list(): string[] {
    return this.base.all<{ id: string }>(`SELECT id FROM accounts ORDER BY id`).map((r) => r.id);
  }

  /**
   * The account's containers in byte order of their names, after `marker`, starting with
   * `prefix`, at most `limit` (default 1000, max 10,000). ACCOUNT_NOT_FOUND, BAD_REQUEST.
   */
  containers(idIn: unknown, opts: { prefix?: string; marker?: string; limit?: number } = {}): ContainerListing {
    const id = validateName('account', idIn);
    if (!this.base.get(`SELECT 1 AS x FROM accounts WHERE id = ?`, [id])) throw new NotFoundError('ACCOUNT_NOT_FOUND', `account ${id} not found`);
    const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new InvalidArgumentError('BAD_REQUEST', `limit must be in 1..${MAX_LIST_LIMIT}`);
    const prefix = opts.prefix ?? '';
    const marker = opts.marker ?? '';
    // name >= prefix narrows the index scan; substr() checks the prefix exactly.
    const rows = this.base.all<ContainerUsage>(
      `SELECT name, objects, bytes, mtime, COALESCE(ctime, mtime) AS ctime FROM containers
        WHERE account = ? AND deleted = 0 AND name > ? AND name >= ? AND substr(name, 1, length(?)) = ?
        ORDER BY name LIMIT ?`, [id, marker, prefix, prefix, prefix, limit + 1]);
    const truncated = rows.length > limit;
    const containers = truncated ? rows.slice(0, limit) : rows;
    return truncated ? { containers, truncated, next_marker: containers[containers.length - 1]!.name } : { containers, truncated };
  }

  /**
   * Records a container's usage (absolute values). An update older than the stored one is
   * ignored; `deleted` leaves a tombstone (the container disappears from listings and sums).
   * An unknown account is created. Returns true when the update was applied.
   */
  containerUpdate(u: ContainerUpdate, now: number): boolean {
    const id = validateName('account', u.id);
    const name = validateName('container', u.container);
    const deleted = u.deleted === true ? 1 : 0;
    const objects = deleted ? 0 : checkCount('objects', u.objects ?? 0);
    const bytes = deleted ? 0 : checkCount('bytes', u.bytes ?? 0);
    if (typeof u.mtime !== 'number' || !Number.isFinite(u.mtime) || u.mtime < 0) throw new InvalidArgumentError('BAD_REQUEST', 'mtime must be a non-negative number');
    const incoming: Row = { objects, bytes, mtime: u.mtime, deleted };
    return this.base.write((tx) => {
      tx.run(`INSERT OR IGNORE INTO accounts (id, ctime) VALUES (?, ?)`, [id, now]);
      const cur = tx.get<Row>(`SELECT objects, bytes, mtime, deleted, ctime, dtime FROM containers WHERE account = ? AND name = ?`, [id, name]);
      // The creation time is the least mtime of the live updates since the last delete, so it
      // does not depend on the order updates come in (an older one still lowers it).
      if (cur && !wins(incoming, cur)) {
        if (!deleted && !cur.deleted && u.mtime > (cur.dtime ?? -Infinity) && u.mtime < (cur.ctime ?? cur.mtime)) {
          tx.run(`UPDATE containers SET ctime = ? WHERE account = ? AND name = ?`, [u.mtime, id, name]);
          return true;
        }
        return false;
      }
      if (cur && cur.mtime === incoming.mtime && cur.deleted === incoming.deleted && cur.objects === incoming.objects && cur.bytes === incoming.bytes) return false;
      const dtime = deleted ? u.mtime : cur?.deleted ? cur.mtime : (cur?.dtime ?? null);
      const ctime = deleted ? null : cur && !cur.deleted ? Math.min(cur.ctime ?? cur.mtime, u.mtime) : u.mtime;
      tx.run(`INSERT OR REPLACE INTO containers (account, name, objects, bytes, mtime, deleted, ctime, dtime) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, name, objects, bytes, u.mtime, deleted, ctime, dtime]);
      return true;
    }, now);
  }

  /**
   * Creates a user: access key -> account + secret. Keys are generated when absent (20
   * upper-case alphanumerics / 40 base64url characters). With `replace` an existing key is
   * overwritten (the default user of `oio node up`), else BAD_REQUEST. The account is created.
   */
  userCreate(b: { access_key?: unknown; secret_key?: unknown; account?: unknown; replace?: unknown }, now: number): UserInfo {
    const account = validateName('account', b.account);
    const access = b.access_key === undefined || b.access_key === '' ? randomBytes(15).toString('base64').replace(/[^A-Za-z0-9]/g, 'X').toUpperCase().slice(0, 20) : b.access_key;
    if (typeof access !== 'string' || !ACCESS_KEY_RE.test(access)) throw new InvalidArgumentError('BAD_REQUEST', 'access_key must be 3 to 128 of A-Z a-z 0-9 . _ -');
    const secret = b.secret_key === undefined || b.secret_key === '' ? randomBytes(30).toString('base64url') : b.secret_key;
    if (typeof secret !== 'string' || !SECRET_KEY_RE.test(secret)) throw new InvalidArgumentError('BAD_REQUEST', 'secret_key must be 8 to 128 printable ASCII characters');
    return this.base.write((tx) => {
      const cur = tx.get<{ ctime: number }>(`SELECT ctime FROM users WHERE access_key = ?`, [access]);
      if (cur && b.replace !== true) throw new InvalidArgumentError('BAD_REQUEST', `access key ${access} exists`);
      tx.run(`INSERT OR IGNORE INTO accounts (id, ctime) VALUES (?, ?)`, [account, now]);
      tx.run(`INSERT OR REPLACE INTO users (access_key, secret_key, account, ctime) VALUES (?, ?, ?, ?)`, [access, secret, account, cur?.ctime ?? now]);
      return { access_key: access, secret_key: secret, account, ctime: cur?.ctime ?? now };
    }, now);
  }

  /** One user with its secret (the S3 gateway verifies signatures with it); ACCOUNT_NOT_FOUND. */
  userShow(accessIn: unknown): UserInfo {
    const access = typeof accessIn === 'string' ? accessIn : '';
    const row = this.base.get<UserInfo>(`SELECT access_key, secret_key, account, ctime FROM users WHERE access_key = ?`, [access]);
    if (!row) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'no such access key');
    return row;
  }

  /** Every user, without secrets, by access key (optionally of one account). */
  userList(account?: string): UserInfo[] {
    return account
      ? this.base.all<UserInfo>(`SELECT access_key, account, ctime FROM users WHERE account = ? ORDER BY access_key`, [account])
      : this.base.all<UserInfo>(`SELECT access_key, account, ctime FROM users ORDER BY access_key`);
  }

  /** Deletes a user (its account and data stay); ACCOUNT_NOT_FOUND. */
  userDelete(accessIn: unknown, now: number): void {
    const access = typeof accessIn === 'string' ? accessIn : '';
    const done = this.base.write((tx) => tx.run(`DELETE FROM users WHERE access_key = ?`, [access]).changes > 0, now);
    if (!done) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'no such access key');
  }

  /**
   * Reserves a bucket name for `account` unless another holds it: answers the owner (the
   * caller's account when reserved now or already its own). INVALID_NAME.
   */
  bucketReserve(b: { name?: unknown; account?: unknown }, now: number): BucketOwner {
    const name = validateName('container', b.name);
    const account = validateName('account', b.account);
    return this.base.write((tx) => {
      const cur = tx.get<BucketOwner>(`SELECT name, account, ctime FROM buckets WHERE name = ?`, [name]);
      if (cur) return cur;
      tx.run(`INSERT INTO buckets (name, account, ctime) VALUES (?, ?, ?)`, [name, account, now]);
      return { name, account, ctime: now };
    }, now);
  }

  /** Releases a bucket name held by `account` (held by another, or by none: nothing done). Returns true when released. */
  bucketRelease(b: { name?: unknown; account?: unknown }, now: number): boolean {
    const name = validateName('container', b.name);
    const account = validateName('account', b.account);
    return this.base.write((tx) => tx.run(`DELETE FROM buckets WHERE name = ? AND account = ?`, [name, account]).changes > 0, now);
  }

  /** The owner of a bucket name; CONTAINER_NOT_FOUND when nobody reserved it. */
  bucketShow(nameIn: unknown): BucketOwner {
    const name = validateName('container', nameIn);
    const row = this.base.get<BucketOwner>(`SELECT name, account, ctime FROM buckets WHERE name = ?`, [name]);
    if (!row) throw new NotFoundError('CONTAINER_NOT_FOUND', `bucket ${name} not reserved`);
    return row;
  }

  close(): void {
    this.base.close();
  }
}
