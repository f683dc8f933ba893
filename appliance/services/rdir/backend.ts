/**
 * @module services/rdir/backend
 * The reverse index of one rawx volume, no HTTP: which chunks the volume holds, each with its
 * reverse links (container, content, position) and what a rebuilder needs (size, hash,
 * mtime, path, version, policy). One SQLite base per volume, never replicated (no operation
 * log); every write is one transaction (a batch of pushes or deletes), fsynced before the
 * service answers (group commit).
 * Entries are validated whole before anything is written: one bad entry refuses the batch.
 */
import path from 'node:path';
import { InvalidArgumentError, isChunkId, isCid, MAX_NAME_BYTES } from '../../common';
import type { RdirEntry, RdirFetchPage, RdirStatus } from '../../client/remote/rdir';
import { Base } from '../../sqliterepo';
import { MIGRATIONS } from './schema';

/** File name of the base inside the service's data folder. */
export const RDIR_BASE_FILE = 'rdir.db';
export const DEFAULT_FETCH_LIMIT = 1000;
export const MAX_FETCH_LIMIT = 10_000;
/** Most entries in one push or delete. */
export const MAX_BATCH = 10_000;

const CONTENT_ID_RE = /^[0-9A-Za-z_-]{1,128}$/;
const POS_RE = /^\d{1,9}(\.\d{1,4})?$/;
const HASH_RE = /^[0-9A-Fa-f]{0,128}$/;

type Row = {
  container_id: string; content_id: string; chunk_id: string; pos: string; size: number; hash: string; mtime: number;
  content_path: string; content_version: number; policy: string; chunk_method: string;
};

const COLUMNS = 'container_id, content_id, chunk_id, pos, size, hash, mtime, content_path, content_version, policy, chunk_method';

function bad(msg: string): InvalidArgumentError {
  return new InvalidArgumentError('BAD_REQUEST', msg);
}

function str(where: string, v: unknown, max = 256): string {
  if (typeof v !== 'string') throw bad(`${where} must be a string`);
  if (Buffer.byteLength(v, 'utf8') > max) throw bad(`${where} is longer than ${max} bytes`);
  return v;
}

function int(where: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`${where} must be an integer >= ${min}`);
  return v;
}

/** The array of a push/delete body (`{ chunks: [...] }`), checked; BAD_REQUEST. */
export function batchOf(body: unknown): unknown[] {
  const chunks = (body as { chunks?: unknown } | null)?.chunks;
  if (!Array.isArray(chunks)) throw bad('body must be { "chunks": [ ... ] }');
  if (chunks.length > MAX_BATCH) throw bad(`at most ${MAX_BATCH} chunks per request (got ${chunks.length})`);
  return chunks;
}

/** Checks one pushed entry; BAD_REQUEST naming the field (`chunks[3].container_id ...`). */
export function validateEntry(e: unknown, where = 'entry'): RdirEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad(`${where} must be an object`);
  const o = e as Record<string, unknown>;
  const cid = str(`${where}.container_id`, o.container_id);
  if (!isCid(cid)) throw bad(`${where}.container_id must be 64 uppercase hex digits`);
  const chunkId = str(`${where}.chunk_id`, o.chunk_id);
  if (!isChunkId(chunkId)) throw bad(`${where}.chunk_id must be 64 uppercase hex digits`);
  const contentId = str(`${where}.content_id`, o.content_id);
  if (!CONTENT_ID_RE.test(contentId)) throw bad(`${where}.content_id must be 1 to 128 of 0-9 A-Z a-z _ -`);
  const pos = str(`${where}.pos`, o.pos);
  if (!POS_RE.test(pos)) throw bad(`${where}.pos must be a metachunk position ("0", "3", "2.5")`);
  const hash = str(`${where}.hash`, o.hash ?? '');
  if (!HASH_RE.test(hash)) throw bad(`${where}.hash must be hex`);
  const contentPath = str(`${where}.content_path`, o.content_path ?? '', MAX_NAME_BYTES);
  return {
    container_id: cid, content_id: contentId, chunk_id: chunkId, pos,
    size: int(`${where}.size`, o.size), hash: hash.toUpperCase(), mtime: int(`${where}.mtime`, o.mtime),
    content_path: contentPath, content_version: int(`${where}.content_version`, o.content_version ?? 0),
    policy: str(`${where}.policy`, o.policy ?? ''), chunk_method: str(`${where}.chunk_method`, o.chunk_method ?? ''),
  };
}

/** Checks one delete entry: only `chunk_id` is needed (the other key fields are ignored). */
export function validateDelete(e: unknown, where = 'entry'): string {
  const id = typeof e === 'string' ? e : (e as { chunk_id?: unknown } | null)?.chunk_id;
  if (typeof id !== 'string' || !isChunkId(id)) throw bad(`${where}.chunk_id must be 64 uppercase hex digits`);
  return id;
}

