/**
 * @module services/proxy/backend
 * The metadata gateway's logic (no HTTP types): turns account/container/object names into
 * calls on meta1/meta2/account through the resolver's caches, and answers `prepare` with
 * rawx targets chosen locally from the cached score bulletin. Data never flows through here.
 */
import { ConflictError, InvalidArgumentError, Logger, OioError, PEERS_HEADER, cidOf, isNotFound, newChunkId, validateName } from '../../common';
import type { ContentInfo, NamespaceInfo, PrepareAnswer, ServiceInfo } from '../../common/model';
import { LoadBalancer, dataSecurityCount, parseDataSecurity } from '../../client/lb';
import { ReplicaOrder, Resolver, isReachError } from '../../client/resolver';
import { AccountClient, Meta2Client } from '../../client/remote';

export interface ContainerSystem { policy?: string; max_versions?: number; quota?: number }

export interface PrepareRequest {
  account: string; container: string; path: string;
  /** total size when known: the answer covers every metachunk */
  size?: number;
  policy?: string;
  /** first metachunk position to prepare (streamed uploads prepare one at a time) */
  pos?: number;
  count?: number;
  /** rawx ids or addresses not to use (failed during this upload) */
  avoid?: string[];
  /**
   * An upload already under way: when the policy's full count cannot be placed any more (a
   * rawx died), place at least its quorum rather than failing the whole upload.
   */
  degraded?: boolean;
}

/** How long the proxy waits for a directory replica before trying the next one. */
const DIRECTORY_TIMEOUT_MS = 8000;

export class ProxyBackend {
  private readonly policyCache = new Map<string, { policy: string | undefined; expires: number }>();
  private lastForcedRefresh = 0;
  private readonly lastReplica = new Map<string, string>();

  private readonly replicas = new ReplicaOrder();

  private rememberReplica(cid: string, addr: string): void {
    this.lastReplica.delete(cid);
    this.lastReplica.set(cid, addr);
    if (this.lastReplica.size > 100_000) this.lastReplica.delete(this.lastReplica.keys().next().value as string);
  }

  constructor(
    readonly lb: LoadBalancer,
    readonly resolver: Resolver,
    private readonly accountAddrs: () => string[],
    private readonly log: Logger,
  ) {}

  get ns(): NamespaceInfo { return this.lb.info; }

  private names(b: { account?: unknown; container?: unknown }): { account: string; container: string; cid: string } {
    const account = validateName('account', b.account);
    const container = validateName('container', b.container);
    return { account, container, cid: cidOf(account, container) };
  }

  /** Runs fn on the container's meta2 replicas (first that answers; retries after a cache refresh). */
  private async onMeta2<T>(cid: string, reqId: string, fn: (m: Meta2Client) => Promise<T>): Promise<T> {
    let addrs: string[];
    try { addrs = await this.resolver.servicesOf(cid, 'meta2', reqId); }
    catch (e) { if (isNotFound(e)) throw new OioError('CONTAINER_NOT_FOUND', 'no such container'); throw e; }
    // The replica that answered last for this container first (usually its master); one that
    // does not answer in time (dead, paused) is skipped for the next one, and tried last by
    // the next requests for a while. Replicas out of reach do not make the cached reference
    // wrong (meta1 would be asked again for nothing, through the same dead master).
    const { value, addr } = await this.replicas.first(addrs, (a) => fn(new Meta2Client(a, reqId, { [PEERS_HEADER]: addrs.join(',') }, DIRECTORY_TIMEOUT_MS)), {
      preferred: this.lastReplica.get(cid),
      exhausted: (last) => { if (!isReachError(last)) this.resolver.forget(cid); },
    });
    if (addrs.length > 1) this.rememberReplica(cid, addr);
    return value;
  }

  private async account<T>(reqId: string, fn: (a: AccountClient) => Promise<T>): Promise<T> {
    const addrs = this.accountAddrs();
    if (!addrs.length) throw new OioError('UNAVAILABLE', 'no account service registered');
    return (await this.replicas.first(addrs, (addr) => fn(new AccountClient(addr, reqId, { [PEERS_HEADER]: addrs.join(',') })))).value;
  }

