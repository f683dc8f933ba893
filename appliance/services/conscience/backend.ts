/**
 * @module services/conscience/backend
 * The conscience's state and rules, no HTTP: the namespace info built from `ns.*` config, the
 * registered services and their put/get scores, locks, the bulletin, and placement.
 *
 * Scores (per service type, `ns.score_expr[type]`, "*" for the rest):
 * - computed at each registration from the service's tags, clamped to 0..100, rounded;
 * - a score RISES by at most `score_variation_bound` per registration and FALLS at once; a new
 *   service starts from 0, i.e. at min(computed, bound), so a new disk ramps up. A service that
 *   had timed out also ramps up again from 0;
 * - `tag.up` false gives 0 (even when locked: a down service never takes data);
 * - a service whose last registration is older than `score_timeout` scores 0 in list and
 *   bulletin, and stays listed;
 * - a locked score (to a given value, or its current one) ignores new stats and timeouts
 *   until unlocked; its tags are still updated. Locks may be persisted by the caller
 *   (`locks()` / `restoreLocks()`); deregistering a service drops its lock.
 */
import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import type { Config } from '../../common/config';
import { DEFAULT_SCORE_EXPR } from '../../common/config';
import type { Bulletin, NamespaceInfo, PoolSpec, ServiceInfo, ServiceRegistration } from '../../common/model';
import {
  checkAutoPolicies, choosePool, ChooseSpec, evalScore, locationOf, parseDataSecurity, parseScoreExpr, PoolChoice,
  resolveChoose, resolveStoragePolicy, ScoreExpr, validatePoolSpec,
} from '../../client/lb';

/** One lock, as persisted. */
export interface ScoreLock { type: string; id: string; score: number; scoreGet: number }

interface Entry {
  info: ServiceInfo;
  /** published scores before timeout/up rules (the base of the next bounded rise) */
  score: number;
  scoreGet: number;
}

interface CompiledExpr { put: ScoreExpr; get: ScoreExpr }

export interface ConscienceBackendOptions {
  /** clock in epoch ms (tests inject one) */
  now?: () => number;
  rng?: () => number;
}

function configError(key: string, e: unknown): InvalidArgumentError {
  return new InvalidArgumentError('BAD_REQUEST', `config ${key}: ${(e as Error).message}`, { cause: e });
}

/**
 * Builds and validates the namespace info from the node config (`namespace`, `ns.*`).
 * @throws InvalidArgumentError BAD_REQUEST naming the bad key (score expression, pool,
 * data security, storage policy)
 */
export function buildNamespaceInfo(config: Config): NamespaceInfo {
  const scoreExpr: Record<string, { put: string; get: string }> = {};
  const rawExpr = config['ns.score_expr'] as Record<string, unknown>;
  for (const [type, v] of Object.entries(rawExpr)) {
    if (typeof v === 'string') scoreExpr[type] = { put: v, get: v };
    else if (v && typeof v === 'object' && typeof (v as { put?: unknown }).put === 'string' && typeof (v as { get?: unknown }).get === 'string') {
      scoreExpr[type] = { put: (v as { put: string }).put, get: (v as { get: string }).get };
    } else throw configError(`ns.score_expr`, new Error(`type "${type}": expected "expr" or { put, get }`));
  }
  if (!scoreExpr['*']) scoreExpr['*'] = { ...DEFAULT_SCORE_EXPR['*']! };
  const pools: Record<string, PoolSpec> = {};
  for (const [name, spec] of Object.entries(config['ns.pools'] as Record<string, unknown>)) {
    try { pools[name] = validatePoolSpec(name, spec); } catch (e) { throw configError('ns.pools', e); }
  }
  const info: NamespaceInfo = {
    ns: config.namespace,
    chunkSize: config['ns.chunk_size'],
    storagePolicy: config['ns.storage_policy'],
    storagePolicies: { ...(config['ns.storage_policies'] as Record<string, string>) },
    dataSecurity: { ...(config['ns.data_security'] as Record<string, string>) },
    pools,
    scoreExpr,
    scoreTimeoutMs: config['ns.score_timeout'],
    scoreVariationBound: config['ns.score_variation_bound'],
    maxVersions: config['ns.max_versions'],
    bulletinRefreshMs: config['ns.bulletin_refresh'],
    autoStoragePolicies: config['ns.auto_storage_policies'],
    ecQuorumExtra: config['ns.ec_quorum_extra'],
  };
  validateNamespaceInfo(info);
  return info;
}

/**
 * Checks every expression, data security, storage policy of a namespace info.
 * @throws InvalidArgumentError BAD_REQUEST naming the config key
 */
