/**
 * @module gateways/s3/lifecycle
 * Bucket lifecycle: the configuration (PUT/GET/DELETE /bucket?lifecycle, validated as S3 does
 * and kept as a container property) and its enforcement by a worker of the gateway. The worker
 * runs on one gateway of the grid at a time (the master of an etcd election; a single node has
 * no election and runs it), every `s3.lifecycle_interval`, and applies each bucket's enabled
 * rules:
 * - Expiration (Days or Date) of current versions: an unversioned bucket loses the version, a
 *   versioned one gets a delete marker (as a DELETE without version id would);
 * - ExpiredObjectDeleteMarker: a delete marker with no other version left is removed (by an
 *   Expiration in Days too, once the marker is that old);
 * - NoncurrentVersionExpiration: a version noncurrent for NoncurrentDays (counted from when the
 *   next version was written) is removed, the NewerNoncurrentVersions newest ones kept;
 * - AbortIncompleteMultipartUpload: an upload initiated DaysAfterInitiation days ago is aborted.
 * Every removal names the exact version it looked at, so a write that came meanwhile is never
 * what goes. Days count as S3 counts them: the object's time plus the days, rounded up to the
 * next midnight UTC. Transitions are not implemented (NotImplemented).
 */
import type { ObjectStorage } from '../../client/object-storage';
import { isNotFound, randomHex, type Logger } from '../../common';
import type { ContainerInfo, ContentInfo } from '../../common/model';
import { bucketJson, GatewayState, MPU_PREFIX, PROP, RESERVED, S3Request, S3Scope, bucketInfo, setBucketProperty, readXml, sendEmpty, sendXml, versioningOf } from './context';
import { S3Error } from './errors';
import { abortUpload } from './multipart';
import { deleteOne } from './object';
import { lockOf } from './object-lock';
import { child, childText, children, doc, el, txt, type XmlNode } from './xml';

const DAY_MS = 86_400_000;
const MAX_RULES = 1000;

export interface LifecycleFilter {
  prefix: string;
  tags: Array<[string, string]>;
  sizeGt?: number;
  sizeLt?: number;
  /** how the rule named it, answered back the same way: `<Prefix>` of the rule, `<Filter>`, `<Filter><And>` */
  form: 'legacy' | 'filter' | 'and';
  /** a Prefix element was given (possibly empty) */
  hasPrefix: boolean;
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /** `date` in ms since the epoch (a midnight UTC) */
  expiration?: { days?: number; date?: number; deleteMarker?: boolean };
  noncurrent?: { days: number; newer?: number };
  abortDays?: number;
}

const malformed = (why: string): never => { throw new S3Error('MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema (${why})`); };

/** A positive integer element (Days, NoncurrentDays, ...); InvalidArgument otherwise. */
function positive(node: XmlNode, name: string, what: string, max = 2_147_483_647): number | undefined {
  const v = childText(node, name);
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^\d{1,10}$/.test(t) || Number(t) < 1 || Number(t) > max) throw new S3Error('InvalidArgument', `'${name}' for ${what} must be a positive integer`, { ArgumentName: name, ArgumentValue: v });
  return Number(t);
}

function nonNegative(node: XmlNode, name: string): number | undefined {
  const v = childText(node, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,19}$/.test(v.trim())) throw new S3Error('InvalidArgument', `'${name}' must be a non-negative integer`, { ArgumentName: name, ArgumentValue: v });
  return Number(v.trim());
}