  checkPolicy(policy: string | undefined): void {
    if (policy !== undefined && !(policy in this.ns.storagePolicies)) {
      throw new InvalidArgumentError('BAD_REQUEST', `unknown storage policy "${policy}" (known: ${Object.keys(this.ns.storagePolicies).join(', ')})`);
    }
  }

  async containerCreate(b: { account?: unknown; container?: unknown; properties?: Record<string, string>; system?: ContainerSystem }, reqId: string): Promise<void> {
    const { account, container, cid } = this.names(b);
    this.checkPolicy(b.system?.policy);
    await this.account(reqId, (a) => a.accountCreate(account));
    await this.resolver.link(cid, account, container, 'meta2', reqId);
    await this.onMeta2(cid, reqId, (m) => m.containerCreate({ cid, account, container, properties: b.properties ?? {}, system: b.system ?? {} }));
    // The account lists the container at once (S3 ListBuckets right after CreateBucket), with
    // meta2's own values and mtime, so meta2's later usage events still win.
    try {
      const info = await this.onMeta2(cid, reqId, (m) => m.containerShow(cid)) as { objects: number; bytes: number; mtime: number };
      await this.account(reqId, (a) => a.accountContainerUpdate({ id: account, container, objects: info.objects, bytes: info.bytes, mtime: info.mtime }));
    } catch (e) { this.log.warn('account update after create failed (meta2 events will do it)', { cid, err: e as Error }); }
  }

  async containerShow(q: { account?: unknown; container?: unknown }, reqId: string): Promise<unknown> {
    const { cid } = this.names(q);
    return this.onMeta2(cid, reqId, (m) => m.containerShow(cid));
  }

  async containerSet(b: { account?: unknown; container?: unknown; properties?: Record<string, string>; system?: ContainerSystem; clear?: boolean }, reqId: string): Promise<void> {
    const { cid } = this.names(b);
    this.checkPolicy(b.system?.policy);
    this.policyCache.delete(cid);
    await this.onMeta2(cid, reqId, (m) => m.containerSet({ cid, properties: b.properties, system: b.system, clear: b.clear }));
  }

  async containerDelete(b: { account?: unknown; container?: unknown; force?: boolean }, reqId: string): Promise<void> {
    const { cid } = this.names(b);
    await this.onMeta2(cid, reqId, (m) => m.containerDelete(cid, b.force));
    this.policyCache.delete(cid);
    // Gone from the account's list at once (S3 ListBuckets right after DeleteBucket).
    const { account, container } = this.names(b);
    await this.account(reqId, (a) => a.accountContainerUpdate({ id: account, container, objects: 0, bytes: 0, mtime: Date.now(), deleted: true }))
      .catch((e: unknown) => this.log.warn('account update after delete failed (meta2 events will do it)', { cid, err: e as Error }));
    await this.resolver.destroy(cid, reqId).catch((e: unknown) => this.log.warn('meta1 destroy failed', { cid, err: e as Error }));
  }

  async containerList(q: { account?: unknown; prefix?: string; marker?: string; limit?: number }, reqId: string): Promise<unknown> {
    const account = validateName('account', q.account);
    return this.account(reqId, (a) => a.accountContainers(account, { prefix: q.prefix, marker: q.marker, limit: q.limit }));
  }

  async accountShow(q: { account?: unknown }, reqId: string): Promise<unknown> {
    const account = validateName('account', q.account);
    return this.account(reqId, (a) => a.accountShow(account));
  }

  async accountList(reqId: string): Promise<unknown> {
    return this.account(reqId, (a) => a.accountList());
  }

  async userCreate(b: { access_key?: string; secret_key?: string; account?: unknown; replace?: boolean }, reqId: string): Promise<unknown> {
    const account = validateName('account', b.account);
    return this.account(reqId, (a) => a.userCreate({ access_key: b.access_key, secret_key: b.secret_key, account, replace: b.replace === true }));
  }

  async bucketReserve(b: { name?: unknown; account?: unknown }, reqId: string): Promise<unknown> {
    const name = validateName('container', b.name);
    const account = validateName('account', b.account);
    return this.account(reqId, (a) => a.bucketReserve(name, account));
  }

