/**
 * @module client/lb/pool
 * Placement: choosing services for a pool (OpenIO `core/lb.c`), and turning storage policies
 * and data security definitions (`plain/nb_copy=3,distance=1`, `ec/k=6,m=3,...`) into pool
 * requests. Pure logic shared by the conscience (`/v1/lb/choose`) and client-side placement.
 *
 * The choice: for each target, `count` services are taken one by one, each from the first of
 * the target's slots that still has an eligible service (slot fallback). A service is eligible
 * when its put score is > 0, `tag.up` is not false, it is not in `avoid`, not already chosen,
 * and at distance >= d from every service already chosen. The pick among eligible services is
 * random, weighted by put score. d starts at `max_dist` and goes down to `min_dist` (a few
 * random attempts per level), so the first set found is the most spread one up to `max_dist`;
 * nothing below `min_dist` is ever returned. With `nearby_mode`, d is `min_dist` and each pick
 * after the first is limited to the eligible services closest to those already chosen.
 */
import { InvalidArgumentError, OioError } from '../../common/errors';
import type { NamespaceInfo, PoolSpec, PoolTarget, ServiceInfo } from '../../common/model';
import { LOCATION_WORDS, locationOf, locationWords, wordsDistance } from './distance';

/** A resolved pool: what `choosePool` needs. */
export interface PoolRequest {
  /** for messages: the pool, policy or type it came from */
  name: string;
  targets: PoolTarget[];
  /** hard minimum distance between chosen services */
  minDist: number;
  /** distance the choice tries to reach */
  maxDist: number;
  /** a choice below this distance sets `warning` (0: never) */
  warnDist: number;
  nearby: boolean;
}

/** The result of a choice. */
export interface PoolChoice {
  services: ServiceInfo[];
  /** smallest distance between two chosen services (4 when fewer than 2) */
  distance: number;
  /** distance < warnDist */
  warning: boolean;
}

export interface ChooseOptions {
  /** service ids not to choose */
  avoid?: Iterable<string>;
  /** random source in [0, 1) (tests inject one); Math.random by default */
  rng?: () => number;
  /** random attempts per distance level (default 3; three times more at min_dist) */
  attempts?: number;
}

/** The fields of a `ChooseRequest` (`client/remote/conscience.ts`) the resolver reads. */
export interface ChooseSpec {
  pool?: string;
  policy?: string;
  type?: string;
  count?: number;
}

interface Candidate { svc: ServiceInfo; words: readonly string[]; weight: number }

/** True when the service may receive new data: put score > 0 and tag.up not false. */
export function isChoosable(svc: ServiceInfo): boolean {
  if (!(svc.score > 0)) return false;
  const up = svc.tags['tag.up'];
  return !(up === false || up === 0 || (typeof up === 'string' && /^(false|0|no)$/i.test(up)));
}

/**
 * Services grouped by slot, with their split locations: build once per bulletin, then every
 * choice is a scan of the slot lists (no string work).
 */
export class CandidateIndex {
  private readonly bySlot = new Map<string, Candidate[]>();

  constructor(services: readonly ServiceInfo[]) {
    for (const svc of services) {
      if (!isChoosable(svc)) continue;
      const c: Candidate = { svc, words: locationWords(locationOf(svc)), weight: svc.score };
      const slots = new Set([svc.type, ...(svc.slots ?? [])]);
      for (const slot of slots) {
        let list = this.bySlot.get(slot);
        if (!list) this.bySlot.set(slot, (list = []));
        list.push(c);
      }
    }
  }

  /** Eligible services of a slot (score > 0, up). */
  slot(name: string): readonly Candidate[] {
    return this.bySlot.get(name) ?? [];
  }
}

function weightedPick(list: Candidate[], rng: () => number): Candidate {
  let total = 0;
  for (const c of list) total += c.weight;
  let r = rng() * total;
  for (const c of list) {
    r -= c.weight;
    if (r < 0) return c;
  }
  return list[list.length - 1]!;
}

