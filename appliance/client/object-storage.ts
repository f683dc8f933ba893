/**
 * @module client/object-storage
 * THE client library: the one way every front end (CLI, S3, FUSE, NFS, FTP, console) reaches
 * the store. Metadata goes through the proxy; data goes straight to the rawx services:
 * put streams each metachunk to the chosen replicas in parallel and succeeds when the
 * policy's quorum is written; get is ranged and fails over to another replica.
 * Erasure-coded policies (`ec/k=K,m=M`) encode each metachunk into K+M fragments written in
 * parallel (data/ec-writer.ts) and read them back rebuilding what is missing (data/ec-reader.ts).
 * Without an explicit policy, an upload picks one by size from the dynamic policies of its
 * container (property `sys.auto_storage_policies`) or namespace (`ns.auto_storage_policies`).
 * Nothing is visible until the content is committed to meta2, so a failed or killed upload
 * leaves no partial object (its written chunks are deleted, or orphaned by a crash).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { InvalidArgumentError, OioError, newContentId, nextVersionMicros, newReqId, validateName, cidOf } from '../common';
import type { ChunkInfo, ContainerInfo, ContentInfo, ContentList, NamespaceInfo, PrepareAnswer, ServiceInfo } from '../common/model';
import { ProxyClient, type AccountInfo, type BucketOwner, type ContainerListPage, type UserInfo } from './remote/proxy';
import { rawxDelete } from './remote/rawx';
import { ecMetachunksOf, readEcRange, readRange, splitChunks, unreachableUrls, writeEcMetachunk, writeReplicas, type BadFragment, type LocalVolumes } from './data';
import { defaultCell, EC_ALGOS, ecMethodFor, isEcMethod, parseEcMethod, preferredAlgo, type EcAlgo, type EcParams } from './ec';
import { AUTO_POLICIES_PROPERTY, parseAutoPolicies, parseDataSecurity, pickAutoPolicy } from './lb';

export interface ObjectStorageOptions {
  /** proxy address host:port */
  proxy: string;
  account: string;
  /** request id used for every call (one is made per operation otherwise) */
  reqId?: string;
  /** called for each EC fragment a read found missing or corrupt (for repair) */
  onBadFragment?: (bad: BadFragment) => void;
  /** EC reads: a fragment this much slower than the others is rebuilt instead (ms; 0: off) */
  ecSlowFragmentMs?: number;
  /**
   * The rawx of this host (`host:port` → volume folder) whose chunks this client reads from
   * their files instead of over HTTP: the node's own front ends (see data/chunk-open).
   */
  localVolumes?: LocalVolumes;
}

/** How long namespace info and a container's policy settings are cached for uploads, ms. */
const POLICY_CACHE_MS = 5000;
/**
 * Placements of single-metachunk uploads are asked this many at a time and kept at most
 * PLACEMENT_POOL_MS: a stream of small uploads (an untar through a bridge) asks the proxy for
 * one in 16, not for each. Each placement serves one upload.
 */
const PLACEMENT_BATCH = 16;
const PLACEMENT_POOL_MS = 500;

/** The EC layout a new content is written with, from its data security definition. */
function ecParamsFor(dataSecurity: string): EcParams {
  const ds = parseDataSecurity(dataSecurity);
  if (ds.kind !== 'ec') throw new InvalidArgumentError('BAD_REQUEST', `"${dataSecurity}" is not an EC data security`);
  const algo: EcAlgo = (EC_ALGOS as readonly string[]).includes(ds.algo) ? ds.algo as EcAlgo : preferredAlgo(ds.k, ds.m);
  return { k: ds.k, m: ds.m, algo, cell: defaultCell(ds.k) };
}

export interface ContainerCreateOptions {
  policy?: string;
  maxVersions?: number;
  quota?: number;
  properties?: Record<string, string>;
}

export interface PutOptions {
  /** total size when known (lets the proxy prepare every metachunk at once) */
  size?: number;
  policy?: string;
  mime?: string;
  properties?: Record<string, string>;
  /**
   * Properties known only once the source has ended (e.g. a checksum computed over it):
   * called after the last byte, before the commit, and stored with `properties`.
   */
  endProperties?: () => Record<string, string>;
  /**
   * Store only if the name's latest live version is this one (null: only if there is none),
   * checked by meta2 in the write itself; PRECONDITION_FAILED otherwise (the chunks go).
   */
  expectLatest?: number | null;
  /** called with the number of bytes read from the source so far */
  onProgress?: (bytes: number) => void;
}

