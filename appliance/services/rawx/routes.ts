/**
 * @module services/rawx/routes
 * The rawx route table (appliance/API.md): chunk PUT/GET/HEAD/DELETE on `/:chunkId`, the
 * rebuild crawl `/v1/chunks`, `/info` and `/stat`. HTTP framing only; storage is in backend.ts.
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  CHUNK_HASH_HEADER, CHUNK_SIZE_HEADER, ChunkMeta, ChunkPutMeta, chunkMetaFromHeaders, chunkMetaToHeaders,
  HANDLED, HttpService, InvalidArgumentError, RouteCtx, sendJson,
} from '../../common';
import type { ChunkStore } from './backend';
import type { RdirFeed } from './rdir-feed';

/** What the routes need from the service besides the store. */
export interface RawxRouteDeps {
  store: ChunkStore;
  /** the queue feeding this volume's rdir (absent: no rdir) */
  feed?: RdirFeed;
  info(): { id: string; type: 'rawx'; addr: string; volume: string };
}

const DEFAULT_LIST_LIMIT = 1000;
const MAX_LIST_LIMIT = 10_000;

/** Registers every rawx route on `http` (fixed routes first: `/:chunkId` matches any one segment). */
export function registerRawxRoutes(http: HttpService, deps: RawxRouteDeps): void {
  const { store, feed } = deps;
  // The chunk is stored (or gone) whatever happens to its rdir row: a queue error is logged
  // and the answer stays the chunk's (`oio rdir rebuild` restores a missed row).
  const toRdir = (ctx: RouteCtx, what: string, fn: (f: RdirFeed) => void): void => {
    if (!feed) return;
    try { fn(feed); } catch (e) { ctx.log.error('rdir queue write failed', { what, err: e as Error }); }
  };

  /**
   * GET /info → `{ id, type: 'rawx', addr, volume }`.
   */
  http.route('GET', '/info', function rawxInfo() {
    return deps.info();
  });

  /**
   * GET /stat → counters `{ puts, gets, heads, deletes, bytesIn, bytesOut, putErrors }`.
   */
  http.route('GET', '/stat', function rawxStat() {
    if (!feed) return { ...store.stats };
    const f = feed.stats;
    return { ...store.stats, rdirQueued: f.queued, rdirSent: f.sent, rdirPending: feed.pending, rdirFailures: f.failures, rdirDropped: f.dropped };
  });

  /**
   * GET /v1/chunks?marker=&limit= → `{ chunks: [{ id, meta }], truncated, next_marker }`,
   * chunks in id order after `marker` (the rebuild crawl).
   */
  http.route('GET', '/v1/chunks', async function rawxList(ctx: RouteCtx) {
    const marker = ctx.query.get('marker') ?? '';
    const limitRaw = ctx.query.get('limit');
    const limit = limitRaw === null ? DEFAULT_LIST_LIMIT : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InvalidArgumentError('BAD_REQUEST', `limit must be an integer in 1..${MAX_LIST_LIMIT}`);
    }
    return store.list(marker.toUpperCase(), limit);
  });

  /**
   * PUT /:chunkId — body = the chunk's bytes (content-length or chunked). Metadata headers
   * `x-oio-chunk-meta-*`; MD5 as header or trailer `x-oio-chunk-meta-chunk-hash`; optional
   * expected size `x-oio-chunk-meta-chunk-size`. 201 with computed hash and size.
   * Errors: HASH_MISMATCH, CHUNK_EXISTS, NO_SPACE, BAD_REQUEST (missing metadata, truncated).
   */
  http.route('PUT', '/:chunkId', async function rawxPut(ctx: RouteCtx) {
    const { req, res } = ctx;
    // A client going away must never become an unhandled 'error' event.
    req.on('error', () => undefined);
    const id = ctx.params.chunkId!;
    store.chunkPath(id);
    const putMeta = putMetaFromHeaders(req.headers);
    const sizeHeader = req.headers[CHUNK_SIZE_HEADER];
    const expectedSize = typeof sizeHeader === 'string' && sizeHeader !== '' ? Number(sizeHeader) : undefined;
    if (expectedSize !== undefined && !(Number.isInteger(expectedSize) && expectedSize >= 0)) {
      throw new InvalidArgumentError('BAD_REQUEST', `bad ${CHUNK_SIZE_HEADER}`);
    }
    // An existing chunk is refused before the body is read (the file is created first).
    const headerHash = req.headers[CHUNK_HASH_HEADER];
    const meta = await store.put(id, req, putMeta, {
      expectedSize,
      expectedHash: () => {
        const h = typeof headerHash === 'string' && headerHash !== '' ? headerHash : req.trailers[CHUNK_HASH_HEADER];
        return h || undefined;
      },
    });
    toRdir(ctx, 'push', (f) => f.pushed(meta));
    res.writeHead(201, { ...metaHeaders(meta), 'content-length': 0 });
    res.end();
    return HANDLED;
  });

  /**
   * GET /:chunkId — the chunk's bytes with its metadata headers. `Range: bytes=a-b`, `a-` or
   * `-n` (one range) → 206; unsatisfiable → 416 with code BAD_REQUEST. CHUNK_NOT_FOUND.
   */
  http.route('GET', '/:chunkId', async function rawxGet(ctx: RouteCtx) {
    const { req, res } = ctx;
    const chunk = await store.open(ctx.params.chunkId!);
    const size = chunk.meta.chunkSize;
    const rangeHeader = req.headers.range;
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (rangeHeader !== undefined) {
      const r = parseRange(rangeHeader, size);
      if (!r) {
        await chunk.close();
        res.setHeader('content-range', `bytes */${size}`);
        sendJson(res, 416, { code: 'BAD_REQUEST', message: `range "${rangeHeader}" not satisfiable (size ${size})`, reqId: ctx.reqId });
        return HANDLED;
      }
      ({ start, end } = r);
      status = 206;
    }
    const headers: Record<string, string | number> = {
      ...metaHeaders(chunk.meta),
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    store.stats.gets++;
    if (end < start) {
      await chunk.close();
      res.end();
      return HANDLED;
    }
    const stream = chunk.stream(start, end);
    // Counted as read (per 1 MiB block), so /stat is current as soon as the client has the bytes.
    stream.on('data', (b: string | Buffer) => { store.stats.bytesOut += b.length; });
    try {
      await pipeline(stream, res);
    } catch (e) {
      // The client went away mid-stream: nothing to answer; the access line shows it.
      ctx.log.debug('get aborted', { err: e instanceof Error ? e : String(e) });
    }
    return HANDLED;
  });

  /**
   * HEAD /:chunkId — metadata headers only (content-length = chunk size). CHUNK_NOT_FOUND.
   */
  http.route('HEAD', '/:chunkId', async function rawxHead(ctx: RouteCtx) {
    const meta = await store.head(ctx.params.chunkId!);
    store.stats.heads++;
    ctx.res.writeHead(200, { ...metaHeaders(meta), 'content-length': meta.chunkSize, 'accept-ranges': 'bytes' });
    ctx.res.end();
    return HANDLED;
  });

  /**
   * DELETE /:chunkId → 204; CHUNK_NOT_FOUND.
   */
  http.route('DELETE', '/:chunkId', async function rawxDelete(ctx: RouteCtx) {
    const id = ctx.params.chunkId!;
    try {
      await store.delete(id);
    } catch (e) {
      // Absent here: make sure the rdir forgets it too.
      if ((e as { code?: string }).code === 'CHUNK_NOT_FOUND') toRdir(ctx, 'delete', (f) => f.deleted(id));
      throw e;
    }
    toRdir(ctx, 'delete', (f) => f.deleted(id));
    return undefined;
  });
}

