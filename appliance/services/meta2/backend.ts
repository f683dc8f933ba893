/**
 * @module services/meta2/backend
 * meta2's logic, no HTTP: one SQLite base per container (`<dataDir>/<CID[0:3]>/<CID>.meta2`)
 * kept in an LRU of open handles; contents with versions and delete markers, chunks with a
 * per-base reference count, properties, listings with prefix/delimiter/marker, usage
 * counters, and the durable event queue (see events.ts). Every write goes through
 * `Base.write` with times, ids and versions computed here and passed as parameters.
 *
 * Counting: `objects`/`bytes` of a container count every stored version that is not a
 * delete marker (what occupies space; the quota applies to the same number).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  cidOf, ConflictError, InvalidArgumentError, isCid, newContentId, nextVersionMicros, NotFoundError, OioError, validateName,
} from '../../common';
import type { ChunkInfo, ContentInfo } from '../../common/model';
import { Base, NeedMaster, WriteTx, writeBaseFile } from '../../sqliterepo';
import type {
  ContainerCreateRequest, ContainerInfo, ContainerSetRequest, ContentDeleteResult, ContentListOptions, ContentListResult,
} from '../../client/remote/meta2';
import { CONTAINER_USAGE, CHUNK_DELETE, EventRow, queueChunkDelete, queueRows, queueUsage, UsagePayload } from './events';
import { EVENTS_MIGRATIONS, META2_MIGRATIONS } from './schema';

export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;
/** Name of the service-level event source (events of deleted containers). */
export const SERVICE_EVENTS = '_events';

export interface Meta2BackendOptions {
  dataDir: string;
  /** ns.max_versions: used when a container has no max_versions of its own */
  defaultMaxVersions: number;
  /** open bases kept in the LRU; default 256 */
  maxOpenBases?: number;
  /** fsync every commit (default true) */
  durable?: boolean;
}

interface ContainerRow {
  cid: string; account: string; name: string; ctime: number; mtime: number;
  policy: string | null; max_versions: number | null; quota: number | null; objects: number; bytes: number;
}

interface ContentRow {
  name: string; version: number; id: string; size: number; hash: string; mime: string; policy: string;
  chunk_method: string; ctime: number; mtime: number; deleted: number;
}

const CONTENT_COLS = 'name, version, id, size, hash, mime, policy, chunk_method, ctime, mtime, deleted';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Compares two strings in the byte order of their UTF-8 encodings (S3 listing order). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The smallest string greater, in UTF-8 byte order, than every string starting with `p`
 * (its last code point incremented); undefined when there is none (only U+10FFFF).
 * Used to seek past a common prefix with the name index instead of reading its objects.
 */
export function nextPrefix(p: string): string | undefined {
  const cps = Array.from(p);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const n = last + 1 === 0xd800 ? 0xe000 : last + 1;
      cps.push(String.fromCodePoint(n));
      return cps.join('');
    }
  }
  return undefined;
}

function checkObjectName(name: unknown): string {
  const n = validateName('object', name);
  if (LONE_SURROGATE.test(n)) throw new InvalidArgumentError('INVALID_NAME', 'object name is not valid UTF-16 (lone surrogate)');
  return n;
}

/** Normalizes and checks a CID (BAD_REQUEST). */
export function checkCid(cid: unknown): string {
  const c = typeof cid === 'string' ? cid.toUpperCase() : '';
  if (!isCid(c)) throw new InvalidArgumentError('BAD_REQUEST', 'cid must be 64 hex digits');
  return c;
}

