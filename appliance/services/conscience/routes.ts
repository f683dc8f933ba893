/**
 * @module services/conscience/routes
 * The conscience's route table (appliance/API.md, "conscience"): handlers are named after the
 * client stub methods (`client/remote/conscience.ts`), one doc block per route.
 */
import { InvalidArgumentError } from '../../common/errors';
import type { HttpService, RouteCtx } from '../../common/http';
import type { ServiceRegistration } from '../../common/model';
import type { ConscienceBackend } from './backend';

export interface RouteHooks {
  /** called after a lock, unlock or deregister (to persist locks) */
  onLocksChanged?: () => Promise<void>;
  /**
   * resolves once the registry may be trusted for placement (a restarted conscience of a
   * grid waits for every live agent's registration): list, bulletin and choose wait for it
   */
  warm?: () => Promise<void>;
}

function str(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError('BAD_REQUEST', `${name} is required`);
  return v;
}

/** Installs the conscience's routes on `http`. */
export function conscienceRoutes(http: HttpService, backend: ConscienceBackend, hooks: RouteHooks = {}): void {
  const changed = async () => { if (hooks.onLocksChanged) await hooks.onLocksChanged(); };
  const warm = async () => { if (hooks.warm) await hooks.warm(); };

  /**
   * POST /v1/conscience/register — body `ServiceRegistration[]` → 204.
   * Creates or refreshes each service and recomputes its scores. BAD_REQUEST on a malformed
   * registration (then nothing is applied).
   */
  http.route('POST', '/v1/conscience/register', async function conscienceRegister(ctx: RouteCtx) {
    backend.register(await ctx.json<ServiceRegistration[]>());
  });

  /** POST /v1/conscience/deregister — body `{type, id}` → 204; SERVICE_NOT_FOUND. */
  http.route('POST', '/v1/conscience/deregister', async function conscienceDeregister(ctx: RouteCtx) {
    const body = await ctx.json();
    backend.deregister(str(body, 'type'), str(body, 'id'));
    await changed();
  });

  /** GET /v1/conscience/list?type= — `ServiceInfo[]` (all types when absent), effective scores. */
  http.route('GET', '/v1/conscience/list', async function conscienceList(ctx: RouteCtx) {
    await warm();
    return backend.list(ctx.query.get('type') || undefined);
  });

  /** GET /v1/conscience/bulletin — `Bulletin`: every service with its scores. */
  http.route('GET', '/v1/conscience/bulletin', async function conscienceBulletin() {
    await warm();
    return backend.bulletin();
  });

  /** GET /v1/conscience/info — `NamespaceInfo` (policies, pools, score expressions, ...). */
  http.route('GET', '/v1/conscience/info', function conscienceInfo() {
    return backend.info;
  });

  /**
   * POST /v1/conscience/lock — body `{type, id, score?}` → 204. Locks to `score` (0..100) or
   * to the current score. SERVICE_NOT_FOUND, BAD_REQUEST.
   */
  http.route('POST', '/v1/conscience/lock', async function conscienceLock(ctx: RouteCtx) {
    const body = await ctx.json();
    const score = body.score;
    if (score !== undefined && score !== null && typeof score !== 'number') throw new InvalidArgumentError('BAD_REQUEST', 'score must be a number');
    backend.lock(str(body, 'type'), str(body, 'id'), typeof score === 'number' ? score : undefined);
    await changed();
  });

  /** POST /v1/conscience/unlock — body `{type, id}` → 204; SERVICE_NOT_FOUND. */
  http.route('POST', '/v1/conscience/unlock', async function conscienceUnlock(ctx: RouteCtx) {
    const body = await ctx.json();
    backend.unlock(str(body, 'type'), str(body, 'id'));
    await changed();
  });

  /**
   * POST /v1/lb/choose — body `ChooseRequest` → `ServiceInfo[]`; headers `x-oio-lb-distance`
   * (smallest distance between the chosen services) and `x-oio-lb-warning` (1 when below the
   * pool's warn_dist). POLICY_NOT_SATISFIABLE, BAD_REQUEST (unknown policy, no pool/type).
   */
  http.route('POST', '/v1/lb/choose', async function lbChoose(ctx: RouteCtx) {
    await warm();
    const choice = backend.choose(await ctx.json());
    if (choice.warning) ctx.log.warn('placement below warn_dist', { distance: choice.distance, ids: choice.services.map((s) => s.id) });
    ctx.res.setHeader('x-oio-lb-distance', String(choice.distance));
    ctx.res.setHeader('x-oio-lb-warning', choice.warning ? '1' : '0');
    return choice.services;
  });
}
