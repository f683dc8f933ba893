/**
 * @module gateways/s3/object-lock
 * S3 Object Lock (write once, read many). A bucket created with
 * `x-amz-bucket-object-lock-enabled: true` (or a versioned bucket given an
 * ObjectLockConfiguration) keeps every version (versioning cannot be suspended) and may have a
 * default retention. A version's retention (GOVERNANCE or COMPLIANCE until a date) and legal
 * hold are properties of that version, set at write (headers, else the bucket's default) or by
 * PutObjectRetention / PutObjectLegalHold. While one holds, the version cannot be deleted: a
 * DELETE naming it is AccessDenied (GOVERNANCE yields to `x-amz-bypass-governance-retention`,
 * COMPLIANCE and a legal hold to nothing), the lifecycle worker leaves it, and a retention can
 * only be made longer (a shorter GOVERNANCE one with the bypass header). A DELETE without
 * version id still adds a delete marker, which hides the object and removes nothing.
 */
import type { ContainerInfo, ContentInfo } from '../../common/model';
import { BUCKET_PROP, bucketJson, PROP, S3Request, bucketInfo, forgetBucket, readXml, resolveVersion, sendEmpty, sendXml, versionIdOf, versioningOf } from './context';
import { S3Error } from './errors';
import { child, childText, doc, el, txt } from './xml';

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';
const MODES: readonly string[] = ['GOVERNANCE', 'COMPLIANCE'];

/** A bucket's object lock: enabled, with an optional default retention. */
export interface LockConfig { mode?: LockMode; days?: number; years?: number }

