/**
 * @module services/account/routes
 * Route table of the account service (appliance/API.md): handlers named `<resource><Verb>`,
 * as the stub `client/remote/account.ts`.
 */
import { queryInt, type HttpService, type RouteCtx } from '../../common/http';
import type { AccountBackend, ContainerUpdate } from './backend';

export function mountRoutes(http: HttpService, backend: AccountBackend, now: () => number = Date.now): void {
  /** POST /v1/account/create { id } -> 204 (idempotent); INVALID_NAME. */
  const accountCreate = async (ctx: RouteCtx) => {
    const b = await ctx.json<{ id: unknown }>();
    backend.create(b.id, now());
    return undefined;
  };

  /** GET /v1/account/show?id= -> { id, ctime, containers, objects, bytes }; ACCOUNT_NOT_FOUND. */
  const accountShow = (ctx: RouteCtx) => backend.show(ctx.query.get('id') ?? '');

  /** GET /v1/account/list -> string[] (byte order). */
  const accountList = () => backend.list();

  /**
   * GET /v1/account/containers?id=&prefix=&marker=&limit= -> { containers, truncated, next_marker }
   * Byte order of names; ACCOUNT_NOT_FOUND, BAD_REQUEST (limit out of 1..10,000).
   */
  const accountContainers = (ctx: RouteCtx) => backend.containers(ctx.query.get('id') ?? '', {
    prefix: ctx.query.get('prefix') ?? undefined,
    marker: ctx.query.get('marker') ?? undefined,
    limit: queryInt(ctx.query, 'limit'),
  });

  /**
   * POST /v1/account/container/update { id, container, objects, bytes, mtime, deleted? } -> 204
   * Absolute values; an older mtime is ignored; an unknown account is created.
   */
  const accountContainerUpdate = async (ctx: RouteCtx) => {
    const b = await ctx.json<ContainerUpdate>();
    backend.containerUpdate(b, now());
    return undefined;
  };

  /**
   * POST /v1/user/create { access_key?, secret_key?, account, replace? } -> UserInfo with the
   * secret (keys generated when absent); BAD_REQUEST when the key exists (unless replace).
   */
  const userCreate = async (ctx: RouteCtx) => backend.userCreate(await ctx.json(), now());

  /** GET /v1/user/show?access_key= -> UserInfo with its secret; ACCOUNT_NOT_FOUND. */
  const userShow = (ctx: RouteCtx) => backend.userShow(ctx.query.get('access_key') ?? '');

  /** GET /v1/user/list?account= -> UserInfo[] without secrets. */
  const userList = (ctx: RouteCtx) => backend.userList(ctx.query.get('account') || undefined);

  /** POST /v1/user/delete { access_key } -> 204; ACCOUNT_NOT_FOUND. */
  const userDelete = async (ctx: RouteCtx) => {
    const b = await ctx.json<{ access_key?: unknown }>();
    backend.userDelete(b.access_key, now());
    return undefined;
  };

  /**
   * POST /v1/bucket/reserve { name, account } -> { name, account, ctime }: the name's owner, the
   * caller's account when it was free (global S3 bucket namespace); INVALID_NAME.
   */
  const bucketReserve = async (ctx: RouteCtx) => backend.bucketReserve(await ctx.json(), now());

  /** POST /v1/bucket/release { name, account } -> 204 (only the owner's release does anything). */
  const bucketRelease = async (ctx: RouteCtx) => {
    backend.bucketRelease(await ctx.json(), now());
    return undefined;
  };

  /** GET /v1/bucket/show?name= -> { name, account, ctime }; CONTAINER_NOT_FOUND when not reserved. */
  const bucketShow = (ctx: RouteCtx) => backend.bucketShow(ctx.query.get('name') ?? '');

  http
    .route('POST', '/v1/bucket/reserve', bucketReserve)
    .route('POST', '/v1/bucket/release', bucketRelease)
    .route('GET', '/v1/bucket/show', bucketShow)
    .route('POST', '/v1/user/create', userCreate)
    .route('GET', '/v1/user/show', userShow)
    .route('GET', '/v1/user/list', userList)
    .route('POST', '/v1/user/delete', userDelete)
    .route('POST', '/v1/account/create', accountCreate)
    .route('GET', '/v1/account/show', accountShow)
    .route('GET', '/v1/account/list', accountList)
    .route('GET', '/v1/account/containers', accountContainers)
    .route('POST', '/v1/account/container/update', accountContainerUpdate);
}
