/**
 * @module services/meta0/schema
 * SQL of the meta0 base: one row per prefix (65,536, as an integer 0..65535) holding the JSON
 * list of its meta1 addresses, and the parameters of the last init.
 */
import type { Migration } from '../../sqliterepo';

/** Number of meta0 prefixes (16 bits). */
export const PREFIX_COUNT = 65_536;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE prefixes (prefix INTEGER PRIMARY KEY, meta1 TEXT NOT NULL);
      CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `,
  },
];

/**
 * Fills every prefix in ONE statement (one small recorded operation instead of 65,536):
 * prefix n gets the addresses at positions (n + j) mod count, j = 0 .. replicas-1.
 * Parameters: :m1 (JSON array of addresses), :count, :replicas. (Numbers are bound as REAL by better-sqlite3, hence the CASTs.) Deterministic, so a slave
 * replaying the operation builds the same map.
 */
export const SQL_FILL_PREFIXES = `
  WITH RECURSIVE
    p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n < ${PREFIX_COUNT - 1}),
    r(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM r WHERE j + 1 < CAST(:replicas AS INTEGER))
  INSERT INTO prefixes (prefix, meta1)
  SELECT p.n, (SELECT json_group_array(json_extract(:m1, '$[' || ((p.n + r.j) % CAST(:count AS INTEGER)) || ']') ORDER BY r.j) FROM r)
  FROM p`;