const malformed = (): never => { throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'); };
const notLockBucket = (): never => { throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration'); };

/** The object lock of a bucket, or undefined when it has none. */
export function lockConfigOf(info: ContainerInfo): LockConfig | undefined {
  // An unreadable setting still marks the bucket as locked (with no default retention).
  if (!info.properties[BUCKET_PROP.objectLock]) return undefined;
  return bucketJson<LockConfig>(info.properties, 'objectLock') ?? {};
}

/** The properties of a bucket created with object lock (versioning enabled). */
export function lockedBucketProps(): Record<string, string> {
  return { [BUCKET_PROP.objectLock]: '{}', [BUCKET_PROP.versioning]: 'Enabled' };
}

/** PUT /bucket?object-lock */
export async function putObjectLockConfiguration(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  if (x.name !== 'ObjectLockConfiguration' || childText(x, 'ObjectLockEnabled') !== 'Enabled') malformed();
  const conf: LockConfig = {};
  const rule = child(x, 'Rule');
  if (rule) {
    const d = child(rule, 'DefaultRetention');
    if (!d) malformed();
    const mode = childText(d!, 'Mode');
    if (mode === undefined || !MODES.includes(mode)) malformed();
    const days = childText(d!, 'Days');
    const years = childText(d!, 'Years');
    if ((days === undefined) === (years === undefined)) malformed();
    const n = Number((days ?? years)!.trim());
    if (!/^-?\d+$/.test((days ?? years)!.trim()) || n < 1 || n > (days !== undefined ? 36_500 : 100)) {
      throw new S3Error('InvalidRetentionPeriod', 'Default retention period must be a positive integer value', { ArgumentName: days !== undefined ? 'Days' : 'Years' });
    }
    conf.mode = mode as LockMode;
    if (days !== undefined) conf.days = n; else conf.years = n;
  }
  const info = await bucketInfo(r);
  // A bucket made without object lock may have it once its versioning is enabled (as S3 allows).
  if (!lockConfigOf(info) && versioningOf(info) !== 'Enabled') throw new S3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
  await r.storage.containerSet(r.bucket!, { maxVersions: -1, properties: { ...lockedBucketProps(), [BUCKET_PROP.objectLock]: JSON.stringify(conf) } });
  forgetBucket(r);
  sendEmpty(r, 200);
}

/** GET /bucket?object-lock */
export async function getObjectLockConfiguration(r: S3Request): Promise<void> {
  const conf = lockConfigOf(await bucketInfo(r));
  if (!conf) throw new S3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', { BucketName: r.bucket! });
  sendXml(r, 200, doc('ObjectLockConfiguration', txt('ObjectLockEnabled', 'Enabled'),
    conf.mode ? el('Rule', el('DefaultRetention', txt('Mode', conf.mode), txt('Days', conf.days), txt('Years', conf.years))) : undefined));
}

/** A retain-until date: ISO 8601, in the future; InvalidArgument otherwise. */
function retainUntil(v: string, now = Date.now()): string {
  const ms = Date.parse(v.trim());
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v.trim()) || !Number.isFinite(ms)) throw new S3Error('InvalidArgument', 'The retain until date must be an ISO 8601 date', { ArgumentName: 'RetainUntilDate', ArgumentValue: v });
  if (ms <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', { ArgumentName: 'RetainUntilDate', ArgumentValue: v });
  return new Date(ms).toISOString();
}

/**
 * The lock properties of a new version written to `bucket`: the request's
 * `x-amz-object-lock-*` headers, else the bucket's default retention. InvalidRequest on a bucket
 * without object lock, InvalidArgument on a bad mode, date or legal hold.
 */
export async function lockPropsForWrite(r: S3Request, bucket: string): Promise<Record<string, string>> {
  const mode = r.header('x-amz-object-lock-mode');
  const until = r.header('x-amz-object-lock-retain-until-date');
  const hold = r.header('x-amz-object-lock-legal-hold');
  const asked = mode !== undefined || until !== undefined || hold !== undefined;
  const conf = lockConfigOf(await bucketInfo(r, bucket));
  if (!conf) {
    if (asked) notLockBucket();
    return {};
  }
  const props: Record<string, string> = {};
  if ((mode === undefined) !== (until === undefined)) throw new S3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', { ArgumentName: mode === undefined ? 'x-amz-object-lock-mode' : 'x-amz-object-lock-retain-until-date' });
  if (mode !== undefined) {
    if (!MODES.includes(mode)) throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', { ArgumentName: 'x-amz-object-lock-mode', ArgumentValue: mode });
    props[PROP.lockMode] = mode;
    props[PROP.lockUntil] = retainUntil(until!);
  } else if (conf.mode) {
    const at = new Date();
    if (conf.days) at.setUTCDate(at.getUTCDate() + conf.days);
    else at.setUTCFullYear(at.getUTCFullYear() + conf.years!);
    props[PROP.lockMode] = conf.mode;
    props[PROP.lockUntil] = at.toISOString();
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw new S3Error('InvalidArgument', 'Legal Hold must be either of \'ON\' or \'OFF\'', { ArgumentName: 'x-amz-object-lock-legal-hold', ArgumentValue: hold });
    if (hold === 'ON') props[PROP.legalHold] = 'ON';
  }
  return props;
}

/**
 * A write that locks what it stores must prove its bytes (S3 asks the same): Content-MD5 or an
 * x-amz-checksum-* value (header or trailer). InvalidRequest otherwise.
 */
export function checkLockedWriteIntegrity(r: S3Request, props: Record<string, string>): void {
  if (props[PROP.lockMode] === undefined && props[PROP.legalHold] === undefined) return;
  const sums = r.header('content-md5') !== undefined || r.header('x-amz-trailer')?.startsWith('x-amz-checksum-')
    || Object.keys(r.req.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type' && h !== 'x-amz-checksum-algorithm');
  if (!sums) throw new S3Error('InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
}

/** The object lock headers of a version (HEAD, GET). */
export function lockHeaders(c: ContentInfo): Record<string, string> {
  const h: Record<string, string> = {};
  const mode = c.properties[PROP.lockMode];
  if (mode) { h['x-amz-object-lock-mode'] = mode; h['x-amz-object-lock-retain-until-date'] = c.properties[PROP.lockUntil] ?? ''; }
  if (c.properties[PROP.legalHold]) h['x-amz-object-lock-legal-hold'] = c.properties[PROP.legalHold]!;
  return h;
}

/** Why a version cannot be deleted now (undefined: it can), `bypass` lifting GOVERNANCE. */
export function lockOf(c: ContentInfo, bypass: boolean, now = Date.now()): string | undefined {
  if (c.properties[PROP.legalHold] === 'ON') return 'legal hold';
  const mode = c.properties[PROP.lockMode];
  const until = Date.parse(c.properties[PROP.lockUntil] ?? '');
  if (!mode || !(until > now)) return undefined;
  if (mode === 'GOVERNANCE' && bypass) return undefined;
  return `${mode} retention until ${c.properties[PROP.lockUntil]}`;
}

/** Refuses the deletion of a locked version (AccessDenied, as S3). */
export function checkDeletable(c: ContentInfo, bypass: boolean): void {
  if (lockOf(c, bypass) !== undefined) throw new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
}

/** x-amz-bypass-governance-retention: true */
export const bypassGovernance = (r: S3Request): boolean => r.header('x-amz-bypass-governance-retention')?.toLowerCase() === 'true';

/** The version a retention or legal hold request is about, on a bucket with object lock. */
async function lockTarget(r: S3Request): Promise<ContentInfo> {
  if (!lockConfigOf(await bucketInfo(r))) notLockBucket();
  const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
  if (c.deleted) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  return c;
}

const versionHeader = (c: ContentInfo) => ({ 'x-amz-version-id': versionIdOf(c) });

/** PUT /bucket/key?retention */
export async function putObjectRetention(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  if (x.name !== 'Retention') malformed();
  const mode = childText(x, 'Mode');
  const until = childText(x, 'RetainUntilDate');
  if (mode !== undefined && !MODES.includes(mode)) malformed();
  if ((mode === undefined) !== (until === undefined)) malformed();
  const c = await lockTarget(r);
  const next = until === undefined ? undefined : retainUntil(until);
  const curMode = c.properties[PROP.lockMode];
  const curUntil = Date.parse(c.properties[PROP.lockUntil] ?? '');
  if (curMode && curUntil > Date.now()) {
    // Only a longer retention of the same mode replaces one in force: no earlier date, no other
    // mode (COMPLIANCE never; GOVERNANCE only with x-amz-bypass-governance-retention).
    const weaker = next === undefined || Date.parse(next) < curUntil || mode !== curMode;
    if (weaker && (curMode === 'COMPLIANCE' || !bypassGovernance(r))) throw new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
  }
  const set: Record<string, string> = next === undefined ? {} : { [PROP.lockMode]: mode!, [PROP.lockUntil]: next };
  await r.storage.objectSetProperties(r.bucket!, r.key!, set, next === undefined ? [PROP.lockMode, PROP.lockUntil] : [], c.version);
  sendEmpty(r, 200, versionHeader(c));
}

/** GET /bucket/key?retention */
export async function getObjectRetention(r: S3Request): Promise<void> {
  const c = await lockTarget(r);
  const mode = c.properties[PROP.lockMode];
  if (!mode) throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
  sendXml(r, 200, doc('Retention', txt('Mode', mode), txt('RetainUntilDate', c.properties[PROP.lockUntil])), versionHeader(c));
}

/** PUT /bucket/key?legal-hold */
export async function putObjectLegalHold(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  const status = x.name === 'LegalHold' ? childText(x, 'Status') : undefined;
  if (status !== 'ON' && status !== 'OFF') malformed();
  const c = await lockTarget(r);
  await r.storage.objectSetProperties(r.bucket!, r.key!, status === 'ON' ? { [PROP.legalHold]: 'ON' } : { [PROP.legalHold]: 'OFF' }, [], c.version);
  sendEmpty(r, 200, versionHeader(c));
}

/** GET /bucket/key?legal-hold */
export async function getObjectLegalHold(r: S3Request): Promise<void> {
  const c = await lockTarget(r);
  const status = c.properties[PROP.legalHold];
  if (!status) throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
  sendXml(r, 200, doc('LegalHold', txt('Status', status)), versionHeader(c));
}