export function validateNamespaceInfo(info: NamespaceInfo): void {
  for (const [type, e] of Object.entries(info.scoreExpr)) {
    try { parseScoreExpr(e.put); } catch (err) { throw configError(`ns.score_expr (${type}.put)`, err); }
    try { parseScoreExpr(e.get); } catch (err) { throw configError(`ns.score_expr (${type}.get)`, err); }
  }
  for (const [name, ds] of Object.entries(info.dataSecurity)) {
    if (typeof ds !== 'string') throw configError('ns.data_security', new Error(`"${name}" must be a string`));
    try { parseDataSecurity(ds); } catch (err) { throw configError(`ns.data_security (${name})`, err); }
  }
  for (const name of Object.keys(info.storagePolicies)) {
    try { resolveStoragePolicy(name, info); } catch (err) { throw configError('ns.storage_policies', err); }
  }
  try { checkAutoPolicies(info.autoStoragePolicies, info); } catch (err) { throw configError('ns.auto_storage_policies', err); }
  if (!info.storagePolicies[info.storagePolicy]) {
    throw configError('ns.storage_policy', new Error(`"${info.storagePolicy}" is not in ns.storage_policies (${Object.keys(info.storagePolicies).join(', ')})`));
  }
}

function key(type: string, id: string): string {
  return `${type}|${id}`;
}

function isDown(tags: ServiceInfo['tags']): boolean {
  const up = tags['tag.up'];
  return up === false || up === 0 || (typeof up === 'string' && /^(false|0|no)$/i.test(up));
}

/** The conscience's in-memory registry of services and scores. */
export class ConscienceBackend {
  private readonly services = new Map<string, Entry>();
  /** restored locks of services not registered yet */
  private readonly pendingLocks = new Map<string, ScoreLock>();
  private readonly exprs = new Map<string, CompiledExpr>();
  private readonly now: () => number;
  private readonly rng: (() => number) | undefined;

  /** @throws InvalidArgumentError BAD_REQUEST when the namespace info is invalid */
  constructor(readonly info: NamespaceInfo, opts: ConscienceBackendOptions = {}) {
    validateNamespaceInfo(info);
    for (const [type, e] of Object.entries(info.scoreExpr)) this.exprs.set(type, { put: parseScoreExpr(e.put), get: parseScoreExpr(e.get) });
    this.now = opts.now ?? Date.now;
    this.rng = opts.rng;
  }

  private exprFor(type: string): CompiledExpr {
    return this.exprs.get(type) ?? this.exprs.get('*')!;
  }

  private isStale(e: Entry, now: number): boolean {
    return now - e.info.mtime > this.info.scoreTimeoutMs;
  }

  /**
   * Registers (or refreshes) services and recomputes their scores.
   * @throws InvalidArgumentError BAD_REQUEST on a malformed registration (nothing applied)
   */
  register(regs: ServiceRegistration[]): void {
    if (!Array.isArray(regs)) throw new InvalidArgumentError('BAD_REQUEST', 'register: body must be an array of registrations');
    regs.forEach((r, i) => {
      if (!r || typeof r !== 'object') throw new InvalidArgumentError('BAD_REQUEST', `register[${i}]: not an object`);
      if (typeof r.type !== 'string' || r.type === '') throw new InvalidArgumentError('BAD_REQUEST', `register[${i}]: type is required`);
      if (typeof r.addr !== 'string' || !/.:\d+$/.test(r.addr)) throw new InvalidArgumentError('BAD_REQUEST', `register[${i}]: addr must be host:port`);
      if (r.tags !== undefined && (typeof r.tags !== 'object' || r.tags === null || Array.isArray(r.tags))) throw new InvalidArgumentError('BAD_REQUEST', `register[${i}]: tags must be an object`);
      if (r.slots !== undefined && (!Array.isArray(r.slots) || !r.slots.every((s) => typeof s === 'string'))) throw new InvalidArgumentError('BAD_REQUEST', `register[${i}]: slots must be an array of strings`);
    });
    const now = this.now();
    const bound = this.info.scoreVariationBound;
    for (const r of regs) {
      const id = r.id || r.addr;
      const k = key(r.type, id);
      const prev = this.services.get(k);
      const tags = { ...(r.tags ?? {}) };
      const slots = [...new Set([r.type, ...(r.slots ?? [])])];
      const info: ServiceInfo = {
        type: r.type, addr: r.addr, id, loc: locationOf({ loc: r.loc, addr: r.addr }), slots, tags,
        score: 0, scoreGet: 0, locked: prev?.info.locked ?? false, mtime: now,
      };
      let score: number;
      let scoreGet: number;
      const pending = prev ? undefined : this.pendingLocks.get(k);
      if (pending) {
        this.pendingLocks.delete(k);
        info.locked = true;
        score = pending.score;
        scoreGet = pending.scoreGet;
      } else if (prev?.info.locked) {
        score = prev.score;
        scoreGet = prev.scoreGet;
      } else {
        const ex = this.exprFor(r.type);
        const put = evalScore(ex.put, tags);
        const get = evalScore(ex.get, tags);
        // The base of the rise is what was last published: 0 for a new or timed-out service.
        const base = prev && !this.isStale(prev, now) ? prev : { score: 0, scoreGet: 0 };
        score = Math.min(put, base.score + bound);
        scoreGet = Math.min(get, base.scoreGet + bound);
      }
      this.services.set(k, { info, score, scoreGet });
    }
  }