export interface GetOptions {
  version?: string | number;
  /** first byte (inclusive) */
  start?: number;
  /** last byte (inclusive) */
  end?: number;
  /** the content as just read by objectHead (saves asking the proxy again) */
  content?: ContentInfo;
}

export interface GetResult {
  content: ContentInfo;
  start: number;
  end: number;
  stream: Readable;
}

/** Groups a content's chunks into metachunks (by the integer part of `pos`), replicas best first. */
export function metachunksOf(content: ContentInfo): Array<{ pos: number; size: number; replicas: Array<{ url: string; scoreGet?: number }> }> {
  const byPos = new Map<number, ChunkInfo[]>();
  for (const c of content.chunks) {
    const p = Number.parseInt(c.pos, 10);
    const list = byPos.get(p) ?? [];
    list.push(c);
    byPos.set(p, list);
  }
  return [...byPos.entries()].sort((a, b) => a[0] - b[0]).map(([pos, list]) => ({
    pos,
    size: list[0]!.size,
    replicas: [...list].sort((a, b) => (b.score ?? 0) - (a.score ?? 0)).map((c) => ({ url: c.url, scoreGet: c.score })),
  }));
}

const hostOf = (url: string): string => url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');

/**
 * rawx services that did not answer an upload lately (timeout, refused), shared by every
 * client of this process: placements avoid them until the conscience's scores catch up
 * (a paused node keeps its scores until `ns.score_timeout`).
 */
const SUSPECT_RAWX_MS = 20_000;
const suspectRawx = new Map<string, number>();

function markUnreachable(urls: string[]): void {
  const until = Date.now() + SUSPECT_RAWX_MS;
  if (suspectRawx.size > 1000) suspectRawx.clear();
  for (const u of urls) suspectRawx.set(hostOf(u), until);
}

function suspects(): string[] {
  const now = Date.now();
  for (const [a, until] of suspectRawx) if (until <= now) suspectRawx.delete(a);
  return [...suspectRawx.keys()];
}

/** The rawx URLs an upload error says were out of reach. */
function unreachableOf(e: unknown): string[] {
  const d = (e as OioError | undefined)?.details as { unreachable?: unknown } | undefined;
  return Array.isArray(d?.unreachable) ? d.unreachable.filter((u): u is string => typeof u === 'string') : [];
}

/** What a client caches for one account (shared by the clients `forAccount` makes). */
interface AccountCaches {
  containers: Map<string, { info: ContainerInfo; expires: number }>;
  /** Unused placements by container and requested policy (see PLACEMENT_BATCH). */
  placements: Map<string, { answer: PrepareAnswer; expires: number }>;
  placing: Map<string, Promise<PrepareAnswer>>;
}

/** The caches of a client and of every client made from it by `forAccount`. */
interface FamilyCaches {
  ns: { info: NamespaceInfo; expires: number } | undefined;
  accounts: Map<string, AccountCaches>;
}

/** Entries a cache map holds at most before it is emptied (many buckets, many accounts). */
const CACHE_MAX_ENTRIES = 10_000;

export class ObjectStorage {
  readonly account: string;
  private readonly proxyAddr: string;
  private readonly fixedReqId: string | undefined;
  private readonly onBadFragment: ((bad: BadFragment) => void) | undefined;
  private readonly ecSlowFragmentMs: number | undefined;
  private readonly localVolumes: LocalVolumes | undefined;
  private readonly family: FamilyCaches;
  private readonly containerCache: AccountCaches['containers'];
  private readonly placements: AccountCaches['placements'];
  private readonly placing: AccountCaches['placing'];

