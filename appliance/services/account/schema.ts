/**
 * @module services/account/schema
 * SQL of the account base: accounts and, per account, its containers with their usage.
 * A deleted container keeps a tombstone row (deleted = 1, mtime of the delete) so that an
 * older update arriving late cannot bring it back: updates commute.
 */
import type { Migration } from '../../sqliterepo';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE accounts (id TEXT PRIMARY KEY, ctime INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE containers (
        account TEXT NOT NULL, name TEXT NOT NULL,
        objects INTEGER NOT NULL, bytes INTEGER NOT NULL, mtime INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, name)) WITHOUT ROWID;
    `,
  },
];