  async bucketRelease(b: { name?: unknown; account?: unknown }, reqId: string): Promise<void> {
    const name = validateName('container', b.name);
    const account = validateName('account', b.account);
    await this.account(reqId, (a) => a.bucketRelease(name, account));
  }

  async bucketShow(q: { name?: string }, reqId: string): Promise<unknown> {
    const name = validateName('container', q.name);
    return this.account(reqId, (a) => a.bucketShow(name));
  }

  async userShow(q: { access_key?: string }, reqId: string): Promise<unknown> {
    return this.account(reqId, (a) => a.userShow(q.access_key ?? ''));
  }

  async userList(q: { account?: string }, reqId: string): Promise<unknown> {
    return this.account(reqId, (a) => a.userList(q.account || undefined));
  }

  async userDelete(b: { access_key?: string }, reqId: string): Promise<void> {
    await this.account(reqId, (a) => a.userDelete(String(b.access_key ?? '')));
  }

  private async containerPolicy(cid: string, reqId: string): Promise<string | undefined> {
    const hit = this.policyCache.get(cid);
    if (hit && hit.expires > Date.now()) return hit.policy;
    const show = await this.onMeta2(cid, reqId, (m) => m.containerShow(cid)) as { system?: ContainerSystem };
    const policy = show.system?.policy || undefined;
    this.policyCache.set(cid, { policy, expires: Date.now() + 5000 });
    return policy;
  }

  async contentPrepare(b: PrepareRequest, reqId: string): Promise<PrepareAnswer> {
    const { cid } = this.names(b);
    validateName('object', b.path);
    this.checkPolicy(b.policy);
    const policy = b.policy ?? (await this.containerPolicy(cid, reqId)) ?? this.ns.storagePolicy;
    this.checkPolicy(policy);
    const ds = parseDataSecurity(this.dataSecurityOf(policy));
    const chunkSize = this.ns.chunkSize;
    const first = b.pos ?? 0;
    if (!Number.isInteger(first) || first < 0) throw new InvalidArgumentError('BAD_REQUEST', 'pos must be a non-negative integer');
    const count = b.size !== undefined ? Math.max(1, Math.ceil(b.size / chunkSize)) : Math.min(Math.max(1, b.count ?? 1), 1000);
    const nbCopy = dataSecurityCount(ds);
    // Replicas: a majority. EC: k + ns.ec_quorum_extra fragments (K+1 by default), at most k + m.
    const quorum = ds.kind === 'ec' ? Math.min(nbCopy, ds.k + (this.ns.ecQuorumExtra ?? 1)) : Math.floor(nbCopy / 2) + 1;
    const avoid = (b.avoid ?? []).map((x) => this.lb.byAddr(x)?.id ?? x);
    const chunks: PrepareAnswer['chunks'] = [];
    for (let i = 0; i < count; i++) {
      const chosen = await this.place(policy, quorum, avoid, b.degraded === true);
      chunks.push({ pos: String(first + i), urls: chosen.map((s) => `http://${s.addr}/${newChunkId()}`) });
    }
    return { policy, chunkMethod: this.dataSecurityOf(policy), chunkSize, nbCopy, quorum, chunks };
  }

  /** The policy's full placement, or (degraded) the most services down to `min` that can be placed. */
  private async place(policy: string, min: number, avoid: string[], degraded: boolean): Promise<ServiceInfo[]> {
    try {
      return this.lb.choose({ policy, avoid }).services;
    } catch (e) {
      if ((e as OioError).code !== 'POLICY_NOT_SATISFIABLE') throw e;
      // The cached bulletin may predate a service that just came up: ask the conscience
      // (at most once a second, so an unsatisfiable policy does not hammer it).
      if (Date.now() - this.lastForcedRefresh > 1000) {
        this.lastForcedRefresh = Date.now();
        await this.lb.refresh().catch(() => undefined);
      }
      try { return this.lb.choose({ policy, avoid }).services; } catch (e1) { if (!degraded || (e1 as OioError).code !== 'POLICY_NOT_SATISFIABLE') throw e1; }
      const full = dataSecurityCount(parseDataSecurity(this.dataSecurityOf(policy)));
      for (let count = full - 1; count >= min; count--) {
        try {
          const chosen = this.lb.choose({ policy, avoid, count }).services;
          this.log.warn('degraded placement', { policy, wanted: full, placed: chosen.length });
          return chosen;
        } catch (e2) { if ((e2 as OioError).code !== 'POLICY_NOT_SATISFIABLE') throw e2; }
      }
      throw e;
    }
  }