  constructor(opts: ObjectStorageOptions, family?: FamilyCaches) {
    this.account = validateName('account', opts.account);
    this.proxyAddr = opts.proxy;
    this.fixedReqId = opts.reqId;
    this.onBadFragment = opts.onBadFragment;
    this.ecSlowFragmentMs = opts.ecSlowFragmentMs;
    this.localVolumes = opts.localVolumes;
    this.family = family ?? { ns: undefined, accounts: new Map() };
    let mine = this.family.accounts.get(this.account);
    if (!mine) {
      if (this.family.accounts.size >= CACHE_MAX_ENTRIES) this.family.accounts.clear();
      mine = { containers: new Map(), placements: new Map(), placing: new Map() };
      this.family.accounts.set(this.account, mine);
    }
    this.containerCache = mine.containers;
    this.placements = mine.placements;
    this.placing = mine.placing;
  }

  /**
   * The same client for another account (the S3 gateway maps access keys to accounts, and
   * makes one per request). It shares this client's caches (namespace info, container
   * policies, pooled placements), so a request does not pay for them again.
   */
  forAccount(account: string, reqId?: string): ObjectStorage {
    return new ObjectStorage({ proxy: this.proxyAddr, account, reqId: reqId ?? this.fixedReqId, onBadFragment: this.onBadFragment, ecSlowFragmentMs: this.ecSlowFragmentMs, localVolumes: this.localVolumes }, this.family);
  }

  /**
   * The dynamic policy for an upload of `size` bytes (undefined: unknown) into `container`,
   * or undefined when none applies (the proxy then uses the container's or namespace's
   * policy). The container's `sys.auto_storage_policies` wins (empty: off), then a fixed
   * container policy, then `ns.auto_storage_policies`.
   */
  async autoPolicy(container: string, size: number | undefined): Promise<string | undefined> {
    const now = Date.now();
    if (!this.family.ns || this.family.ns.expires < now) this.family.ns = { info: await this.proxy().conscienceInfo(), expires: now + POLICY_CACHE_MS };
    const ns = this.family.ns;
    let c = this.containerCache.get(container);
    if (!c || c.expires < now) {
      c = { info: await this.containerShow(container), expires: now + POLICY_CACHE_MS };
      if (this.containerCache.size >= CACHE_MAX_ENTRIES) this.containerCache.clear();
      this.containerCache.set(container, c);
    }
    const own = c.info.properties?.[AUTO_POLICIES_PROPERTY];
    let raw: string | undefined;
    if (own !== undefined) raw = own;
    else if (c.info.system?.policy) return undefined;
    else raw = ns.info.autoStoragePolicies;
    const auto = parseAutoPolicies(raw);
    return auto ? pickAutoPolicy(auto, size) : undefined;
  }

  private proxy(): ProxyClient {
    return new ProxyClient(this.proxyAddr, this.fixedReqId ?? newReqId());
  }

  private base(container: string): { account: string; container: string } {
    return { account: this.account, container: validateName('container', container) };
  }

  // --- namespace ---
  clusterInfo(): Promise<NamespaceInfo> { return this.proxy().conscienceInfo(); }
  clusterList(type?: string): Promise<ServiceInfo[]> { return this.proxy().conscienceList(type); }
  clusterLock(type: string, id: string, score?: number): Promise<void> { return this.proxy().conscienceLock(type, id, score); }
  clusterUnlock(type: string, id: string): Promise<void> { return this.proxy().conscienceUnlock(type, id); }

  // --- users (S3 credentials; secrets are answered by create/show only, never logged) ---
  /** Creates a user of `account` (keys generated when absent); BAD_REQUEST when the key exists unless `replace`. */
  userCreate(u: { accessKey?: string; secretKey?: string; account?: string; replace?: boolean } = {}): Promise<UserInfo> {
    return this.proxy().userCreate({ access_key: u.accessKey, secret_key: u.secretKey, account: validateName('account', u.account ?? this.account), replace: u.replace });
  }
  /** The user of an access key, secret included; ACCOUNT_NOT_FOUND. */
  userShow(accessKey: string): Promise<UserInfo> { return this.proxy().userShow(accessKey); }
  /** Users without their secrets (all, or of one account). */
  userList(account?: string): Promise<UserInfo[]> { return this.proxy().userList(account); }
  /** Deletes a user (its account and data stay); ACCOUNT_NOT_FOUND. */
  userDelete(accessKey: string): Promise<void> { return this.proxy().userDelete(accessKey); }