/** An ISO 8601 date at midnight UTC (S3 refuses any other time): ms since the epoch. */
function midnightDate(v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}))?$/.exec(v.trim());
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ? `.${m[7].slice(0, 3)}` : ''}${m[8] ?? 'Z'}`) : NaN;
  if (!Number.isFinite(ms)) throw new S3Error('InvalidArgument', `'Date' must be an ISO 8601 date: ${v}`, { ArgumentName: 'Date', ArgumentValue: v });
  if (ms % DAY_MS !== 0) throw new S3Error('InvalidArgument', '\'Date\' must be at midnight GMT', { ArgumentName: 'Date', ArgumentValue: v });
  return ms;
}

function tagOf(t: XmlNode): [string, string] {
  const k = childText(t, 'Key');
  const v = childText(t, 'Value');
  if (k === undefined || v === undefined) malformed('Tag without Key or Value');
  return [k!, v!];
}

function filterOf(rule: XmlNode): LifecycleFilter {
  const legacy = childText(rule, 'Prefix');
  const f = child(rule, 'Filter');
  if (legacy !== undefined && f) malformed('a rule has both Prefix and Filter');
  if (!f) return { prefix: legacy ?? '', tags: [], form: 'legacy', hasPrefix: legacy !== undefined };
  const parts = ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].flatMap((n) => children(f, n));
  if (parts.length > 1) malformed('a Filter holds one condition (several go in And)');
  const and = child(f, 'And');
  const from = and ?? f;
  const prefix = childText(from, 'Prefix');
  const tags = children(from, 'Tag').map(tagOf);
  if (new Set(tags.map(([k]) => k)).size !== tags.length) throw new S3Error('InvalidArgument', 'Duplicate Tag Keys are not allowed');
  const sizeGt = nonNegative(from, 'ObjectSizeGreaterThan');
  const sizeLt = nonNegative(from, 'ObjectSizeLessThan');
  if (sizeGt !== undefined && sizeLt !== undefined && sizeGt >= sizeLt) throw new S3Error('InvalidArgument', 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan');
  return { prefix: prefix ?? '', tags, sizeGt, sizeLt, form: and ? 'and' : 'filter', hasPrefix: prefix !== undefined };
}

function ruleOf(x: XmlNode): LifecycleRule {
  const id = childText(x, 'ID') ?? randomHex(16);
  if (id.length > 255) throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255', { ArgumentName: 'ID' });
  const status = childText(x, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') malformed('Status must be Enabled or Disabled');
  const filter = filterOf(x);
  const rule: LifecycleRule = { id, enabled: status === 'Enabled', filter };
  const exp = child(x, 'Expiration');
  if (exp) {
    const days = positive(exp, 'Days', 'Expiration action');
    const dateText = childText(exp, 'Date');
    const marker = childText(exp, 'ExpiredObjectDeleteMarker');
    if ([days, dateText, marker].filter((v) => v !== undefined).length !== 1) malformed('Expiration takes one of Days, Date and ExpiredObjectDeleteMarker');
    if (marker !== undefined && marker !== 'true' && marker !== 'false') malformed('ExpiredObjectDeleteMarker is true or false');
    if (marker === 'true' && filter.tags.length) throw new S3Error('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with object tags');
    rule.expiration = { days, date: dateText === undefined ? undefined : midnightDate(dateText), deleteMarker: marker === undefined ? undefined : marker === 'true' };
  }
  const nc = child(x, 'NoncurrentVersionExpiration');
  if (nc) {
    const days = positive(nc, 'NoncurrentDays', 'NoncurrentVersionExpiration action');
    if (days === undefined) malformed('NoncurrentVersionExpiration needs NoncurrentDays');
    rule.noncurrent = { days: days!, newer: positive(nc, 'NewerNoncurrentVersions', 'NoncurrentVersionExpiration action', 100) };
  }
  const abort = child(x, 'AbortIncompleteMultipartUpload');
  if (abort) {
    const days = positive(abort, 'DaysAfterInitiation', 'AbortIncompleteMultipartUpload action');
    if (days === undefined) malformed('AbortIncompleteMultipartUpload needs DaysAfterInitiation');
    if (filter.tags.length) throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with object tags');
    rule.abortDays = days;
  }
  // Transitions are checked as S3 checks them (a bad one is a client error), then refused.
  const transitions = [...children(x, 'Transition'), ...children(x, 'NoncurrentVersionTransition')];
  for (const t of transitions) {
    const days = nonNegative(t, t.name === 'Transition' ? 'Days' : 'NoncurrentDays');
    const date = t.name === 'Transition' ? childText(t, 'Date') : undefined;
    if (date !== undefined) midnightDate(date);
    if ((days === undefined) === (date === undefined)) malformed(`${t.name} takes one of ${t.name === 'Transition' ? 'Days and Date' : 'NoncurrentDays'}`);
    if (childText(t, 'StorageClass') === undefined) malformed(`${t.name} needs a StorageClass`);
  }
  if (transitions.length) throw new S3Error('NotImplemented', 'lifecycle transitions are not implemented');
  if (!rule.expiration && !rule.noncurrent && rule.abortDays === undefined) throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  return rule;
}

/** The rules of a LifecycleConfiguration document; MalformedXML, InvalidArgument, InvalidRequest. */
export function parseLifecycle(x: XmlNode): LifecycleRule[] {
  if (x.name !== 'LifecycleConfiguration') malformed('LifecycleConfiguration expected');
  const nodes = children(x, 'Rule');
  if (nodes.length === 0 || nodes.length > MAX_RULES) malformed(`between 1 and ${MAX_RULES} Rule are needed`);
  const rules = nodes.map(ruleOf);
  if (new Set(rules.map((r) => r.id)).size !== rules.length) throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule', { ArgumentName: 'ID' });
  return rules;
}

function filterXml(f: LifecycleFilter): string {
  if (f.form === 'legacy') return txt('Prefix', f.prefix)!;
  const conditions = [f.hasPrefix ? txt('Prefix', f.prefix) : undefined, ...f.tags.map(([k, v]) => el('Tag', txt('Key', k), txt('Value', v))),
    txt('ObjectSizeGreaterThan', f.sizeGt), txt('ObjectSizeLessThan', f.sizeLt)];
  return f.form === 'and' ? el('Filter', el('And', ...conditions)) : el('Filter', ...conditions);
}

const isoDay = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The LifecycleConfiguration document of `rules`. */
export function lifecycleXml(rules: LifecycleRule[]): string {
  return doc('LifecycleConfiguration', ...rules.map((r) => el('Rule', txt('ID', r.id), filterXml(r.filter), txt('Status', r.enabled ? 'Enabled' : 'Disabled'),
    r.expiration ? el('Expiration', txt('Days', r.expiration.days), r.expiration.date !== undefined ? txt('Date', isoDay(r.expiration.date)) : undefined, txt('ExpiredObjectDeleteMarker', r.expiration.deleteMarker)) : undefined,
    r.noncurrent ? el('NoncurrentVersionExpiration', txt('NoncurrentDays', r.noncurrent.days), txt('NewerNoncurrentVersions', r.noncurrent.newer)) : undefined,
    r.abortDays !== undefined ? el('AbortIncompleteMultipartUpload', txt('DaysAfterInitiation', r.abortDays)) : undefined)));
}

/** The lifecycle rules kept in a bucket's properties, or undefined. */
export function lifecycleOf(properties: Record<string, string>): LifecycleRule[] | undefined {
  return bucketJson<LifecycleRule[]>(properties, 'lifecycle');
}

/** PUT /bucket?lifecycle (replaces the whole configuration) */
export async function putBucketLifecycle(r: S3Request): Promise<void> {
  const rules = parseLifecycle((await readXml(r))!);
  await setBucketProperty(r, 'lifecycle', JSON.stringify(rules));
  sendEmpty(r, 200);
}

/** GET /bucket?lifecycle */
export async function getBucketLifecycle(r: S3Request): Promise<void> {
  const rules = lifecycleOf((await bucketInfo(r)).properties);
  if (!rules) throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: r.bucket! });
  sendXml(r, 200, lifecycleXml(rules));
}

/**
 * When `days` after `since` is due: S3 adds the days and rounds up to the next midnight UTC.
 * With a shorter day (`s3.lifecycle_day`, for tests) there is no rounding.
 */
export function dueAt(since: number, days: number, dayMs = DAY_MS): number {
  if (dayMs !== DAY_MS) return since + days * dayMs;
  return Math.ceil((since + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** Whether `f` selects an object (delete markers have no size or tags to test). */
function selects(f: LifecycleFilter, o: ContentInfo): boolean {
  if (!o.name.startsWith(f.prefix)) return false;
  if (o.deleted) return f.tags.length === 0 && f.sizeGt === undefined && f.sizeLt === undefined;
  if (f.sizeGt !== undefined && !(o.size > f.sizeGt)) return false;
  if (f.sizeLt !== undefined && !(o.size < f.sizeLt)) return false;
  if (f.tags.length) {
    const tags = new URLSearchParams(o.properties[PROP.tagging] ?? '');
    if (f.tags.some(([k, v]) => tags.get(k) !== v)) return false;
  }
  return true;
}

/** The earliest expiration of a current version among the enabled rules, and its rule. */
function expirationOf(rules: LifecycleRule[], o: ContentInfo, dayMs: number): { at: number; rule: string } | undefined {
  let best: { at: number; rule: string } | undefined;
  for (const r of rules) {
    const e = r.expiration;
    if (!r.enabled || !e || (e.days === undefined && e.date === undefined) || !selects(r.filter, o)) continue;
    const at = e.days !== undefined ? dueAt(o.mtime, e.days, dayMs) : e.date!;
    if (!best || at < best.at) best = { at, rule: r.id };
  }
  return best;
}

/**
 * The `x-amz-expiration` header of a current version the bucket's rules will expire
 * (GET, HEAD, PUT answers), or nothing.
 */
export async function expirationHeader(r: S3Scope, bucket: string, o: ContentInfo): Promise<Record<string, string>> {
  const rules = lifecycleOf((await bucketInfo(r, bucket)).properties);
  const e = rules && !o.deleted ? expirationOf(rules, o, r.gw.lifecycleDayMs) : undefined;
  return e ? { 'x-amz-expiration': `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${e.rule.replace(/["\\]/g, '\\$&')}"` } : {};
}

export interface LifecycleCounts {
  buckets: number;
  expired: number;
  noncurrentRemoved: number;
  markersRemoved: number;
  uploadsAborted: number;
}

const gone = (e: unknown): void => { if (!isNotFound(e)) throw e; };

/**
 * One pass over `bucket` of `scope`'s account (`info`: its rules, its versioning) at time `now`:
 * every due action of the enabled rules. Versions are read in listing order (a name's versions
 * newest first), one name at a time.
 */
export async function applyLifecycle(scope: S3Scope, bucket: string, info: ContainerInfo, now: number, counts: LifecycleCounts, stopped: () => boolean = () => false): Promise<void> {
  const enabled = (lifecycleOf(info.properties) ?? []).filter((r) => r.enabled);
  if (!enabled.length) return;
  const dayMs = scope.gw.lifecycleDayMs;
  const { storage } = scope;
  const versioned = versioningOf(info) !== undefined;
  counts.buckets++;

  const applyName = async (versions: ContentInfo[]): Promise<void> => {
    const latest = versions[0]!;
    if (!latest.deleted) {
      const e = expirationOf(enabled, latest, dayMs);
      if (e && e.at <= now) {
        if (!versioned) {
          await storage.objectDelete(bucket, latest.name, latest.version).catch(gone);
          counts.expired++;
          return;
        }
        // Only if it is still the latest: a marker over a newer write would hide it.
        const cur = await storage.objectHead(bucket, latest.name).catch((err: unknown) => { gone(err); return undefined; });
        if (cur && cur.version === latest.version) {
          await deleteOne(scope, bucket, latest.name, undefined);
          counts.expired++;
        }
        return;
      }
    }
    let left = versions.length;
    for (let i = 1; i < versions.length; i++) {
      const o = versions[i]!;
      // Noncurrent since the next version was written; the i-th noncurrent one from the newest.
      const since = versions[i - 1]!.mtime;
      const due = enabled.some((r) => r.noncurrent && selects(r.filter, o) && i > (r.noncurrent.newer ?? 0) && dueAt(since, r.noncurrent.days, dayMs) <= now);
      // A version under object lock stays (a lifecycle has no bypass).
      if (!due || lockOf(o, false, now) !== undefined) continue;
      await storage.objectDelete(bucket, o.name, o.version).catch(gone);
      counts.noncurrentRemoved++;
      left--;
    }
    // A delete marker left alone: removed by ExpiredObjectDeleteMarker at once, and by an
    // Expiration in days once it is as old as an object would be.
    const lone = latest.deleted && left === 1;
    if (lone && enabled.some((r) => selects(r.filter, latest) && (r.expiration?.deleteMarker || (r.expiration?.days !== undefined && dueAt(latest.mtime, r.expiration.days, dayMs) <= now)))) {
      await storage.objectDelete(bucket, latest.name, latest.version).catch(gone);
      counts.markersRemoved++;
    }
  };

  // Objects and their versions. Reserved names (uploads under way) sort last: the listing stops there.
  let group: ContentInfo[] = [];
  let marker: string | undefined;
  let versionMarker: number | undefined;
  listing: for (;;) {
    const page = await storage.objectList(bucket, { versions: true, marker, versionMarker, limit: 1000 });
    for (const o of page.objects) {
      if (o.name.startsWith(RESERVED)) break listing;
      if (group.length && group[0]!.name !== o.name) { await applyName(group); group = []; }
      group.push(o);
      if (stopped()) return;
    }
    if (!page.truncated || !page.next_marker) break;
    marker = page.next_marker;
    versionMarker = page.next_version_marker;
  }
  if (group.length) await applyName(group);

  const aborting = enabled.filter((r) => r.abortDays !== undefined);
  if (!aborting.length) return;
  marker = undefined;
  for (;;) {
    const page = await storage.objectList(bucket, { prefix: MPU_PREFIX, delimiter: '/', marker, limit: 1000 });
    for (const o of page.objects) {
      const key = o.properties[PROP.uploadKey];
      if (key === undefined || stopped()) continue;
      const initiated = Number(o.properties[PROP.uploadInitiated] ?? o.ctime);
      if (!aborting.some((r) => key.startsWith(r.filter.prefix) && dueAt(initiated, r.abortDays!, dayMs) <= now)) continue;
      await abortUpload(scope, bucket, o.name.slice(MPU_PREFIX.length), o.version);
      counts.uploadsAborted++;
    }
    if (!page.truncated || !page.next_marker) break;
    marker = page.next_marker;
  }
}

export interface LifecycleWorkerOptions {
  /** ms between passes */
  intervalMs: number;
  /** whether this gateway runs the passes now (the grid's elected one) */
  leads(): Promise<boolean>;
}

/** The gateway's lifecycle worker: a pass over every bucket with rules, every interval. */
export class LifecycleWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly base: ObjectStorage, private readonly gw: GatewayState, private readonly log: Logger, private readonly opts: LifecycleWorkerOptions) {}

  start(): void {
    const tick = (): void => {
      this.running = this.pass().then(() => undefined, (e: unknown) => this.log.warn('lifecycle pass failed', { err: e as Error })).finally(() => {
        this.running = undefined;
        if (!this.stopping) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every account's buckets, if this gateway leads; the counts of what it did. */
  async pass(now = Date.now()): Promise<LifecycleCounts | undefined> {
    if (!(await this.opts.leads())) return undefined;
    const counts: LifecycleCounts = { buckets: 0, expired: 0, noncurrentRemoved: 0, markersRemoved: 0, uploadsAborted: 0 };
    const t0 = Date.now();
    for (const account of await this.base.accountList()) {
      const storage = this.base.forAccount(account);
      let marker: string | undefined;
      for (;;) {
        if (this.stopping) return counts;
        const page = await storage.containerList({ marker, limit: 1000 }).catch((e: unknown) => { gone(e); return undefined; });
        if (!page) break;
        for (const c of page.containers) {
          const scope: S3Scope = { gw: this.gw, storage };
          try {
            await applyLifecycle(scope, c.name, await storage.containerShow(c.name), now, counts, () => this.stopping);
          } catch (e) {
            if (!isNotFound(e)) this.log.warn('lifecycle of a bucket failed', { account, bucket: c.name, err: e as Error });
          }
        }
        if (!page.truncated || !page.next_marker) break;
        marker = page.next_marker;
      }
    }
    const acted = counts.expired + counts.noncurrentRemoved + counts.markersRemoved + counts.uploadsAborted;
    (acted ? this.log.info : this.log.debug).call(this.log, 'lifecycle pass', { ...counts, durationMs: Date.now() - t0 });
    return counts;
  }
}
