/**
 * @module services/rdir/routes
 * The rdir route table (appliance/API.md, rdir section), modelled on OpenIO's rdir
 * (`/v1/rdir/push`, `/delete`, `/fetch`, `/status`, `/admin/...`). One rdir serves one
 * volume: a `vol` query parameter, when given, must name that volume (else BAD_REQUEST),
 * so a caller that mixed up two rdir is refused instead of polluting an index.
 * HTTP framing only; the index is in backend.ts.
 */
import path from 'node:path';
import { InvalidArgumentError, queryInt, type HttpService, type RouteCtx } from '../../common';
import type { RdirInfo } from '../../client/remote/rdir';
import { batchOf, type RdirBackend } from './backend';

export interface RdirRouteDeps {
  backend: RdirBackend;
  info(): Omit<RdirInfo, 'time'>;
  now?: () => number;
}

export function mountRoutes(http: HttpService, deps: RdirRouteDeps): void {
  const { backend } = deps;
  const now = deps.now ?? Date.now;
  const checkVol = (ctx: RouteCtx): void => {
    const vol = ctx.query.get('vol');
    if (vol !== null && vol !== '' && path.resolve(vol) !== backend.volume && vol !== deps.info().id) {
      throw new InvalidArgumentError('BAD_REQUEST', `this rdir indexes volume ${backend.volume}, not ${vol}`);
    }
  };

  /**
   * POST /v1/rdir/push?vol= { chunks: [RdirEntry] } -> { pushed }. Up to 10,000 entries, all
   * checked before any is written; a known chunk id is replaced. BAD_REQUEST.
   */
  const rdirPush = async (ctx: RouteCtx) => {
    checkVol(ctx);
    return { pushed: backend.push(batchOf(await ctx.json()), now()) };
  };

  /** POST /v1/rdir/delete?vol= { chunks: [{ chunk_id }] } -> { deleted }. BAD_REQUEST. */
  const rdirDelete = async (ctx: RouteCtx) => {
    checkVol(ctx);
    return { deleted: backend.delete(batchOf(await ctx.json()), now()) };
  };

  /**
   * GET /v1/rdir/fetch?vol=&marker=&limit=&container_id= -> { chunks, truncated, next_marker }
   * in (container_id, content_id, chunk_id) order after the marker (`CID/CONTENT_ID/CHUNK_ID`),
   * limit 1..10,000 (default 1,000). BAD_REQUEST.
   */
  const rdirFetch = (ctx: RouteCtx) => {
    checkVol(ctx);
    return backend.fetch({ marker: ctx.query.get('marker') ?? undefined, limit: queryInt(ctx.query, 'limit'), containerId: ctx.query.get('container_id') ?? undefined });
  };

  /** GET /v1/rdir/status?vol= -> { volume, chunks: { total, bytes }, containers: { CID: { total, bytes } } }. */
  const rdirStatus = (ctx: RouteCtx) => {
    checkVol(ctx);
    return backend.status();
  };

  /** GET /v1/rdir/admin/info -> { id, type: 'rdir', addr, volume, time } (time: this rdir's clock, ms). */
  const rdirAdminInfo = (): RdirInfo => ({ ...deps.info(), time: now() });

  /**
   * POST /v1/rdir/admin/clear?vol= { before? } -> { removed }: every entry, or those last
   * written before `before` (epoch ms of this rdir's clock: the end of a rebuild). BAD_REQUEST.
   */
  const rdirAdminClear = async (ctx: RouteCtx) => {
    checkVol(ctx);
    const b = await ctx.json<{ before?: unknown }>();
    if (b.before !== undefined && typeof b.before !== 'number') throw new InvalidArgumentError('BAD_REQUEST', 'before must be epoch milliseconds');
    return { removed: backend.clear(b.before as number | undefined, now()) };
  };

  http
    .route('POST', '/v1/rdir/push', rdirPush)
    .route('POST', '/v1/rdir/delete', rdirDelete)
    .route('GET', '/v1/rdir/fetch', rdirFetch)
    .route('GET', '/v1/rdir/status', rdirStatus)
    .route('GET', '/v1/rdir/admin/info', rdirAdminInfo)
    .route('POST', '/v1/rdir/admin/clear', rdirAdminClear);
}
