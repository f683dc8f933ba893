/**
 * @module services/meta0/routes
 * Route table of meta0 (appliance/API.md): handlers named `<resource><Verb>`, as the stub
 * `client/remote/meta0.ts`.
 */
import type { HttpService, RouteCtx } from '../../common/http';
import { Meta0Backend, Meta0InitOptions } from './backend';

export function mountRoutes(http: HttpService, backend: Meta0Backend, now: () => number = Date.now): void {
  /**
   * GET /v1/meta0/get?prefix=ABCD -> { prefix, meta1: string[] }
   * BAD_REQUEST on a bad prefix; SERVICE_NOT_FOUND when meta0 is not initialized.
   */
  const meta0Get = (ctx: RouteCtx) => {
    const prefix = (ctx.query.get('prefix') ?? '').toUpperCase();
    return { prefix, meta1: backend.get(prefix) };
  };

  /** GET /v1/meta0/list -> { [prefix]: string[] } (all 65,536 prefixes; {} before init). */
  const meta0List = () => backend.list();

  /**
   * POST /v1/meta0/init { meta1: string[], replicas?, force? } -> 204.
   * Round-robin assignment; a second init without force keeps the existing map.
   */
  const meta0Init = async (ctx: RouteCtx) => {
    const body = await ctx.json<Meta0InitOptions>();
    const changed = backend.init({ meta1: body.meta1, replicas: body.replicas, force: body.force === true }, now());
    ctx.log.info(changed ? 'meta0 initialized' : 'meta0 already initialized, kept', { meta1: body.meta1, replicas: body.replicas });
    return undefined;
  };

  http
    .route('GET', '/v1/meta0/get', meta0Get)
    .route('GET', '/v1/meta0/list', meta0List)
    .route('POST', '/v1/meta0/init', meta0Init);
}