  // --- the global S3 bucket namespace (bucket name -> owner account) ---
  /** Reserves a bucket name for this account unless taken: the owner (another account when taken). */
  bucketReserve(name: string): Promise<BucketOwner> { return this.proxy().bucketReserve(validateName('container', name), this.account); }
  /** Releases a bucket name this account holds (nothing when held by another or none). */
  bucketRelease(name: string): Promise<void> { return this.proxy().bucketRelease(validateName('container', name), this.account); }
  /** The owner of a bucket name; CONTAINER_NOT_FOUND when not reserved. */
  bucketShow(name: string): Promise<BucketOwner> { return this.proxy().bucketShow(validateName('container', name)); }

  // --- accounts and containers ---
  accountShow(): Promise<AccountInfo> { return this.proxy().accountShow(this.account); }
  /** Every account of the namespace. */
  accountList(): Promise<string[]> { return this.proxy().accountList(); }

  async containerCreate(container: string, opts: ContainerCreateOptions = {}): Promise<void> {
    const system: ContainerInfo['system'] = {};
    if (opts.policy !== undefined) system.policy = opts.policy;
    if (opts.maxVersions !== undefined) system.max_versions = opts.maxVersions;
    if (opts.quota !== undefined) system.quota = opts.quota;
    await this.proxy().containerCreate({ ...this.base(container), properties: opts.properties, system });
  }

  containerShow(container: string): Promise<ContainerInfo> {
    const b = this.base(container);
    return this.proxy().containerShow(b.account, b.container);
  }

  containerList(opts: { prefix?: string; marker?: string; limit?: number } = {}): Promise<ContainerListPage> {
    return this.proxy().containerList({ account: this.account, ...opts });
  }

  async containerSet(container: string, opts: ContainerCreateOptions & { clear?: boolean }): Promise<void> {
    const system: ContainerInfo['system'] = {};
    if (opts.policy !== undefined) system.policy = opts.policy;
    if (opts.maxVersions !== undefined) system.max_versions = opts.maxVersions;
    if (opts.quota !== undefined) system.quota = opts.quota;
    this.containerCache.delete(container);
    this.dropPlacements(container);
    await this.proxy().containerSet({ ...this.base(container), properties: opts.properties, system, clear: opts.clear });
  }

  containerDelete(container: string, opts: { force?: boolean } = {}): Promise<void> {
    this.containerCache.delete(container);
    this.dropPlacements(container);
    return this.proxy().containerDelete({ ...this.base(container), force: opts.force });
  }

  // --- objects ---
  /**
   * Uploads an object from a stream, a buffer or a file path. Resolves with the committed
   * content. Throws UNAVAILABLE/POLICY_NOT_SATISFIABLE when a metachunk cannot reach its
   * quorum (the chunks already written are deleted), HASH_MISMATCH, NO_SPACE, QUOTA_EXCEEDED.
   */
  async objectPut(container: string, name: string, source: Readable | Buffer | string, opts: PutOptions = {}): Promise<ContentInfo> {
    try {
      return await this.putOnce(container, name, source, opts);
    } catch (e) {
      // A buffer or a file can be sent again: once, elsewhere, when rawx were out of reach.
      if (Buffer.isBuffer(source) || typeof source === 'string') {
        if ((e as OioError).code === 'UNAVAILABLE' && unreachableOf(e).length > 0) return this.putOnce(container, name, source, opts);
      }
      throw e;
    }
  }

  private async putOnce(container: string, name: string, source: Readable | Buffer | string, opts: PutOptions): Promise<ContentInfo> {
    const b = this.base(container);
    validateName('object', name);
    let size = opts.size;
    let input: Readable;
    if (typeof source === 'string') {
      size ??= (await fs.promises.stat(source)).size;
      input = fs.createReadStream(source, { highWaterMark: 1024 * 1024 });
    } else if (Buffer.isBuffer(source)) {
      size = source.length;
      input = Readable.from([source], { objectMode: false });
    } else input = source;
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) throw new InvalidArgumentError('BAD_REQUEST', 'size must be a non-negative integer');

