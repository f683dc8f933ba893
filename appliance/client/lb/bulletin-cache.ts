/**
 * @module client/lb/bulletin-cache
 * The client-side load balancer: a cached score bulletin and namespace info fetched from the
 * conscience, refreshed in the background every `ns.bulletin_refresh` ms, so that each
 * placement decision (`choose`) and replica ordering (`get`) is local and cheap.
 */
import type { Bulletin, NamespaceInfo, ServiceInfo } from '../../common/model';
import { UnavailableError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { CandidateIndex, ChooseOptions, ChooseSpec, choosePool, PoolChoice, resolveChoose } from './pool';

/** What the cache fetches from: a ConscienceClient, or anything with the same two calls. */
export interface BulletinSource {
  conscienceBulletin(): Promise<Bulletin>;
  conscienceInfo(): Promise<NamespaceInfo>;
}

export interface LoadBalancerOptions {
  /** overrides the namespace's bulletin_refresh (ms) */
  refreshMs?: number;
  log?: Logger;
  /** random source for choices (tests) */
  rng?: () => number;
}

/** A choose request as sent to `/v1/lb/choose`, plus ids to avoid. */
export interface LocalChooseRequest extends ChooseSpec {
  avoid?: string[];
}

/**
 * Holds a Bulletin and NamespaceInfo. `start()` fetches both then refreshes in the background
 * (timer unref'd); `stop()` ends the refresh. Until the first fetch succeeds, lookups throw
 * UNAVAILABLE. A failed refresh keeps the previous bulletin (logged at warn).
 */
export class LoadBalancer {
  private bulletinValue: Bulletin | undefined;
  private infoValue: NamespaceInfo | undefined;
  private index: CandidateIndex | undefined;
  private ids = new Map<string, ServiceInfo>();
  private addrs = new Map<string, ServiceInfo>();
  private byType = new Map<string, ServiceInfo[]>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly source: BulletinSource | undefined, private readonly opts: LoadBalancerOptions = {}) {}

  /** A cache fed by hand (no source, no timer): tests, and the conscience itself. */
  static fromSnapshot(bulletin: Bulletin, info: NamespaceInfo, opts: LoadBalancerOptions = {}): LoadBalancer {
    const lb = new LoadBalancer(undefined, opts);
    lb.update(bulletin, info);
    return lb;
  }

  /** Fetches once (throws if the conscience cannot be reached), then refreshes periodically. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || !this.source) return;
    const ms = this.opts.refreshMs ?? this.infoValue?.bulletinRefreshMs ?? 2000;
    this.timer = setTimeout(() => {
      this.refresh().catch((e: unknown) => this.opts.log?.warn('bulletin refresh failed', { err: e instanceof Error ? e : String(e) }))
        .finally(() => this.schedule());
    }, ms);
    this.timer.unref();
  }

  /** Fetches the bulletin and namespace info now. */
  async refresh(): Promise<void> {
    if (!this.source) return;
    const [bulletin, info] = await Promise.all([this.source.conscienceBulletin(), this.source.conscienceInfo()]);
    this.update(bulletin, info);
  }

  /** Replaces the cached state (rebuilds the lookup tables once). */
  update(bulletin: Bulletin, info: NamespaceInfo): void {
    this.bulletinValue = bulletin;
    this.infoValue = info;
    this.index = new CandidateIndex(bulletin.services);
    this.ids = new Map();
    this.addrs = new Map();
    this.byType = new Map();
    for (const s of bulletin.services) {
      this.ids.set(s.id, s);
      this.addrs.set(s.addr, s);
      let list = this.byType.get(s.type);
      if (!list) this.byType.set(s.type, (list = []));
      list.push(s);
    }
    for (const list of this.byType.values()) list.sort((a, b) => b.scoreGet - a.scoreGet);
  }

  /** True once a bulletin is cached. */
  get isReady(): boolean {
    return this.bulletinValue !== undefined;
  }

  /** @throws UnavailableError UNAVAILABLE before the first fetch */
  get bulletin(): Bulletin {
    if (!this.bulletinValue) throw new UnavailableError('UNAVAILABLE', 'load balancer: no bulletin yet');
    return this.bulletinValue;
  }

  /** @throws UnavailableError UNAVAILABLE before the first fetch */
  get info(): NamespaceInfo {
    if (!this.infoValue) throw new UnavailableError('UNAVAILABLE', 'load balancer: no namespace info yet');
    return this.infoValue;
  }

  /**
   * Chooses services locally (same rules as the conscience's `/v1/lb/choose`).
   * @throws OioError POLICY_NOT_SATISFIABLE, BAD_REQUEST (unknown policy), UNAVAILABLE
   */
  choose(req: LocalChooseRequest, opts: ChooseOptions = {}): PoolChoice {
    const info = this.info;
    const rng = opts.rng ?? this.opts.rng;
    return choosePool(this.index!, resolveChoose(req, info), { ...opts, ...(rng ? { rng } : {}), avoid: opts.avoid ?? req.avoid ?? [] });
  }

  /** Services of a type, best get score first (replica order for reads). */
  get(type: string): ServiceInfo[] {
    void this.bulletin;
    return [...(this.byType.get(type) ?? [])];
  }

  byId(id: string): ServiceInfo | undefined {
    return this.ids.get(id);
  }

  byAddr(addr: string): ServiceInfo | undefined {
    return this.addrs.get(addr);
  }

  /**
   * Orders addresses (e.g. the replicas of a chunk) by the get score of their service, best
   * first; unknown addresses keep their relative order after the known ones.
   */
  sortByGetScore(addrs: readonly string[]): string[] {
    const score = (a: string) => this.addrs.get(a)?.scoreGet ?? -1;
    return addrs.map((a, i) => ({ a, i, s: score(a) })).sort((x, y) => y.s - x.s || x.i - y.i).map((x) => x.a);
  }
}
