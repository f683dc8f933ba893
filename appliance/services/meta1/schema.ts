/**
 * @module services/meta1/schema
 * SQL of a meta1 base (one per prefix): references (CID, account, container) and the
 * services linked to each, by type, numbered by `seq` (OpenIO meta1 `services` table).
 */
import type { Migration } from '../../sqliterepo';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE refs (cid TEXT PRIMARY KEY, account TEXT NOT NULL, container TEXT NOT NULL, ctime INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE services (cid TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL, addr TEXT NOT NULL,
                             PRIMARY KEY (cid, type, seq)) WITHOUT ROWID;
    `,
  },
];
