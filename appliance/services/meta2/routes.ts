/**
 * @module services/meta2/routes
 * meta2's route table (appliance/API.md): one handler per route, named `<resource><Verb>`
 * like the stub methods of `client/remote/meta2.ts`. Handlers parse and check the request
 * and call the backend; no logic here.
 */
import { HttpService, InvalidArgumentError, RouteCtx } from '../../common';
import type { ContentInfo } from '../../common/model';
import type { ContainerCreateRequest, ContainerSetRequest } from '../../client/remote/meta2';
import type { Meta2Backend } from './backend';

function required(q: URLSearchParams, key: string): string {
  const v = q.get(key);
  if (v === null || v === '') throw new InvalidArgumentError('BAD_REQUEST', `${key} is required`);
  return v;
}

function optInt(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('BAD_REQUEST', `${key} must be an integer`);
  return n;
}

function flag(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v === '1' || v === 'true';
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError('BAD_REQUEST', `${key} is required`);
  return v;
}

/** Registers meta2's routes on `http`. */
export function registerRoutes(http: HttpService, backend: Meta2Backend): void {
  /**
   * POST /v1/container/create `{cid, account, container, properties?, system?}` -> 204.
   * CONTAINER_EXISTS, INVALID_NAME.
   */
  const containerCreate = async (ctx: RouteCtx): Promise<void> => {
    backend.containerCreate(await ctx.json<ContainerCreateRequest>());
  };

  /** GET /v1/container/show?cid= -> ContainerInfo. CONTAINER_NOT_FOUND. */
  const containerShow = (ctx: RouteCtx): unknown => backend.containerShow(required(ctx.query, 'cid'));

  /** POST /v1/container/set `{cid, properties?, system?, clear?}` -> 204. */
  const containerSet = async (ctx: RouteCtx): Promise<void> => {
    backend.containerSet(await ctx.json<ContainerSetRequest>());
  };

  /** POST /v1/container/delete `{cid, force?}` -> 204. CONTAINER_NOT_EMPTY. */
  const containerDelete = async (ctx: RouteCtx): Promise<void> => {
    const b = await ctx.json<{ cid?: unknown; force?: unknown }>();
    backend.containerDelete(str(b.cid, 'cid'), b.force === true);
  };

  /**
   * GET /v1/content/list?cid=&prefix=&delimiter=&marker=&version_marker=&limit=&versions=0/1&chunks=0/1
   * -> `{objects, prefixes, truncated, next_marker?, next_version_marker?}`.
   */
  const contentList = (ctx: RouteCtx): unknown => {
    const q = ctx.query;
    return backend.contentList(required(q, 'cid'), {
      prefix: q.get('prefix') ?? undefined,
      delimiter: q.get('delimiter') ?? undefined,
      marker: q.get('marker') ?? undefined,
      version_marker: optInt(q.get('version_marker'), 'version_marker'),
      limit: optInt(q.get('limit'), 'limit'),
      versions: flag(q, 'versions'),
      chunks: flag(q, 'chunks'),
    });
  };

  /**
   * POST /v1/content/create `{cid, content, expect_latest?, newest?}` -> the stored ContentInfo.
   * `expect_latest`: the version the name's latest live version must be (null: none), checked
   * in the write. `newest`: the content becomes the name's newest version (its version raised
   * above the latest when needed). QUOTA_EXCEEDED, CONTENT_EXISTS, PRECONDITION_FAILED.
   */
  const contentCreate = async (ctx: RouteCtx): Promise<unknown> => {
    const b = await ctx.json<{ cid?: unknown; content?: Partial<ContentInfo>; expect_latest?: number | null; newest?: unknown }>();
    return backend.contentCreate(str(b.cid, 'cid'), b.content ?? {}, Date.now(), b.expect_latest, b.newest === true);
  };

  /** GET /v1/content/show?cid=&path=&version= -> ContentInfo. CONTENT_NOT_FOUND. */
  const contentShow = (ctx: RouteCtx): unknown =>
    backend.contentShow(required(ctx.query, 'cid'), required(ctx.query, 'path'), optInt(ctx.query.get('version'), 'version'));

  /**
   * POST /v1/content/delete `{cid, path, version?, marker?}` -> `{deleted?, marker?}`.
   * `marker`: versioning on, a delete marker even when the name has no live version. CONTENT_NOT_FOUND.
   */
  const contentDelete = async (ctx: RouteCtx): Promise<unknown> => {
    const b = await ctx.json<{ cid?: unknown; path?: unknown; version?: unknown; marker?: unknown }>();
    return backend.contentDelete(str(b.cid, 'cid'), str(b.path, 'path'), optInt(b.version, 'version'), Date.now(), b.marker === true);
  };

  /** POST /v1/content/link `{cid, path, version?, dest}` -> the new ContentInfo. */
  const contentLink = async (ctx: RouteCtx): Promise<unknown> => {
    const b = await ctx.json<{ cid?: unknown; path?: unknown; version?: unknown; dest?: unknown }>();
    return backend.contentLink(str(b.cid, 'cid'), str(b.path, 'path'), str(b.dest, 'dest'), optInt(b.version, 'version'));
  };

  /** POST /v1/content/properties `{cid, path, version?, set?, del?}` -> ContentInfo. */
  const contentProperties = async (ctx: RouteCtx): Promise<unknown> => {
    const b = await ctx.json<{ cid?: unknown; path?: unknown; version?: unknown; set?: Record<string, string>; del?: string[] }>();
    return backend.contentProperties(str(b.cid, 'cid'), str(b.path, 'path'), { set: b.set, del: b.del, version: optInt(b.version, 'version') });
  };

  http
    .route('POST', '/v1/container/create', containerCreate)
    .route('GET', '/v1/container/show', containerShow)
    .route('POST', '/v1/container/set', containerSet)
    .route('POST', '/v1/container/delete', containerDelete)
    .route('GET', '/v1/content/list', contentList)
    .route('POST', '/v1/content/create', contentCreate)
    .route('GET', '/v1/content/show', contentShow)
    .route('POST', '/v1/content/delete', contentDelete)
    .route('POST', '/v1/content/link', contentLink)
    .route('POST', '/v1/content/properties', contentProperties);
}
