/**
 * @module services/meta2/schema
 * The SQL of a meta2 base (one per container) and of the service-level event base
 * (`_events.sqlite`, for the events of deleted containers). Migrations only add.
 *
 * Names are TEXT with the BINARY collation: SQLite compares them with memcmp on their UTF-8
 * bytes, which is the S3 listing order. The index on (name, version DESC) serves listings
 * (latest version first for each name) and the seek past a rolled-up common prefix.
 */
import type { Migration } from '../../sqliterepo';

/** The events outbox, shared by container bases and the service-level event base. */
export const EVENTS_SQL = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_try INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type);
`;

/** Migrations of a container base. */
export const META2_MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE container (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  cid TEXT NOT NULL,
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  ctime INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  policy TEXT,
  max_versions INTEGER,
  quota INTEGER,
  objects INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE container_props (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE contents (
  name TEXT NOT NULL COLLATE BINARY,
  version INTEGER NOT NULL,
  id TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  hash TEXT NOT NULL DEFAULT '',
  mime TEXT NOT NULL DEFAULT '',
  policy TEXT NOT NULL DEFAULT '',
  chunk_method TEXT NOT NULL DEFAULT '',
  ctime INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX contents_by_name ON contents (name, version DESC);
CREATE UNIQUE INDEX contents_by_id ON contents (id);
CREATE TABLE content_props (content_id TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL, PRIMARY KEY (content_id, k));
CREATE TABLE chunks (content_id TEXT NOT NULL, url TEXT NOT NULL, pos TEXT NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE INDEX chunks_by_content ON chunks (content_id);
CREATE INDEX chunks_by_url ON chunks (url);
${EVENTS_SQL}`,
  },
];

/** Migrations of the service-level event base. */
export const EVENTS_MIGRATIONS: Migration[] = [{ version: 1, sql: EVENTS_SQL }];