  /** Removes a service. @throws NotFoundError SERVICE_NOT_FOUND */
  deregister(type: string, id: string): void {
    if (!this.services.delete(key(type, id))) throw new NotFoundError('SERVICE_NOT_FOUND', `no ${type} service ${id}`);
  }

  private view(e: Entry, now: number): ServiceInfo {
    const zero = isDown(e.info.tags) || (!e.info.locked && this.isStale(e, now));
    return { ...e.info, tags: { ...e.info.tags }, slots: [...e.info.slots], score: zero ? 0 : e.score, scoreGet: zero ? 0 : e.scoreGet };
  }

  /** All services (or those of one type) with their effective scores, sorted by type then id. */
  list(type?: string): ServiceInfo[] {
    const now = this.now();
    const out: ServiceInfo[] = [];
    for (const e of this.services.values()) if (!type || e.info.type === type) out.push(this.view(e, now));
    return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  bulletin(): Bulletin {
    return { ns: this.info.ns, time: this.now(), services: this.list() };
  }

  /**
   * Locks a service's scores to `score` (put and get), or to their current values.
   * @throws NotFoundError SERVICE_NOT_FOUND; InvalidArgumentError BAD_REQUEST for a score
   * outside 0..100
   */
  lock(type: string, id: string, score?: number): void {
    const e = this.services.get(key(type, id));
    if (!e) throw new NotFoundError('SERVICE_NOT_FOUND', `no ${type} service ${id}`);
    if (score !== undefined && score !== null) {
      if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 100) {
        throw new InvalidArgumentError('BAD_REQUEST', `lock: score must be a number 0..100`);
      }
      e.score = Math.round(score);
      e.scoreGet = Math.round(score);
    } else {
      const v = this.view(e, this.now());
      e.score = v.score;
      e.scoreGet = v.scoreGet;
    }
    e.info.locked = true;
  }

  /** Unlocks a service's scores; the next registration recomputes them (bounded rise). */
  unlock(type: string, id: string): void {
    const e = this.services.get(key(type, id));
    if (!e) throw new NotFoundError('SERVICE_NOT_FOUND', `no ${type} service ${id}`);
    e.info.locked = false;
  }

  /** The current locks (to persist). */
  locks(): ScoreLock[] {
    return [...this.services.values()].filter((e) => e.info.locked)
      .map((e) => ({ type: e.info.type, id: e.info.id, score: e.score, scoreGet: e.scoreGet }))
      .concat([...this.pendingLocks.values()].map((l) => ({ ...l })));
  }

  /**
   * Restores persisted locks: a lock of a registered service applies at once, the others when
   * their service registers (until then they are not listed).
   */
  restoreLocks(locks: ScoreLock[]): void {
    for (const l of locks) {
      const e = this.services.get(key(l.type, l.id));
      if (e) { e.score = l.score; e.scoreGet = l.scoreGet; e.info.locked = true; }
      else this.pendingLocks.set(key(l.type, l.id), { ...l });
    }
  }

  /**
   * Chooses services for a pool, policy or type (see `client/lb/pool`).
   * @throws OioError POLICY_NOT_SATISFIABLE, BAD_REQUEST
   */
  choose(req: ChooseSpec & { avoid?: string[] }): PoolChoice {
    if (!req || typeof req !== 'object') throw new InvalidArgumentError('BAD_REQUEST', 'choose: body must be an object');
    if (req.avoid !== undefined && (!Array.isArray(req.avoid) || !req.avoid.every((s) => typeof s === 'string'))) {
      throw new InvalidArgumentError('BAD_REQUEST', 'choose: avoid must be an array of ids');
    }
    const pool = resolveChoose(req, this.info);
    return choosePool(this.list(), pool, { avoid: req.avoid ?? [], ...(this.rng ? { rng: this.rng } : {}) });
  }
}