  dataSecurityOf(policy: string): string {
    const def = this.ns.storagePolicies[policy];
    if (!def) throw new InvalidArgumentError('BAD_REQUEST', `unknown storage policy "${policy}"`);
    const dsName = def.split(':')[1] ?? 'NONE';
    const ds = this.ns.dataSecurity[dsName];
    if (!ds) throw new OioError('INTERNAL', `storage policy ${policy} names unknown data security ${dsName}`);
    return ds;
  }

  async contentCreate(b: { account?: unknown; container?: unknown; content?: ContentInfo; expect_latest?: number | null; newest?: unknown }, reqId: string): Promise<ContentInfo> {
    const { cid } = this.names(b);
    if (!b.content) throw new InvalidArgumentError('BAD_REQUEST', 'content is missing');
    validateName('object', b.content.name);
    return this.onMeta2(cid, reqId, (m) => m.contentCreate(cid, b.content!, b.expect_latest, b.newest === true));
  }

  /** Adds each chunk's rawx get score so readers try the best replica first. */
  private scored(c: ContentInfo): ContentInfo {
    for (const ch of c.chunks) {
      const addr = ch.url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      ch.score = this.lb.byAddr(addr)?.scoreGet ?? 0;
    }
    return c;
  }

  async contentShow(q: { account?: unknown; container?: unknown; path?: unknown; version?: string }, reqId: string): Promise<ContentInfo> {
    const { cid } = this.names(q);
    const path = validateName('object', q.path);
    return this.scored(await this.onMeta2(cid, reqId, (m) => m.contentShow(cid, path, versionOf(q.version))));
  }

  async contentList(q: { account?: unknown; container?: unknown; prefix?: string; delimiter?: string; marker?: string; version_marker?: string; limit?: string; versions?: string; chunks?: string }, reqId: string): Promise<unknown> {
    const { cid } = this.names(q);
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new InvalidArgumentError('BAD_REQUEST', 'limit must be a non-negative integer');
    const flag = (v: string | undefined) => v === '1' || v === 'true';
    return this.onMeta2(cid, reqId, (m) => m.contentList(cid, {
      prefix: q.prefix, delimiter: q.delimiter, marker: q.marker, version_marker: versionOf(q.version_marker), limit, versions: flag(q.versions), chunks: flag(q.chunks),
    }));
  }

  async contentDelete(b: { account?: unknown; container?: unknown; path?: unknown; version?: string | number; marker?: unknown }, reqId: string): Promise<unknown> {
    const { cid } = this.names(b);
    const path = validateName('object', b.path);
    return this.onMeta2(cid, reqId, (m) => m.contentDelete(cid, path, versionOf(b.version), b.marker === true));
  }

  async contentLink(b: { account?: unknown; container?: unknown; path?: unknown; version?: string | number; dest?: unknown }, reqId: string): Promise<ContentInfo> {
    const { cid } = this.names(b);
    const path = validateName('object', b.path);
    const dest = validateName('object', b.dest);
    if (dest === path && b.version === undefined) throw new ConflictError('CONTENT_EXISTS', 'link destination is the source');
    return this.onMeta2(cid, reqId, (m) => m.contentLink(cid, path, dest, versionOf(b.version)));
  }

  async contentProperties(b: { account?: unknown; container?: unknown; path?: unknown; version?: string | number; set?: Record<string, string>; del?: string[] }, reqId: string): Promise<ContentInfo> {
    const { cid } = this.names(b);
    const path = validateName('object', b.path);
    return this.onMeta2(cid, reqId, (m) => m.contentProperties(cid, path, { set: b.set, del: b.del, version: versionOf(b.version) }));
  }
}


/** An object version from a query or body (microseconds); BAD_REQUEST when not an integer. */
function versionOf(v: string | number | undefined | null): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('BAD_REQUEST', `invalid version "${String(v)}"`);
  return n;
}