    // A source that fails or closes before the upload reads it must fail the upload at once.
    let sourceError: unknown;
    const early = (e: unknown) => { sourceError ??= e; };
    input.on('error', early);
    const proxy = this.proxy();
    const version = nextVersionMicros();
    const contentId = newContentId();
    const policy = opts.policy ?? await this.autoPolicy(b.container, size);
    const avoid = suspects();
    const pooled = size !== undefined ? await this.pooledPlacement(proxy, b, name, size, policy, avoid) : undefined;
    let prepared = pooled ?? await proxy.contentPrepare({ ...b, path: name, size, policy, pos: 0, ...(avoid.length ? { avoid } : {}) }).catch((e: unknown) => {
      // Too few rawx left without the suspects: place among all of them.
      if (avoid.length && (e as OioError).code === 'POLICY_NOT_SATISFIABLE') return proxy.contentPrepare({ ...b, path: name, size, policy, pos: 0 });
      throw e;
    });
    if (sourceError !== undefined || (input.destroyed && !input.readableEnded)) {
      throw sourceError ?? new InvalidArgumentError('BAD_REQUEST', 'source closed before its end');
    }
    const ec = isEcMethod(prepared.chunkMethod) ? ecParamsFor(prepared.chunkMethod) : undefined;
    // EC contents record the algorithm and cell size they were written with.
    const chunkMethod = ec ? ecMethodFor(prepared.chunkMethod, ec) : prepared.chunkMethod;
    // One replicated metachunk: its MD5 (computed by the replica writer) is the content's
    // MD5, so the bytes are hashed once. Otherwise the content MD5 is computed over the stream.
    const single = !ec && size !== undefined && size <= prepared.chunkSize;
    const md5 = single ? undefined : createHash('md5');
    let seen = 0;
    const tap = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) { md5?.update(chunk); seen += chunk.length; opts.onProgress?.(seen); cb(null, chunk); },
    });
    // The tap's errors reach the upload through whoever reads it (the chunk splitter or the
    // replica writer); one that comes when nobody reads any more must not become uncaught.
    tap.on('error', () => undefined);
    input.on('error', (e) => tap.destroy(e));
    // pipe() does not pass on a close without end (a client gone mid-upload): abort then.
    input.on('close', () => { if (!input.readableEnded && !tap.destroyed) tap.destroy(new InvalidArgumentError('BAD_REQUEST', 'source closed before its end')); });
    input.pipe(tap);

    const written: ChunkInfo[] = [];
    const failed = new Set<string>();
    const chunkMeta = (pos: number) => ({
      containerId: cidOf(b.account, b.container), contentPath: name, contentVersion: version, contentId,
      chunkPos: String(pos), contentPolicy: prepared.policy, contentChunkMethod: chunkMethod, fullPath: `${b.account}/${b.container}/${name}/${version}`,
    });
    try {
      let hash: string;
      if (single) {
        const res = await writeReplicas(prepared.chunks[0]!.urls.map((url) => ({ url })), tap, chunkMeta(0), { quorum: prepared.quorum, size });
        written.push(...res.chunks);
        markUnreachable(unreachableUrls(res.failures));
        hash = res.hash;
      } else {
        for await (const part of splitChunks(tap, prepared.chunkSize)) {
          const pos = part.pos;
          let target = prepared.chunks.find((c) => c.pos === String(pos));
          if (!target) {
            prepared = await proxy.contentPrepare({ ...b, path: name, policy: prepared.policy, pos, count: 1, degraded: true, avoid: [...failed] });
            target = prepared.chunks[0]!;
          }
          const res = ec
            ? await writeEcMetachunk(target.urls, part.stream, chunkMeta(pos), ec, { quorum: prepared.quorum })
            : await writeReplicas(target.urls.map((url) => ({ url })), part.stream, chunkMeta(pos), { quorum: prepared.quorum });
          written.push(...res.chunks);
          for (const f of res.failures) failed.add(hostOf(f.url));
          markUnreachable(unreachableUrls(res.failures));
        }
        hash = md5!.digest('hex').toUpperCase();
      }
      if (size !== undefined && seen !== size) throw new InvalidArgumentError('BAD_REQUEST', `source gave ${seen} bytes, ${size} announced`);
      const now = Date.now();
      const content: ContentInfo = {
        id: contentId, name, version, size: seen, hash, mime: opts.mime ?? 'application/octet-stream',
        policy: prepared.policy, chunkMethod, ctime: now, mtime: now, deleted: false,
        properties: { ...opts.properties, ...opts.endProperties?.() }, chunks: written,
      };
      // The newest version when committed, though its version was chosen (and written into its
      // chunks' metadata) when the upload began: of two overlapping uploads, the last committed wins.
      return await proxy.contentCreate({ ...b, content, expect_latest: opts.expectLatest, newest: true });
    } catch (e) {
      markUnreachable(unreachableOf(e));
      this.dropPlacements(container);
      input.destroy();
      // Nothing of a failed upload stays behind (best effort: a crash leaves orphans for the crawler).
      await Promise.allSettled(written.map((c) => rawxDelete(c.url)));
      throw e;
    }
  }

  /**
   * A placement for a one-metachunk upload of `size` bytes from the pool (asked for
   * PLACEMENT_BATCH at a time), or undefined when the upload needs more than one metachunk.
   */
  private async pooledPlacement(proxy: ProxyClient, b: { account: string; container: string }, name: string, size: number, policy: string | undefined, avoid: string[]): Promise<PrepareAnswer | undefined> {
    const key = `${b.container}\n${policy ?? ''}`;
    const avoided = (urls: string[]) => avoid.length > 0 && urls.some((u) => avoid.includes(hostOf(u)));
    for (let tries = 0; tries < 3; tries++) {
      const pool = this.placements.get(key);
      if (pool && pool.expires > Date.now()) {
        if (size > pool.answer.chunkSize) return undefined;
        // Placements made before a rawx became suspect are left out.
        let one = pool.answer.chunks.shift();
        while (one && avoided(one.urls)) one = pool.answer.chunks.shift();
        if (one) return { ...pool.answer, chunks: [{ pos: '0', urls: one.urls }] };
      }
      let placing = this.placing.get(key);
      if (!placing) {
        // No size: the proxy places `count` metachunks, each one a placement for one upload.
        placing = proxy.contentPrepare({ ...b, path: name, policy, pos: 0, count: PLACEMENT_BATCH, ...(avoid.length ? { avoid } : {}) })
          .finally(() => this.placing.delete(key));
        this.placing.set(key, placing);
        // Too few rawx without the suspects (or any other failure): the upload asks on its own.
        const answer = await placing.catch(() => undefined);
        if (!answer) return undefined;
        if (this.placements.size >= CACHE_MAX_ENTRIES) this.placements.clear();
        this.placements.set(key, { answer, expires: Date.now() + PLACEMENT_POOL_MS });
      } else if (!(await placing.then(() => true, () => false))) return undefined;
    }
    return undefined;
  }

  /** Forgets the pooled placements of a container (its policy changed, or an upload failed). */
  private dropPlacements(container: string): void {
    for (const k of this.placements.keys()) if (k.startsWith(`${container}\n`)) this.placements.delete(k);
  }

  objectHead(container: string, name: string, version?: string | number): Promise<ContentInfo> {
    return this.proxy().contentShow({ ...this.base(container), path: validateName('object', name), version });
  }

  /**
   * Reads an object (or a byte range of it). The stream fails over between replicas on its
   * own, or rebuilds missing / corrupt EC fragments (UNAVAILABLE naming them when more than
   * m are unusable); `end` is inclusive. Throws CONTENT_NOT_FOUND, or BAD_REQUEST for a range outside it.
   */
  async objectGet(container: string, name: string, opts: GetOptions = {}): Promise<GetResult> {
    const content = opts.content ?? await this.objectHead(container, name, opts.version);
    const start = opts.start ?? 0;
    const end = Math.min(opts.end ?? content.size - 1, content.size - 1);
    if (start < 0 || (content.size > 0 && start > end) || (content.size === 0 && start > 0)) {
      throw new OioError('BAD_REQUEST', `range ${start}-${opts.end ?? ''} not satisfiable for ${content.size} bytes`, { details: { size: content.size } });
    }
    let stream: Readable;
    if (content.size === 0) stream = Readable.from([]);
    else if (isEcMethod(content.chunkMethod)) {
      stream = readEcRange(ecMetachunksOf(content.chunks), parseEcMethod(content.chunkMethod), start, end, { reqId: this.fixedReqId, onBadFragment: this.onBadFragment, slowFragmentMs: this.ecSlowFragmentMs, localVolumes: this.localVolumes });
    } else stream = readRange(metachunksOf(content), start, end, { localVolumes: this.localVolumes });
    return { content, start, end, stream };
  }

  /**
   * One page of a listing (UTF-8 byte order). With `versions`, every version newest first;
   * a page may stop inside one name's versions: pass `next_marker` and `next_version_marker`
   * back as `marker` and `versionMarker`.
   */
  objectList(container: string, opts: { prefix?: string; delimiter?: string; marker?: string; versionMarker?: string | number; limit?: number; versions?: boolean } = {}): Promise<ContentList> {
    const { versionMarker, ...rest } = opts;
    return this.proxy().contentList({ ...this.base(container), ...rest, version_marker: versionMarker });
  }

  /**
   * Creates `name` from existing contents of the same container, in order, without copying
   * data: the new content's chunks are the parts' chunks with their positions renumbered
   * (S3 multipart completion). The parts stay until deleted; deleting them later keeps the
   * chunks, which the new content still references. Every part must have the same policy.
   */
  async objectConcat(container: string, name: string, parts: Array<{ name: string; version?: string | number }>, opts: { mime?: string; properties?: Record<string, string>; hash?: string; expectLatest?: number | null } = {}): Promise<ContentInfo> {
    const b = this.base(container);
    validateName('object', name);
    const proxy = this.proxy();
    const chunks: ChunkInfo[] = [];
    let pos = 0;
    let size = 0;
    let policy = '';
    let chunkMethod = '';
    for (const p of parts) {
      const c = await proxy.contentShow({ ...b, path: validateName('object', p.name), version: p.version });
      if (policy === '') { policy = c.policy; chunkMethod = c.chunkMethod; }
      else if (c.chunkMethod !== chunkMethod) throw new InvalidArgumentError('BAD_REQUEST', `part ${p.name} has chunk method ${c.chunkMethod}, not ${chunkMethod}`);
      let maxPos = -1;
      for (const ch of c.chunks) {
        const [head, ...tail] = ch.pos.split('.');
        const n = Number.parseInt(head ?? '0', 10);
        maxPos = Math.max(maxPos, n);
        chunks.push({ url: ch.url, pos: [String(pos + n), ...tail].join('.'), size: ch.size, hash: ch.hash });
      }
      pos += maxPos + 1;
      size += c.size;
    }
    const now = Date.now();
    const content: ContentInfo = {
      id: newContentId(), name, version: nextVersionMicros(), size, hash: opts.hash ?? '', mime: opts.mime ?? 'application/octet-stream',
      policy, chunkMethod, ctime: now, mtime: now, deleted: false, properties: opts.properties ?? {}, chunks,
    };
    return proxy.contentCreate({ ...b, content, expect_latest: opts.expectLatest, newest: true });
  }

  /**
   * Deletes a version, or the object (a delete marker where versions are kept). `marker`:
   * where versions are kept, a delete marker even when the object has no live version (S3).
   */
  objectDelete(container: string, name: string, version?: string | number, opts: { marker?: boolean } = {}): Promise<{ deleted?: ContentInfo; marker?: ContentInfo }> {
    return this.proxy().contentDelete({ ...this.base(container), path: validateName('object', name), version, ...(opts.marker ? { marker: true } : {}) });
  }

  /** A new name for the same chunks (no data copied). */
  objectLink(container: string, name: string, dest: string, version?: string | number): Promise<ContentInfo> {
    return this.proxy().contentLink({ ...this.base(container), path: validateName('object', name), dest: validateName('object', dest), version });
  }

  objectSetProperties(container: string, name: string, set: Record<string, string>, del: string[] = [], version?: string | number): Promise<ContentInfo> {
    return this.proxy().contentProperties({ ...this.base(container), path: validateName('object', name), version, set, del });
  }
}