function attempt(index: CandidateIndex, req: PoolRequest, d: number, avoid: ReadonlySet<string>, rng: () => number): Candidate[] | { found: number } {
  const chosen: Candidate[] = [];
  const ids = new Set<string>();
  for (const target of req.targets) {
    for (let k = 0; k < target.count; k++) {
      let picked: Candidate | undefined;
      for (const slot of target.slots) {
        let eligible = index.slot(slot).filter((c) => !avoid.has(c.svc.id) && !ids.has(c.svc.id)
          && chosen.every((x) => wordsDistance(x.words, c.words) >= d));
        if (eligible.length === 0) continue;
        if (req.nearby && chosen.length > 0) {
          const far = (c: Candidate) => Math.max(...chosen.map((x) => wordsDistance(x.words, c.words)));
          const best = Math.min(...eligible.map(far));
          eligible = eligible.filter((c) => far(c) === best);
        }
        picked = weightedPick(eligible, rng);
        break;
      }
      if (!picked) return { found: chosen.length };
      chosen.push(picked);
      ids.add(picked.svc.id);
    }
  }
  return chosen;
}

function minPairDistance(list: Candidate[]): number {
  let d = LOCATION_WORDS;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) d = Math.min(d, wordsDistance(list[i]!.words, list[j]!.words));
  }
  return d;
}

/**
 * Chooses services for a pool (see the module header for the rules).
 * @param services the bulletin's services, or a prebuilt CandidateIndex
 * @throws OioError POLICY_NOT_SATISFIABLE saying how many services were needed and found
 */
export function choosePool(services: readonly ServiceInfo[] | CandidateIndex, req: PoolRequest, opts: ChooseOptions = {}): PoolChoice {
  const index = services instanceof CandidateIndex ? services : new CandidateIndex(services);
  const avoid = new Set(opts.avoid ?? []);
  const rng = opts.rng ?? Math.random;
  const attempts = Math.max(1, opts.attempts ?? 3);
  const needed = req.targets.reduce((n, t) => n + t.count, 0);
  const minDist = Math.max(0, Math.min(req.minDist, LOCATION_WORDS));
  const maxDist = Math.max(minDist, Math.min(req.maxDist, LOCATION_WORDS));
  const levels: number[] = [];
  if (req.nearby) levels.push(minDist);
  else for (let d = maxDist; d >= minDist; d--) levels.push(d);
  let found = 0;
  for (const d of levels) {
    // The last level (min_dist) is the hard one: more random attempts before giving up.
    const tries = d === levels[levels.length - 1] ? attempts * 3 : attempts;
    for (let a = 0; a < tries; a++) {
      const r = attempt(index, req, d, avoid, rng);
      if (Array.isArray(r)) {
        const distance = minPairDistance(r);
        return { services: r.map((c) => c.svc), distance, warning: r.length > 1 && distance < req.warnDist };
      }
      found = Math.max(found, r.found);
    }
  }
  const slots = [...new Set(req.targets.flatMap((t) => t.slots))].join(',');
  throw new OioError('POLICY_NOT_SATISFIABLE',
    `${req.name}: needed ${needed} services (slots ${slots}, min_dist ${minDist}), found ${found}`,
    { details: { pool: req.name, needed, found, minDist } });
}

// --- pools, data security, storage policies ---------------------------------------------

function bad(msg: string): InvalidArgumentError {
  return new InvalidArgumentError('BAD_REQUEST', msg);
}

function distOpt(where: string, key: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LOCATION_WORDS) throw bad(`${where}: ${key} must be an integer 0..${LOCATION_WORDS}`);
  return v;
}

/**
 * Checks a pool definition (from `ns.pools`) and returns it normalized.
 * @throws InvalidArgumentError BAD_REQUEST naming the pool and the bad field
 */
