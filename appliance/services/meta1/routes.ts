/**
 * @module services/meta1/routes
 * Route table of meta1 (appliance/API.md): handlers named `<resource><Verb>`, as the stub
 * `client/remote/meta1.ts`.
 */
import type { HttpService, RouteCtx } from '../../common/http';
import type { Meta1Backend } from './backend';

export function mountRoutes(http: HttpService, backend: Meta1Backend, now: () => number = Date.now): void {
  /**
   * POST /v1/meta1/link { cid, account, container, type } -> { cid, account, container, services }
   * Creates the reference; links a service of `type` chosen by the conscience if none is.
   * BAD_REQUEST, INVALID_NAME, POLICY_NOT_SATISFIABLE, UNAVAILABLE (conscience down).
   */
  const meta1Link = async (ctx: RouteCtx) => {
    const b = await ctx.json<{ cid: unknown; account: unknown; container: unknown; type: unknown }>();
    return backend.link(b, now());
  };

  /** GET /v1/meta1/show?cid= -> same shape as link; CONTAINER_NOT_FOUND. */
  const meta1Show = (ctx: RouteCtx) => backend.show(ctx.query.get('cid') ?? '');

  /** POST /v1/meta1/unlink { cid, type } -> 204; CONTAINER_NOT_FOUND. */
  const meta1Unlink = async (ctx: RouteCtx) => {
    const b = await ctx.json<{ cid: unknown; type: unknown }>();
    backend.unlink(b.cid, b.type, now());
    return undefined;
  };

  /** POST /v1/meta1/destroy { cid } -> 204; CONTAINER_NOT_FOUND. */
  const meta1Destroy = async (ctx: RouteCtx) => {
    const b = await ctx.json<{ cid: unknown }>();
    backend.destroy(b.cid, now());
    return undefined;
  };

  http
    .route('POST', '/v1/meta1/link', meta1Link)
    .route('GET', '/v1/meta1/show', meta1Show)
    .route('POST', '/v1/meta1/unlink', meta1Unlink)
    .route('POST', '/v1/meta1/destroy', meta1Destroy);
}