function checkProps(p: unknown, what: string): Record<string, string> {
  if (p === undefined || p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw new InvalidArgumentError('BAD_REQUEST', `${what} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new InvalidArgumentError('BAD_REQUEST', `${what}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function checkInt(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError('BAD_REQUEST', `${what} must be an integer >= ${min}`);
  return v;
}

function posKey(pos: string): number[] {
  return pos.split('.').map(Number);
}

function comparePos(a: ChunkInfo, b: ChunkInfo): number {
  const x = posKey(a.pos);
  const y = posKey(b.pos);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.url < b.url ? -1 : a.url > b.url ? 1 : 0;
}

/** Changes of the usage counters made inside one write. */
interface Delta { objects: number; bytes: number }

export class Meta2Backend {
  private readonly bases = new Map<string, Base>();
  private readonly dirty = new Set<string>();
  private readonly maxOpen: number;
  private readonly events: Base;

  constructor(private readonly opts: Meta2BackendOptions) {
    this.maxOpen = Math.max(1, opts.maxOpenBases ?? 256);
    fs.mkdirSync(opts.dataDir, { recursive: true });
    this.events = Base.open(path.join(opts.dataDir, '_events.sqlite'), EVENTS_MIGRATIONS, { durable: opts.durable });
  }

  /** Where the base of `cid` lives. */
  pathOf(cid: string): string {
    return path.join(this.opts.dataDir, cid.slice(0, 3), `${cid}.meta2`);
  }

  /**
   * The open base of an existing container (from the LRU, else opened). CONTAINER_NOT_FOUND.
   * Exposed for tools and tests; writers must still go through `Base.write`.
   */
  openBase(cid: string): Base {
    const c = checkCid(cid);
    const hit = this.bases.get(c);
    if (hit) { this.bases.delete(c); this.bases.set(c, hit); return hit; }
    const file = this.pathOf(c);
    if (!fs.existsSync(file)) throw new NotFoundError('CONTAINER_NOT_FOUND', `container ${c} not found`);
    return this.remember(c, Base.open(file, META2_MIGRATIONS, { durable: this.opts.durable }).identify('meta2', c));
  }

  /** A replica's base for replication: opened, or created empty when `create`. */
  replicaBase(cid: string, create: boolean): Base | undefined {
    const c = checkCid(cid);
    if (this.bases.has(c) || fs.existsSync(this.pathOf(c))) return this.openBase(c);
    if (!create) return undefined;
    return this.remember(c, Base.open(this.pathOf(c), META2_MIGRATIONS, { durable: this.opts.durable }).identify('meta2', c));
  }

  /** Replaces a replica's base by a copy from its master (whole-base resync). */
  restoreReplica(cid: string, data: Buffer): void {
    const c = checkCid(cid);
    this.dropBase(c);
    fs.mkdirSync(path.dirname(this.pathOf(c)), { recursive: true });
    writeBaseFile(this.pathOf(c), data);
    this.dirty.add(c);
  }

  private remember(cid: string, base: Base): Base {
    this.bases.set(cid, base);
    while (this.bases.size > this.maxOpen) {
      const [oldest, b] = this.bases.entries().next().value as [string, Base];
      this.bases.delete(oldest);
      b.close();
    }
    return base;
  }

  /** Number of bases currently open (LRU). */
  get openCount(): number { return this.bases.size; }

  /** Closes every open base. */
  close(): void {
    for (const b of this.bases.values()) b.close();
    this.bases.clear();
    this.events.close();
  }

  private write<R>(cid: string, fn: (tx: WriteTx) => R, now: number): R {
    const r = this.openBase(cid).write(fn, now);
    this.dirty.add(cid);
    return r;
  }

  private containerRow(base: Base | WriteTx): ContainerRow {
    const row = base.get<ContainerRow>(`SELECT * FROM container WHERE id = 1`);
    // An empty replica base (not yet created through its master) is no container.
    if (!row) throw new NotFoundError('CONTAINER_NOT_FOUND', 'container not found');
    return row;
  }

  private maxVersions(c: ContainerRow): number {
    return c.max_versions ?? this.opts.defaultMaxVersions;
  }

  // ---------------------------------------------------------------- containers

  /** Creates the base of a container. CONTAINER_EXISTS, INVALID_NAME, BAD_REQUEST (cid mismatch). */
  containerCreate(req: ContainerCreateRequest, now = Date.now()): void {
    const account = validateName('account', req.account);
    const container = validateName('container', req.container);
    const cid = cidOf(account, container);
    if (req.cid !== undefined && checkCid(req.cid) !== cid) throw new InvalidArgumentError('BAD_REQUEST', 'cid does not match account and container');
    const props = checkProps(req.properties, 'properties');
    const sys = this.checkSystem(req.system ?? {});
    // A replica's base may exist empty (made by replication or an election): the container
    // exists only once its admin row does.
    const base = this.replicaBase(cid, true)!;
    if (base.get(`SELECT 1 AS x FROM container WHERE id = 1`)) throw new ConflictError('CONTAINER_EXISTS', `container ${container} exists`);
    try {
      base.write((tx) => {
        tx.run(`INSERT INTO container (id, cid, account, name, ctime, mtime, policy, max_versions, quota) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [cid, account, container, now, now, sys.policy ?? null, sys.max_versions ?? null, sys.quota ?? null]);
        for (const [k, v] of Object.entries(props)) tx.run(`INSERT INTO container_props (k, v) VALUES (?, ?)`, [k, v]);
        queueUsage(tx, { account, container, objects: 0, bytes: 0, mtime: now });
      }, now);
    } catch (e) {
      // NeedMaster: the request is retried once this replica is master (keep the base).
      if (!(e instanceof NeedMaster) && base.lastSeq === 0) {
        this.dropBase(cid);
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(this.pathOf(cid) + suffix, { force: true });
      }
      throw e;
    }
    this.dirty.add(cid);
  }

  private checkSystem(s: ContainerSetRequest['system']): { policy?: string | null; max_versions?: number | null; quota?: number | null } {
    if (s === null || typeof s !== 'object') throw new InvalidArgumentError('BAD_REQUEST', 'system must be an object');
    const out: { policy?: string | null; max_versions?: number | null; quota?: number | null } = {};
    for (const [k, v] of Object.entries(s)) {
      if (v === undefined) continue;
      if (k === 'policy') { if (v !== null && typeof v !== 'string') throw new InvalidArgumentError('BAD_REQUEST', 'system.policy must be a string'); out.policy = v as string | null; }
      else if (k === 'max_versions') out.max_versions = v === null ? null : checkInt(v, 'system.max_versions', -1);
      else if (k === 'quota') out.quota = v === null ? null : checkInt(v, 'system.quota', 0);
      else throw new InvalidArgumentError('BAD_REQUEST', `unknown system key ${k}`);
    }
    return out;
  }

  /** CONTAINER_NOT_FOUND. */
  containerShow(cid: string): ContainerInfo {
    const base = this.openBase(cid);
    const c = this.containerRow(base);
    const props: Record<string, string> = {};
    for (const r of base.all<{ k: string; v: string }>(`SELECT k, v FROM container_props ORDER BY k`)) props[r.k] = r.v;
    const system: ContainerInfo['system'] = {};
    if (c.policy !== null) system.policy = c.policy;
    if (c.max_versions !== null) system.max_versions = c.max_versions;
    if (c.quota !== null) system.quota = c.quota;
    return { cid: c.cid, account: c.account, container: c.name, ctime: c.ctime, mtime: c.mtime, properties: props, system, objects: c.objects, bytes: c.bytes };
  }

  /** Sets properties and system values (null resets a system value). CONTAINER_NOT_FOUND. */
  containerSet(req: ContainerSetRequest, now = Date.now()): void {
    const cid = checkCid(req.cid);
    const props = checkProps(req.properties, 'properties');
    const sys = this.checkSystem(req.system ?? {});
    this.write(cid, (tx) => {
      if (req.clear) tx.run(`DELETE FROM container_props`);
      for (const [k, v] of Object.entries(props)) tx.run(`INSERT OR REPLACE INTO container_props (k, v) VALUES (?, ?)`, [k, v]);
      for (const [k, v] of Object.entries(sys)) tx.run(`UPDATE container SET ${k} = ? WHERE id = 1`, [v]);
      tx.run(`UPDATE container SET mtime = MAX(mtime, ?) WHERE id = 1`, [now]);
    }, now);
  }

  /**
   * Deletes a container: refused with CONTAINER_NOT_EMPTY while any content (even a delete
   * marker) is left, unless `force` (then every chunk is queued for deletion). Its pending
   * events and a final `usage {deleted: true}` move to the service-level event base in one
   * transaction, then the base file is removed.
   */
  containerDelete(cid: string, force = false, now = Date.now()): void {
    const c = checkCid(cid);
    const base = this.openBase(c);
    const row = this.containerRow(base);
    if (!force && base.get(`SELECT 1 AS x FROM contents LIMIT 1`)) throw new ConflictError('CONTAINER_NOT_EMPTY', `container ${row.name} is not empty`);
    const moved = base.all<EventRow>(`SELECT * FROM events WHERE type != ? ORDER BY id`, [CONTAINER_USAGE]);
    const chunkRows = force ? base.all<{ url: string }>(`SELECT DISTINCT url FROM chunks`) : [];
    const usage: UsagePayload = { account: row.account, container: row.name, objects: 0, bytes: 0, mtime: Math.max(now, row.mtime + 1), deleted: true };
    this.events.write((tx) => {
      queueRows(tx, moved);
      queueRows(tx, chunkRows.map((r) => ({ type: CHUNK_DELETE, payload: JSON.stringify({ url: r.url }) })));
      queueRows(tx, [{ type: CONTAINER_USAGE, payload: JSON.stringify(usage) }]);
    }, now);
    this.dropBase(c);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(this.pathOf(c) + suffix, { force: true });
  }

  private dropBase(cid: string): void {
    const b = this.bases.get(cid);
    if (b) { b.close(); this.bases.delete(cid); }
    this.dirty.delete(cid);
  }

  // ---------------------------------------------------------------- contents (helpers)

  private contentInfo(base: Base | WriteTx, row: ContentRow, withChunks = true): ContentInfo {
    const properties: Record<string, string> = {};
    for (const r of base.all<{ k: string; v: string }>(`SELECT k, v FROM content_props WHERE content_id = ?`, [row.id])) properties[r.k] = r.v;
    const chunks = withChunks
      ? base.all<ChunkInfo>(`SELECT url, pos, size, hash FROM chunks WHERE content_id = ?`, [row.id]).sort(comparePos)
      : [];
    return {
      id: row.id, name: row.name, version: row.version, size: row.size, hash: row.hash, mime: row.mime, policy: row.policy,
      chunkMethod: row.chunk_method, ctime: row.ctime, mtime: row.mtime, deleted: row.deleted !== 0, properties, chunks,
    };
  }

  private latest(base: Base | WriteTx, name: string): ContentRow | undefined {
    return base.get<ContentRow>(`SELECT ${CONTENT_COLS} FROM contents WHERE name = ? ORDER BY version DESC LIMIT 1`, [name]);
  }

  /** The latest version (CONTENT_NOT_FOUND if it is a delete marker) or the given one. */
  private find(base: Base | WriteTx, name: string, version?: number): ContentRow {
    const row = version === undefined
      ? this.latest(base, name)
      : base.get<ContentRow>(`SELECT ${CONTENT_COLS} FROM contents WHERE name = ? AND version = ?`, [name, version]);
    if (!row || (version === undefined && row.deleted)) throw new NotFoundError('CONTENT_NOT_FOUND', 'content not found');
    return row;
  }

  private insert(tx: WriteTx, c: ContentInfo, delta: Delta): void {
    if (tx.get(`SELECT 1 AS x FROM contents WHERE name = ? AND version = ?`, [c.name, c.version])) {
      throw new ConflictError('CONTENT_EXISTS', `version ${c.version} of the content exists`);
    }
    if (tx.get(`SELECT 1 AS x FROM contents WHERE id = ?`, [c.id])) throw new ConflictError('CONTENT_EXISTS', `content id ${c.id} exists`);
    tx.run(`INSERT INTO contents (${CONTENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [c.name, c.version, c.id, c.size, c.hash, c.mime, c.policy, c.chunkMethod, c.ctime, c.mtime, c.deleted ? 1 : 0]);
    for (const [k, v] of Object.entries(c.properties)) tx.run(`INSERT INTO content_props (content_id, k, v) VALUES (?, ?, ?)`, [c.id, k, v]);
    for (const ch of c.chunks) tx.run(`INSERT INTO chunks (content_id, url, pos, size, hash) VALUES (?, ?, ?, ?, ?)`, [c.id, ch.url, ch.pos, ch.size, ch.hash]);
    if (!c.deleted) { delta.objects++; delta.bytes += c.size; }
  }

  /** Removes one version; its chunks no other content references are queued for deletion. */
  private remove(tx: WriteTx, row: ContentRow, delta: Delta): void {
    const urls = tx.all<{ url: string }>(`SELECT DISTINCT url FROM chunks WHERE content_id = ?`, [row.id]);
    tx.run(`DELETE FROM chunks WHERE content_id = ?`, [row.id]);
    tx.run(`DELETE FROM content_props WHERE content_id = ?`, [row.id]);
    tx.run(`DELETE FROM contents WHERE name = ? AND version = ?`, [row.name, row.version]);
    for (const { url } of urls) {
      if (!tx.get(`SELECT 1 AS x FROM chunks WHERE url = ? LIMIT 1`, [url])) queueChunkDelete(tx, url);
    }
    if (!row.deleted) { delta.objects--; delta.bytes -= row.size; }
  }

  /** Keeps the `maxVersions` newest versions of `name` (1: only the newest; < 0: all). */
  private purge(tx: WriteTx, name: string, maxVersions: number, delta: Delta): void {
    if (maxVersions < 0) return;
    const keep = Math.max(1, maxVersions);
    const old = tx.all<ContentRow>(`SELECT ${CONTENT_COLS} FROM contents WHERE name = ? ORDER BY version DESC LIMIT -1 OFFSET ?`, [name, keep]);
    for (const r of old) this.remove(tx, r, delta);
  }

  /** Applies the counters, checks the quota when bytes grew, queues the usage event. */
  private finish(tx: WriteTx, delta: Delta, now: number): void {
    tx.run(`UPDATE container SET objects = objects + ?, bytes = bytes + ?, mtime = MAX(mtime, ?) WHERE id = 1`, [delta.objects, delta.bytes, now]);
    const c = this.containerRow(tx);
    if (delta.bytes > 0 && c.quota !== null && c.quota > 0 && c.bytes > c.quota) {
      throw new OioError('QUOTA_EXCEEDED', `container quota of ${c.quota} bytes exceeded`, { details: { quota: c.quota, bytes: c.bytes } });
    }
    queueUsage(tx, { account: c.account, container: c.name, objects: c.objects, bytes: c.bytes, mtime: c.mtime });
  }

  private checkContent(input: Partial<ContentInfo> | undefined, c: ContainerRow, now: number): ContentInfo {
    if (!input || typeof input !== 'object') throw new InvalidArgumentError('BAD_REQUEST', 'content is required');
    const name = checkObjectName(input.name);
    const version = input.version === undefined || input.version === 0 ? nextVersionMicros() : checkInt(input.version, 'content.version', 1);
    const chunks = (input.chunks ?? []).map((ch, i) => {
      if (!ch || typeof ch.url !== 'string' || !/^https?:\/\/[^/]+\/.+/.test(ch.url)) throw new InvalidArgumentError('BAD_REQUEST', `chunks[${i}].url must be http://host:port/<id>`);
      return { url: ch.url, pos: String(ch.pos ?? '0'), size: checkInt(ch.size ?? 0, `chunks[${i}].size`, 0), hash: String(ch.hash ?? '').toUpperCase() };
    });
    return {
      id: typeof input.id === 'string' && input.id !== '' ? input.id.toUpperCase() : newContentId(),
      name, version,
      size: checkInt(input.size ?? 0, 'content.size', 0),
      hash: String(input.hash ?? '').toUpperCase(),
      mime: String(input.mime ?? ''),
      policy: String(input.policy || c.policy || ''),
      chunkMethod: String(input.chunkMethod ?? ''),
      ctime: now, mtime: now, deleted: false,
      properties: checkProps(input.properties, 'content.properties'),
      chunks,
    };
  }

  // ---------------------------------------------------------------- contents

  /**
   * Stores a content (a new version of its name): version assigned (microseconds) when 0,
   * id generated when empty, then older versions beyond max_versions purged (their chunks
   * queued). Returns the stored ContentInfo. QUOTA_EXCEEDED, CONTENT_EXISTS, INVALID_NAME.
   *
   * `newest`: the content becomes its name's newest version even when its version (chosen by
   * the writer when its upload began) is not above the latest one: it is raised above it. Of
   * two uploads of one name that overlap, the one committed last is then the current one (as
   * in S3), not the one begun last (which, versioning off, would purge the other on commit).
   * The chunks keep the version they were written with in their metadata; the content id is
   * what ties them to the content.
   */
  contentCreate(cid: string, input: Partial<ContentInfo>, now = Date.now(), expectLatest?: number | null, newest = false): ContentInfo {
    const c = checkCid(cid);
    const base = this.openBase(c);
    const cont = this.containerRow(base);
    const content = this.checkContent(input, cont, now);
    if (expectLatest !== undefined && expectLatest !== null && !Number.isSafeInteger(expectLatest)) throw new InvalidArgumentError('BAD_REQUEST', 'expect_latest must be a version or null');
    this.write(c, (tx) => {
      // A conditional write (S3 If-None-Match / If-Match): checked in the transaction that
      // writes, so two writers cannot both pass it.
      if (expectLatest !== undefined) {
        const cur = this.latest(tx, content.name);
        const live = cur && !cur.deleted ? cur.version : null;
        if (live !== expectLatest) throw new OioError('PRECONDITION_FAILED', expectLatest === null ? 'the content exists' : 'the content changed');
      }
      if (newest) {
        const top = this.latest(tx, content.name);
        if (top && top.version >= content.version) content.version = Math.max(nextVersionMicros(), top.version + 1);
      }
      const delta: Delta = { objects: 0, bytes: 0 };
      this.insert(tx, content, delta);
      this.purge(tx, content.name, this.maxVersions(this.containerRow(tx)), delta);
      this.finish(tx, delta, now);
    }, now);
    return { ...content, chunks: [...content.chunks].sort(comparePos) };
  }

  /** The latest version (CONTENT_NOT_FOUND when it is a delete marker), or `version` (markers included). */
  contentShow(cid: string, name: string, version?: number): ContentInfo {
    const base = this.openBase(cid);
    return this.contentInfo(base, this.find(base, checkObjectName(name), version));
  }

  /**
   * Deletes. With `version`: removes that version (or marker). Without: versioning on
   * (max_versions != 1) adds a delete marker (CONTENT_NOT_FOUND when the latest already is
   * one); off removes every version of the name. CONTENT_NOT_FOUND.
   * `marker` (versioning on): a delete marker is added even when the name has no live version
   * (none at all, or a marker already), as an S3 DELETE of a versioned bucket does.
   */
  contentDelete(cid: string, name: string, version?: number, now = Date.now(), marker = false): ContentDeleteResult {
    const c = checkCid(cid);
    const n = checkObjectName(name);
    return this.write(c, (tx) => {
      const delta: Delta = { objects: 0, bytes: 0 };
      const cont = this.containerRow(tx);
      const mv = this.maxVersions(cont);
      let out: ContentDeleteResult;
      if (version !== undefined) {
        const row = this.find(tx, n, version);
        out = { deleted: this.contentInfo(tx, row) };
        this.remove(tx, row, delta);
      } else if (mv !== 1) {
        const top = this.latest(tx, n);
        const row = marker ? (top && !top.deleted ? top : undefined) : this.find(tx, n);
        const m: ContentInfo = {
          id: newContentId(), name: n, version: Math.max(nextVersionMicros(), (top?.version ?? 0) + 1), size: 0, hash: '', mime: '', policy: '',
          chunkMethod: '', ctime: now, mtime: now, deleted: true, properties: {}, chunks: [],
        };
        out = { ...(row ? { deleted: this.contentInfo(tx, row) } : {}), marker: m } as ContentDeleteResult;
        this.insert(tx, m, delta);
        this.purge(tx, n, mv, delta);
      } else {
        const latest = this.latest(tx, n);
        if (!latest) throw new NotFoundError('CONTENT_NOT_FOUND', 'content not found');
        out = { deleted: this.contentInfo(tx, latest) };
        for (const r of tx.all<ContentRow>(`SELECT ${CONTENT_COLS} FROM contents WHERE name = ?`, [n])) this.remove(tx, r, delta);
      }
      this.finish(tx, delta, now);
      return out;
    }, now);
  }

  /**
   * Links: a new content named `dest` (new id, new version) with the same chunk URLs and
   * properties as `name` (latest or `version`). Chunks stay until no content references them.
   */
  contentLink(cid: string, name: string, dest: string, version?: number, now = Date.now()): ContentInfo {
    const c = checkCid(cid);
    const n = checkObjectName(name);
    const d = checkObjectName(dest);
    const newId = newContentId();
    const newVersion = nextVersionMicros();
    return this.write(c, (tx) => {
      const delta: Delta = { objects: 0, bytes: 0 };
      const src = this.contentInfo(tx, this.find(tx, n, version));
      const copy: ContentInfo = { ...src, id: newId, name: d, version: newVersion, ctime: now, mtime: now, deleted: false };
      this.insert(tx, copy, delta);
      this.purge(tx, d, this.maxVersions(this.containerRow(tx)), delta);
      this.finish(tx, delta, now);
      return copy;
    }, now);
  }

  /** Sets then deletes user properties of a content (latest or `version`); returns it. */
  contentProperties(cid: string, name: string, change: { set?: Record<string, string>; del?: string[]; version?: number }, now = Date.now()): ContentInfo {
    const c = checkCid(cid);
    const n = checkObjectName(name);
    const set = checkProps(change.set, 'set');
    const del = change.del ?? [];
    if (!Array.isArray(del) || del.some((k) => typeof k !== 'string')) throw new InvalidArgumentError('BAD_REQUEST', 'del must be a list of keys');
    return this.write(c, (tx) => {
      const row = this.find(tx, n, change.version);
      for (const [k, v] of Object.entries(set)) tx.run(`INSERT OR REPLACE INTO content_props (content_id, k, v) VALUES (?, ?, ?)`, [row.id, k, v]);
      for (const k of del) tx.run(`DELETE FROM content_props WHERE content_id = ? AND k = ?`, [row.id, k]);
      return this.contentInfo(tx, row);
    }, now);
  }

  /**
   * Lists in UTF-8 byte order of names. Latest visible version per name unless `versions`
   * (then every version and marker, newest first; a name with many old versions is skipped
   * with a seek). With a delimiter, names holding it after
   * the prefix roll up into common prefixes, and the scan seeks past each one through the
   * (name, version DESC) index. `limit` counts objects and prefixes together.
   */
  contentList(cid: string, o: ContentListOptions = {}): ContentListResult {
    const base = this.openBase(cid);
    const prefix = o.prefix ?? '';
    const delimiter = o.delimiter ?? '';
    const marker = o.marker ?? '';
    const versions = o.versions === true;
    const versionMarker = versions && marker !== '' ? o.version_marker : undefined;
    const withChunks = o.chunks === true;
    const limit = o.limit === undefined ? DEFAULT_LIST_LIMIT : Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(o.limit)));
    const upper = prefix === '' ? undefined : nextPrefix(prefix);
    const out: ContentListResult = { objects: [], prefixes: [], truncated: false };

    // Lower bound: the prefix, or past the marker (and past the common prefix it lies in).
    let lo = prefix;
    let loIncl = true;
    if (marker !== '' && compareBytes(marker, prefix) >= 0) {
      lo = marker;
      loIncl = versionMarker !== undefined;
      if (delimiter !== '' && marker.startsWith(prefix)) {
        const i = marker.indexOf(delimiter, prefix.length);
        if (i >= 0) {
          const skip = nextPrefix(marker.slice(0, i + delimiter.length));
          if (skip === undefined) return out;
          lo = skip;
          loIncl = true;
        }
      }
    }

    let count = 0;
    let lastName: string | undefined;
    for (;;) {
      if (upper !== undefined && compareBytes(lo, upper) >= 0) break;
      const sql = `SELECT ${CONTENT_COLS} FROM contents WHERE name ${loIncl ? '>=' : '>'} ?${upper === undefined ? '' : ' AND name < ?'} ORDER BY name, version DESC`;
      // Where the next query starts when this one stops early (undefined lo: nothing after).
      let next: { lo: string | undefined; incl: boolean } | undefined;
      let olderSkipped = 0;
      let stop = false;
      for (const row of base.iterate<ContentRow>(sql, upper === undefined ? [lo] : [lo, upper])) {
        const first = row.name !== lastName;
        lastName = row.name;
        if (first) olderSkipped = 0;
        if (versionMarker !== undefined && row.name === marker && row.version >= versionMarker) continue;
        if (!versions && (!first || row.deleted)) {
          // An older version, or a name hidden by its marker. Many of them: seek to the next name.
          if (!first && ++olderSkipped > 16) { next = { lo: row.name, incl: false }; break; }
          continue;
        }
        if (delimiter !== '') {
          const i = row.name.indexOf(delimiter, prefix.length);
          if (i >= 0) {
            const cp = row.name.slice(0, i + delimiter.length);
            if (count === limit) { out.truncated = true; stop = true; break; }
            out.prefixes.push(cp);
            count++;
            out.next_marker = cp;
            delete out.next_version_marker;
            next = { lo: nextPrefix(cp), incl: true };
            break;
          }
        }
        if (count === limit) { out.truncated = true; stop = true; break; }
        out.objects.push(this.contentInfo(base, row, withChunks));
        count++;
        out.next_marker = row.name;
        if (versions) out.next_version_marker = row.version;
      }
      if (stop || next === undefined || next.lo === undefined) break;
      lo = next.lo;
      loIncl = next.incl;
    }
    if (!out.truncated) { delete out.next_marker; delete out.next_version_marker; }
    return out;
  }

  // ---------------------------------------------------------------- events

  /** Bases with events to send: the service-level one, then containers written since start. */
  eventSources(): string[] {
    return [SERVICE_EVENTS, ...this.dirty];
  }

  private eventBase(source: string): Base | undefined {
    if (source === SERVICE_EVENTS) return this.events;
    let base: Base;
    try { base = this.openBase(source); } catch { this.dirty.delete(source); return undefined; }
    // Only the master of a replicated base sends its events (and settles them).
    return base.isReplicated && base.masterEpoch === undefined ? undefined : base;
  }

  /** Events of `source` due at `now`, oldest first. */
  dueEvents(source: string, now: number, max: number): EventRow[] {
    const base = this.eventBase(source);
    if (!base) return [];
    const rows = base.all<EventRow>(`SELECT * FROM events WHERE next_try <= ? ORDER BY id LIMIT ?`, [now, max]);
    if (rows.length === 0 && source !== SERVICE_EVENTS && !base.get(`SELECT 1 AS x FROM events LIMIT 1`)) this.dirty.delete(source);
    return rows;
  }

  /** Number of events still queued in `source` (tests, metrics). */
  pendingEvents(source: string): number {
    return this.eventBase(source)?.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events`)?.n ?? 0;
  }

  /** Removes the events sent (`done`) and schedules the next attempt of the failed ones. */
  settleEvents(source: string, done: number[], retries: Array<{ id: number; nextTry: number }>): void {
    if (done.length === 0 && retries.length === 0) return;
    this.eventBase(source)?.write((tx) => {
      for (const id of done) tx.run(`DELETE FROM events WHERE id = ?`, [id]);
      for (const r of retries) tx.run(`UPDATE events SET attempts = attempts + 1, next_try = ? WHERE id = ?`, [r.nextTry, r.id]);
    });
  }

  /** Finds the container bases that still hold events (after a restart). */
  scanPendingEvents(): number {
    let found = 0;
    for (const dir of fs.readdirSync(this.opts.dataDir)) {
      if (!/^[0-9A-F]{3}$/.test(dir)) continue;
      for (const f of fs.readdirSync(path.join(this.opts.dataDir, dir))) {
        const m = /^([0-9A-F]{64})\.meta2$/.exec(f);
        if (!m) continue;
        const cid = m[1]!;
        try {
          if (this.openBase(cid).get(`SELECT 1 AS x FROM events LIMIT 1`)) { this.dirty.add(cid); found++; }
        } catch { /* removed meanwhile */ }
      }
    }
    return found;
  }
}