function metaHeaders(meta: ChunkMeta): Record<string, string> {
  return chunkMetaToHeaders(meta);
}

const REQUIRED: (keyof ChunkPutMeta)[] = ['containerId', 'contentPath', 'contentVersion', 'contentId', 'chunkPos'];

function putMetaFromHeaders(headers: ServerResponse['req']['headers']): ChunkPutMeta {
  const m = chunkMetaFromHeaders(headers);
  for (const k of REQUIRED) {
    if (m[k] === undefined || m[k] === '') throw new InvalidArgumentError('BAD_REQUEST', `missing chunk metadata ${k}`);
  }
  if (!Number.isFinite(m.contentVersion)) throw new InvalidArgumentError('BAD_REQUEST', 'bad content version');
  const out: ChunkPutMeta = {
    containerId: m.containerId!,
    contentPath: m.contentPath!,
    contentVersion: m.contentVersion!,
    contentId: m.contentId!,
    chunkPos: m.chunkPos!,
    contentPolicy: m.contentPolicy ?? '',
    contentChunkMethod: m.contentChunkMethod ?? '',
  };
  if (m.fullPath !== undefined) out.fullPath = m.fullPath;
  return out;
}

/**
 * Parses one `bytes=` range against `size`; undefined when unsatisfiable or malformed
 * (several ranges included). `end` is inclusive and clamped to the last byte.
 */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return undefined;
  return { start, end };
}