export function validatePoolSpec(name: string, raw: unknown): PoolSpec {
  const where = `pool "${name}"`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${where}: must be an object { targets: [...] }`);
  const r = raw as Record<string, unknown>;
  if (!Array.isArray(r.targets) || r.targets.length === 0) throw bad(`${where}: targets must be a non-empty array`);
  const targets = r.targets.map((t: unknown, i): PoolTarget => {
    const tt = (t ?? {}) as Record<string, unknown>;
    if (typeof tt.count !== 'number' || !Number.isInteger(tt.count) || tt.count < 1) throw bad(`${where} target ${i}: count must be an integer >= 1`);
    if (!Array.isArray(tt.slots) || tt.slots.length === 0 || !tt.slots.every((s) => typeof s === 'string' && s !== '')) {
      throw bad(`${where} target ${i}: slots must be a non-empty array of names`);
    }
    return { count: tt.count, slots: tt.slots as string[] };
  });
  const spec: PoolSpec = { targets };
  const minDist = distOpt(where, 'min_dist', r.min_dist);
  const maxDist = distOpt(where, 'max_dist', r.max_dist);
  const warnDist = distOpt(where, 'warn_dist', r.warn_dist);
  if (minDist !== undefined) spec.min_dist = minDist;
  if (maxDist !== undefined) spec.max_dist = maxDist;
  if (warnDist !== undefined) spec.warn_dist = warnDist;
  if ((minDist ?? 1) > (maxDist ?? LOCATION_WORDS)) throw bad(`${where}: min_dist ${minDist ?? 1} is above max_dist ${maxDist ?? LOCATION_WORDS}`);
  if (r.nearby_mode !== undefined) {
    if (typeof r.nearby_mode !== 'boolean') throw bad(`${where}: nearby_mode must be a boolean`);
    spec.nearby_mode = r.nearby_mode;
  }
  return spec;
}

/** A PoolRequest from a pool definition (defaults: min_dist 1, max_dist 4, warn_dist 0). */
export function poolRequestFromSpec(name: string, spec: PoolSpec): PoolRequest {
  return {
    name: `pool ${name}`,
    targets: spec.targets.map((t) => ({ count: t.count, slots: [...t.slots] })),
    minDist: spec.min_dist ?? 1,
    maxDist: spec.max_dist ?? LOCATION_WORDS,
    warnDist: spec.warn_dist ?? 0,
    nearby: spec.nearby_mode ?? false,
  };
}

/**
 * Reshapes targets to a total of `count` services: targets are taken in order, cycling when
 * they hold fewer than `count`, the last one cut when they hold more.
 */
export function fitTargets(targets: readonly PoolTarget[], count: number): PoolTarget[] {
  if (targets.length === 0 || count <= 0) return [];
  const out: PoolTarget[] = [];
  let left = count;
  for (let i = 0; left > 0; i++) {
    const t = targets[i % targets.length]!;
    const c = Math.min(t.count, left);
    out.push({ count: c, slots: [...t.slots] });
    left -= c;
  }
  return out;
}

/**
 * The default pool of a service type: `ns.pools[type]` when defined, else one target of
 * `count` services from the slot named after the type.
 */
export function defaultPoolRequest(type: string, ns: Pick<NamespaceInfo, 'pools'> | undefined, count = 1): PoolRequest {
  const spec = ns?.pools[type];
  if (spec) {
    const req = poolRequestFromSpec(type, spec);
    return { ...req, targets: fitTargets(req.targets, count) };
  }
  return { name: `type ${type}`, targets: [{ count, slots: [type] }], minDist: 1, maxDist: LOCATION_WORDS, warnDist: 0, nearby: false };
}

/** A parsed data security definition. */
export type DataSecurity =
  | { kind: 'plain'; nbCopy: number; distance: number; raw: string }
  | { kind: 'ec'; k: number; m: number; algo: string; distance: number; raw: string };

/**
 * Parses `plain/nb_copy=N,distance=D` or `ec/k=K,m=M,algo=A,distance=D` (parameters in any
 * order; distance defaults to 1, nb_copy to 1, algo to liberasurecode_rs_vand).
 * @throws InvalidArgumentError BAD_REQUEST on an unknown kind or a bad parameter
 */
export function parseDataSecurity(raw: string): DataSecurity {
  const m = /^\s*([a-z_]+)\s*(?:\/(.*))?$/i.exec(String(raw));
  if (!m) throw bad(`data security "${raw}": expected plain/... or ec/...`);
  const kind = m[1]!.toLowerCase();
  const params: Record<string, string> = {};
  for (const part of (m[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(`data security "${raw}": "${part}" is not key=value`);
    params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const int = (key: string, dflt: number | undefined, min: number, max: number): number => {
    const v = params[key];
    if (v === undefined) {
      if (dflt === undefined) throw bad(`data security "${raw}": missing ${key}`);
      return dflt;
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw bad(`data security "${raw}": ${key} must be an integer ${min}..${max}`);
    return n;
  };
  const distance = int('distance', 1, 0, LOCATION_WORDS);
  if (kind === 'plain') return { kind: 'plain', nbCopy: int('nb_copy', 1, 1, 100), distance, raw };
  if (kind === 'ec') {
    return { kind: 'ec', k: int('k', undefined, 1, 255), m: int('m', undefined, 1, 255), algo: params.algo ?? 'liberasurecode_rs_vand', distance, raw };
  }
  throw bad(`data security "${raw}": unknown kind "${kind}" (plain or ec)`);
}

/** How many chunks (services) a data security needs: nb_copy, or k + m. */
export function dataSecurityCount(ds: DataSecurity): number {
  return ds.kind === 'plain' ? ds.nbCopy : ds.k + ds.m;
}

/** A resolved storage policy: "POOL:DATA_SECURITY". */
export interface StoragePolicy {
  name: string;
  /** pool name; NONE: the default pool of the service type */
  pool: string;
  dataSecurityName: string;
  dataSecurity: DataSecurity;
}

/**
 * Resolves a storage policy name (or a literal "POOL:DATA_SECURITY") against the namespace.
 * @throws InvalidArgumentError BAD_REQUEST for an unknown policy, pool or data security
 */
export function resolveStoragePolicy(name: string, ns: Pick<NamespaceInfo, 'storagePolicies' | 'dataSecurity' | 'pools'>): StoragePolicy {
  const value = ns.storagePolicies[name] ?? (name.includes(':') ? name : undefined);
  if (value === undefined) throw bad(`unknown storage policy "${name}"`);
  const i = value.indexOf(':');
  if (i <= 0) throw bad(`storage policy "${name}": "${value}" is not POOL:DATA_SECURITY`);
  const pool = value.slice(0, i);
  const dsName = value.slice(i + 1);
  if (pool !== 'NONE' && !ns.pools[pool]) throw bad(`storage policy "${name}": unknown pool "${pool}"`);
  const dsRaw = ns.dataSecurity[dsName] ?? (dsName.includes('/') ? dsName : undefined);
  if (dsRaw === undefined) throw bad(`storage policy "${name}": unknown data security "${dsName}"`);
  return { name, pool, dataSecurityName: dsName, dataSecurity: parseDataSecurity(dsRaw) };
}

/**
 * The pool request of a storage policy for a service type (rawx by default): count from the
 * data security (nb_copy or k+m), targets from the policy's pool (NONE: the type's default
 * pool) fitted to that count, min_dist raised to the data security's distance.
 */
export function policyPoolRequest(policy: string, ns: Pick<NamespaceInfo, 'storagePolicies' | 'dataSecurity' | 'pools'>, type = 'rawx'): PoolRequest {
  const sp = resolveStoragePolicy(policy, ns);
  const count = dataSecurityCount(sp.dataSecurity);
  const distance = sp.dataSecurity.distance;
  if (sp.pool === 'NONE') {
    const base = defaultPoolRequest(type, ns, count);
    const minDist = ns.pools[type] ? Math.max(base.minDist, distance) : distance;
    return { ...base, name: `policy ${policy}`, minDist, maxDist: Math.max(base.maxDist, minDist) };
  }
  const base = poolRequestFromSpec(sp.pool, ns.pools[sp.pool]!);
  const minDist = Math.max(base.minDist, distance);
  return { ...base, name: `policy ${policy}`, targets: fitTargets(base.targets, count), minDist, maxDist: Math.max(base.maxDist, minDist) };
}

/**
 * Turns a choose request into a pool request: `policy` (with `type`, default rawx), else
 * `pool` (a pool of `ns.pools`, NONE or a type name: that type's default pool), else `type`;
 * `count` reshapes the targets of a pool or type.
 * @throws InvalidArgumentError BAD_REQUEST when nothing identifies the pool
 */
export function resolveChoose(req: ChooseSpec, ns: Pick<NamespaceInfo, 'storagePolicies' | 'dataSecurity' | 'pools'>): PoolRequest {
  if (req.count !== undefined && (!Number.isInteger(req.count) || req.count < 1)) throw bad(`count must be an integer >= 1`);
  if (req.policy) {
    // `count` overrides the policy's count (a degraded placement during an upload).
    const r = policyPoolRequest(req.policy, ns, req.type ?? 'rawx');
    return req.count ? { ...r, targets: fitTargets(r.targets, req.count) } : r;
  }
  if (req.pool && req.pool !== 'NONE') {
    const spec = ns.pools[req.pool];
    if (!spec) return defaultPoolRequest(req.pool, ns, req.count ?? 1);
    const base = poolRequestFromSpec(req.pool, spec);
    return req.count ? { ...base, targets: fitTargets(base.targets, req.count) } : base;
  }
  if (req.type) return defaultPoolRequest(req.type, ns, req.count ?? 1);
  throw bad('choose: one of policy, pool or type is required');
}
