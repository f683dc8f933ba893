/**
 * @module services/account/schema
 * SQL of the account base: accounts and, per account, its containers with their usage;
 * users (S3 access keys) mapped to accounts; the global S3 bucket namespace (bucket -> account).
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
  {
    // S3 credentials: access key -> account and secret (issue 4).
    version: 2,
    sql: `
      CREATE TABLE users (access_key TEXT PRIMARY KEY, secret_key TEXT NOT NULL, account TEXT NOT NULL, ctime INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX users_account ON users (account);
    `,
  },
  {
    // When a container was created (S3 ListBuckets' CreationDate): the least mtime of its updates
    // since its last delete (dtime), whatever order they come in. Rows from before: NULL, the
    // mtime stands in.
    version: 3,
    sql: `
      ALTER TABLE containers ADD COLUMN ctime INTEGER;
      ALTER TABLE containers ADD COLUMN dtime INTEGER;
    `,
  },
  {
    // The global S3 bucket namespace (OpenIO's account service bucket table): a bucket name
    // belongs to one account; the S3 gateway reserves it before creating the container and
    // releases it once the container is gone. Buckets created before: not here, the gateway
    // falls back to the requester's own account.
    version: 4,
    sql: `
      CREATE TABLE buckets (name TEXT PRIMARY KEY, account TEXT NOT NULL, ctime INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX buckets_account ON buckets (account);
    `,
  },
];
