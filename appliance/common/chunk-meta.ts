/**
 * @module common/chunk-meta
 * The metadata a rawx stores with every chunk (its reverse links to container and content,
 * OpenIO "chunk attributes") and its one wire form: the `x-oio-chunk-meta-*` headers used by
 * PUT/GET/HEAD on rawx. Shared by the rawx service and the client stub so both ends agree.
 */

/** Header prefix of every chunk metadata header. */
export const CHUNK_META_PREFIX = 'x-oio-chunk-meta-';

/** Header (or HTTP trailer) carrying the uppercase hex MD5 of the chunk's bytes. */
export const CHUNK_HASH_HEADER = 'x-oio-chunk-meta-chunk-hash';
/** Header carrying the chunk's size in bytes (answer of PUT/GET/HEAD; expected size on PUT). */
export const CHUNK_SIZE_HEADER = 'x-oio-chunk-meta-chunk-size';

/** What the writer of a chunk says about it (sent as headers on PUT). */
export interface ChunkPutMeta {
  /** CID of the container (reverse link) */
  containerId: string;
  /** object name (content path) */
  contentPath: string;
  /** content version, microseconds since the epoch */
  contentVersion: number;
  contentId: string;
  /** metachunk position: "0", "1"; "0.3" for EC fragments */
  chunkPos: string;
  contentPolicy: string;
  /** e.g. "plain/nb_copy=3" */
  contentChunkMethod: string;
  /** optional full path (account/container/path/version), stored as given */
  fullPath?: string;
}

/** Everything stored with a chunk: the writer's metadata plus what rawx computed. */
export interface ChunkMeta extends ChunkPutMeta {
  chunkId: string;
  /** bytes of chunk data */
  chunkSize: number;
  /** uppercase hex MD5 of the chunk's bytes */
  chunkHash: string;
  /** epoch ms when the chunk was stored */
  mtime: number;
}

/** Header name of each ChunkMeta field (values of path-like fields are URI-encoded). */
export const CHUNK_META_HEADERS: Record<keyof ChunkMeta, string> = {
  containerId: 'x-oio-chunk-meta-container-id',
  contentPath: 'x-oio-chunk-meta-content-path',
  contentVersion: 'x-oio-chunk-meta-content-version',
  contentId: 'x-oio-chunk-meta-content-id',
  chunkPos: 'x-oio-chunk-meta-chunk-pos',
  contentPolicy: 'x-oio-chunk-meta-content-policy',
  contentChunkMethod: 'x-oio-chunk-meta-content-chunk-method',
  fullPath: 'x-oio-chunk-meta-full-path',
  chunkId: 'x-oio-chunk-meta-chunk-id',
  chunkSize: CHUNK_SIZE_HEADER,
  chunkHash: CHUNK_HASH_HEADER,
  mtime: 'x-oio-chunk-meta-mtime',
};

const ENCODED: ReadonlySet<keyof ChunkMeta> = new Set<keyof ChunkMeta>(['contentPath', 'fullPath']);

/** Headers for the given (partial) metadata; undefined fields are left out. */
export function chunkMetaToHeaders(meta: Partial<ChunkMeta>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, name] of Object.entries(CHUNK_META_HEADERS) as [keyof ChunkMeta, string][]) {
    const v = meta[k];
    if (v === undefined) continue;
    out[name] = ENCODED.has(k) ? encodeURIComponent(String(v)) : String(v);
  }
  return out;
}

/** Reads whatever metadata headers are present (numbers parsed, paths decoded). */
export function chunkMetaFromHeaders(headers: Record<string, string | string[] | undefined>): Partial<ChunkMeta> {
  const out: Record<string, string | number> = {};
  for (const [k, name] of Object.entries(CHUNK_META_HEADERS) as [keyof ChunkMeta, string][]) {
    const raw = headers[name];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (v === undefined) continue;
    if (k === 'contentVersion' || k === 'chunkSize' || k === 'mtime') out[k] = Number(v);
    else if (ENCODED.has(k)) {
      try { out[k] = decodeURIComponent(v); } catch { out[k] = v; }
    } else out[k] = v;
  }
  return out as Partial<ChunkMeta>;
}
