/**
 * @module services/meta0/backend
 * meta0 logic, no HTTP: the map of the 65,536 prefixes to their meta1 replica sets, kept in
 * one base. Every write goes through Base.write (a numbered operation).
 */
import path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { Base } from '../../sqliterepo';
import { MIGRATIONS, PREFIX_COUNT, SQL_FILL_PREFIXES } from './schema';

/** File name of the meta0 base inside the service's data folder. */
export const META0_BASE_FILE = 'meta0.db';

/** Checks a prefix (4 hex digits, any case) and returns it in upper case; BAD_REQUEST otherwise. */
export function parsePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !/^[0-9A-Fa-f]{4}$/.test(prefix)) throw new InvalidArgumentError('BAD_REQUEST', `prefix must be 4 hex digits, got "${String(prefix)}"`);
  return prefix.toUpperCase();
}

function formatPrefix(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

export interface Meta0InitOptions {
  meta1: string[];
  /** meta1 per prefix; default min(3, meta1.length) */
  replicas?: number;
  /** replace an existing map */
  force?: boolean;
}

export class Meta0Backend {
  constructor(readonly base: Base) {}

  /** Opens (creating if needed) the meta0 base in `dataDir`. */
  static open(dataDir: string): Meta0Backend {
    return new Meta0Backend(Base.open(path.join(dataDir, META0_BASE_FILE), MIGRATIONS));
  }

  get isInitialized(): boolean {
    return this.base.get(`SELECT 1 AS x FROM prefixes LIMIT 1`) !== undefined;
  }

  /**
   * Assigns the prefixes round-robin over `meta1`. Idempotent: when a map exists and `force`
   * is not set, nothing changes and false is returned. Throws BAD_REQUEST on a bad list or
   * replica count (1..meta1.length).
   */
  init(opts: Meta0InitOptions, now: number): boolean {
    const { meta1 } = opts;
    if (!Array.isArray(meta1) || meta1.length === 0 || !meta1.every((a) => typeof a === 'string' && /^[^\s:]+:\d{1,5}$/.test(a))) {
      throw new InvalidArgumentError('BAD_REQUEST', 'meta1 must be a non-empty list of "host:port"');
    }
    if (new Set(meta1).size !== meta1.length) throw new InvalidArgumentError('BAD_REQUEST', 'meta1 addresses must be distinct');
    const replicas = opts.replicas ?? Math.min(3, meta1.length);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > meta1.length) {
      throw new InvalidArgumentError('BAD_REQUEST', `replicas must be an integer in 1..${meta1.length}`);
    }
    return this.base.write((tx) => {
      const exists = tx.get(`SELECT 1 AS x FROM prefixes LIMIT 1`) !== undefined;
      if (exists && !opts.force) return false;
      tx.run(`DELETE FROM prefixes`);
      tx.run(SQL_FILL_PREFIXES, { m1: JSON.stringify(meta1), count: meta1.length, replicas });
      tx.run(`INSERT OR REPLACE INTO meta (k, v) VALUES ('init', ?)`, [JSON.stringify({ meta1, replicas, time: now })]);
      return true;
    }, now);
  }

  /** The meta1 addresses of a prefix; SERVICE_NOT_FOUND when meta0 is not initialized. */
  get(prefix: string): string[] {
    const p = parsePrefix(prefix);
    const row = this.base.get<{ meta1: string }>(`SELECT meta1 FROM prefixes WHERE prefix = ?`, [parseInt(p, 16)]);
    if (!row) throw new NotFoundError('SERVICE_NOT_FOUND', 'meta0 is not initialized');
    return JSON.parse(row.meta1) as string[];
  }

  /** The whole map, prefix -> meta1 addresses ({} when not initialized). */
  list(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const r of this.base.iterate<{ prefix: number; meta1: string }>(`SELECT prefix, meta1 FROM prefixes ORDER BY prefix`)) {
      out[formatPrefix(r.prefix)] = JSON.parse(r.meta1) as string[];
    }
    return out;
  }

  /** Number of prefixes mapped (65,536 once initialized). */
  count(): number {
    return this.base.get<{ c: number }>(`SELECT COUNT(*) AS c FROM prefixes`)?.c ?? 0;
  }

  close(): void {
    this.base.close();
  }
}

export { PREFIX_COUNT };
