/**
 * @module services/rdir/schema
 * SQL of one rdir base (the reverse index of one rawx volume): a row per chunk stored on the
 * volume, keyed (container id, content id, chunk id) as OpenIO's rdir, so a rebuilder reads
 * the volume's chunks container by container. A chunk id is unique on a volume (it is the
 * chunk's file name), hence the unique index: a push of a known chunk id replaces its row and
 * a delete needs only the chunk id. `indexed` is when the row was last written (epoch ms):
 * a rebuild removes the rows it did not write (`admin/clear` with `before`).
 */
import type { Migration } from '../../sqliterepo';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE chunks (
        container_id TEXT NOT NULL, content_id TEXT NOT NULL, chunk_id TEXT NOT NULL,
        pos TEXT NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL, mtime INTEGER NOT NULL,
        content_path TEXT NOT NULL, content_version INTEGER NOT NULL,
        policy TEXT NOT NULL, chunk_method TEXT NOT NULL,
        indexed INTEGER NOT NULL,
        PRIMARY KEY (container_id, content_id, chunk_id)) WITHOUT ROWID;
      CREATE UNIQUE INDEX chunks_by_id ON chunks (chunk_id);
      CREATE INDEX chunks_by_indexed ON chunks (indexed);
    `,
  },
];