/** Parses a fetch marker `CID/CONTENT_ID/CHUNK_ID` (the `next_marker` of the previous page). */
export function parseMarker(m: string): [string, string, string] {
  const parts = m.split('/');
  if (parts.length !== 3 || !isCid(parts[0]!) || !CONTENT_ID_RE.test(parts[1]!) || !isChunkId(parts[2]!)) {
    throw bad('marker must be CONTAINER_ID/CONTENT_ID/CHUNK_ID (the next_marker of the previous page)');
  }
  return parts as [string, string, string];
}

export class RdirBackend {
  private constructor(readonly base: Base, readonly volume: string) {}

  /**
   * Opens (creating if needed) the index of `volume` in `dataDir`. The volume's path is
   * recorded in the base (shown by status), so a base moved to another volume is visible.
   */
  static open(dataDir: string, volume: string, opts: { durable?: boolean } = {}): RdirBackend {
    const base = Base.open(path.join(dataDir, RDIR_BASE_FILE), MIGRATIONS, { oplog: false, durable: opts.durable }).identify('rdir', path.basename(volume));
    const b = new RdirBackend(base, path.resolve(volume));
    const recorded = base.get<{ v: string }>(`SELECT v FROM _admin WHERE k = 'volume'`)?.v;
    if (recorded !== b.volume) base.write((tx) => tx.run(`INSERT OR REPLACE INTO _admin (k, v) VALUES ('volume', ?)`, [b.volume]));
    return b;
  }

  /**
   * Records chunks as stored on the volume (a known chunk id is replaced: same chunk, newer
   * metadata). Returns how many were written. BAD_REQUEST (nothing written) on any bad entry.
   */
  push(entries: unknown[], now = Date.now()): number {
    const rows = entries.map((e, i) => validateEntry(e, `chunks[${i}]`));
    if (rows.length === 0) return 0;
    return this.base.write((tx) => {
      for (const r of rows) {
        tx.run(`INSERT OR REPLACE INTO chunks (${COLUMNS}, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [r.container_id, r.content_id, r.chunk_id, r.pos, r.size, r.hash, r.mtime, r.content_path, r.content_version, r.policy, r.chunk_method, now]);
      }
      return rows.length;
    }, now);
  }

  /** Forgets chunks (by chunk id); unknown ids are fine. Returns how many rows went. */
  delete(entries: unknown[], now = Date.now()): number {
    const ids = entries.map((e, i) => validateDelete(e, `chunks[${i}]`));
    if (ids.length === 0) return 0;
    return this.base.write((tx) => ids.reduce((n, id) => n + tx.run(`DELETE FROM chunks WHERE chunk_id = ?`, [id]).changes, 0), now);
  }

  /**
   * One page of the index in (container, content, chunk) order after `marker`, at most
   * `limit` (1..10,000, default 1,000), optionally of one container. BAD_REQUEST.
   */
  fetch(opts: { marker?: string; limit?: number; containerId?: string } = {}): RdirFetchPage {
    const limit = opts.limit ?? DEFAULT_FETCH_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FETCH_LIMIT) throw bad(`limit must be an integer in 1..${MAX_FETCH_LIMIT}`);
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (opts.containerId !== undefined && opts.containerId !== '') {
      if (!isCid(opts.containerId)) throw bad('container_id must be 64 uppercase hex digits');
      where.push('container_id = ?');
      params.push(opts.containerId);
    }
    if (opts.marker) {
      where.push('(container_id, content_id, chunk_id) > (?, ?, ?)');
      params.push(...parseMarker(opts.marker));
    }
    const rows = this.base.all<Row>(
      `SELECT ${COLUMNS} FROM chunks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY container_id, content_id, chunk_id LIMIT ?`,
      [...params, limit + 1]);
    const truncated = rows.length > limit;
    const chunks = truncated ? rows.slice(0, limit) : rows;
    const last = chunks[chunks.length - 1];
    return truncated && last ? { chunks, truncated, next_marker: `${last.container_id}/${last.content_id}/${last.chunk_id}` } : { chunks, truncated };
  }

  /** Counts: chunks and bytes of the volume, and per container. */
  status(): RdirStatus {
    const total = this.base.get<{ n: number; b: number | null }>(`SELECT COUNT(*) AS n, SUM(size) AS b FROM chunks`)!;
    const containers: RdirStatus['containers'] = {};
    for (const r of this.base.all<{ container_id: string; n: number; b: number }>(
      `SELECT container_id, COUNT(*) AS n, SUM(size) AS b FROM chunks GROUP BY container_id ORDER BY container_id`)) {
      containers[r.container_id] = { total: r.n, bytes: r.b };
    }
    return { volume: this.volume, chunks: { total: total.n, bytes: total.b ?? 0 }, containers };
  }

  /**
   * Removes every row (or, with `before`, the rows last written before that epoch ms: the
   * end of a rebuild, which pushed every chunk it found again). Returns how many went.
   */
  clear(before?: number, now = Date.now()): number {
    if (before !== undefined && (typeof before !== 'number' || !Number.isFinite(before) || before < 0)) throw bad('before must be epoch milliseconds');
    return this.base.write((tx) => (before === undefined
      ? tx.run(`DELETE FROM chunks`).changes
      : tx.run(`DELETE FROM chunks WHERE indexed < ?`, [before]).changes), now);
  }

  close(): void {
    this.base.close();
  }
}
