/**
 * @module gateways/s3/context
 * What every S3 handler gets: the parsed request (bucket, key, sub-resources), the caller's
 * client bound to its account, and helpers to answer (XML, headers). Also the object
 * conventions shared by the handlers: how S3 metadata maps onto object properties, ETags,
 * version ids, the reserved name prefix of multipart uploads, key and bucket name rules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectStorage } from '../../client/object-storage';
import type { Logger } from '../../common';
import type { ContainerInfo, ContentInfo } from '../../common/model';
import { isNotFound, RESERVED_NAME_PREFIX } from '../../common';
import { readBody } from '../../common/http';
import type { AuthResult } from './auth';
import { S3Body } from './aws-chunked';
import { S3Error } from './errors';
import { XmlError, XmlNode, parseXml } from './xml';

/**
 * Names at or after this character are the gateway's own (multipart uploads and their parts);
 * U+10FFFF sorts after every other name in UTF-8 byte order, so listings meet them last and
 * stop there. Client keys may not start with it.
 */
export const RESERVED = RESERVED_NAME_PREFIX;
export const MPU_PREFIX = `${RESERVED}mpu/`;
export const MAX_KEY_BYTES = 1024;
export const MAX_PUT_BYTES = 5 * 1024 ** 3;
export const MAX_META_BYTES = 2048;
const MAX_XML_BODY = 2 * 1024 * 1024;

/** Object properties used by the gateway (user metadata keeps its `x-amz-meta-` name). */
export const PROP = {
  etag: 's3-etag',
  tagging: 's3-tagging',
  nullVersion: 's3-null',
  contentType: 'content-type',
  uploadKey: 's3-upload-key',
  uploadInitiated: 's3-upload-initiated',
  /** on an object made by CompleteMultipartUpload: the upload's id (a repeated Complete answers again) */
  completedUpload: 's3-completed-upload',
  partsCount: 's3-parts',
  partSizes: 's3-part-sizes',
  /** prefix of the stored full-object checksums: `s3-checksum-crc32` = base64 */
  checksum: 's3-checksum-',
  /** COMPOSITE (a multipart object's checksum over its parts' checksums) or FULL_OBJECT (absent) */
  checksumType: 's3-cksum-type',
  /** a multipart object's part checksums (base64, comma-separated, in part order) */
  partChecksums: 's3-part-checksums',
  /** on an upload's record: the checksum algorithm and type CreateMultipartUpload named */
  uploadChecksum: 's3-upload-cksum',
  uploadChecksumType: 's3-upload-cksum-type',
  /** the storage class asked for, when not STANDARD */
  storageClass: 's3-storage-class',
  /** object lock of a version: GOVERNANCE or COMPLIANCE until a date (ISO 8601), legal hold ON/OFF */
  lockMode: 's3-lock-mode',
  lockUntil: 's3-lock-until',
  legalHold: 's3-legal-hold',
  /** SSE-C (sse.ts): the algorithm, the key's check value, the IV (a part's, or a whole object's), a multipart object's part IVs */
  sseC: 's3-sse-c',
  sseKeyCheck: 's3-sse-key-check',
  sseIv: 's3-sse-iv',
  sseIvs: 's3-sse-ivs',
  /** SSE-S3: the algorithm, the data key wrapped by the master key, the master key's id */
  sse: 's3-sse',
  sseWrapped: 's3-sse-wrapped',
  sseKeyId: 's3-sse-key-id',
  /** SSE-KMS (s3-sse aws:kms): the key id of the built-in key service the data key is wrapped under */
  sseKmsKey: 's3-sse-kms-key',
  /** the object's ACL (acl.ts, JSON with its owner); absent: the bucket owner's full control */
  acl: 's3-acl',
} as const;

/** Standard headers stored as object properties (Content-Type is the content's mime). */
export const STORED_HEADERS = ['content-encoding', 'content-disposition', 'cache-control', 'expires', 'content-language', 'x-amz-website-redirect-location'] as const;

/** Container properties used by the gateway. */
export const BUCKET_PROP = { versioning: 's3-versioning', tagging: 's3-tagging', cors: 's3-cors', lifecycle: 's3-lifecycle', ownership: 's3-ownership', publicAccessBlock: 's3-public-access-block', objectLock: 's3-object-lock', encryption: 's3-encryption', policy: 's3-policy', logging: 's3-logging', acl: 's3-acl' } as const;

export interface GatewayState {
  region: string;
  log: Logger;
  bucketCache: Map<string, { info: ContainerInfo; expires: number }>;
  /** owner account of each bucket name looked up lately (undefined: not reserved), 2 s */
  ownerCache: Map<string, { account: string | undefined; expires: number }>;
  /** storage policy of each storage class that has one (s3.storage_classes) */
  storageClasses: Record<string, string>;
  /** length of a lifecycle day in ms (s3.lifecycle_day) */
  lifecycleDayMs: number;
  /** SSE-C keys taken over plain HTTP too (s3.sse_c_over_http) */
  sseCOverHttp: boolean;
  /** the master key of SSE-S3 (s3.sse_key_file), when the gateway has one */
  sseMaster?: { key: Buffer; id: string };
  /** the grid's master key is expected but not read yet (etcd out of reach) */
  sseMasterPending?: boolean;
}

export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  reqId: string;
  log: Logger;
  gw: GatewayState;
  auth: AuthResult;
  /** the requester's account; undefined for an anonymous (unsigned) request */
  requester: string | undefined;
  /** a client bound to the account that owns the bucket (the requester's own without a bucket) */
  storage: ObjectStorage;
  /** a client bound to the owner of a copy's source bucket (access.ts), when it was resolved */
  sourceStorage?: ObjectStorage;
  bucket: string | undefined;
  key: string | undefined;
  /** decoded query parameters */
  query: Map<string, string>;
  /** the S3 operation, once routed (access log) */
  op: string;
  /** lower-case header (first value) */
  header(name: string): string | undefined;
}

/**
 * What helpers that only read and write the store need of a request: the gateway's state and a
 * client bound to an account. The lifecycle worker (lifecycle.ts) acts through one too.
 */
export type S3Scope = Pick<S3Request, 'gw' | 'storage'> & { bucket?: string };

/** Requests sent with `Expect: 100-continue` whose body was not asked for yet. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** Marks a request that waits for `100 Continue` before it sends its body. */
export function expectsContinue(req: IncomingMessage): void { awaitingContinue.add(req); }

/**
 * Asks for the body of a request sent with `Expect: 100-continue`, right before reading it: an
 * error found first (auth, bucket, key, headers) is the final answer, and the client does not
 * send a body that would be thrown away (the SDKs send large bodies this way).
 */
export function continueBody(req: IncomingMessage, res: ServerResponse): void {
  if (awaitingContinue.delete(req)) res.writeContinue();
}

export function sendXml(r: S3Request, status: number, body: string, headers: Record<string, string> = {}): void {
  const data = Buffer.from(body, 'utf8');
  r.res.writeHead(status, { ...headers, 'content-type': 'application/xml', 'content-length': data.length });
  r.res.end(data);
}

export function sendEmpty(r: S3Request, status: number, headers: Record<string, string | number> = {}): void {
  r.res.writeHead(status, { ...headers, 'content-length': 0 });
  r.res.end();
}

/** Reads a small request body whole (bounded, verified as any body); `tooLarge` when over `limit`. */
export async function readSmallBody(r: S3Request, limit: number, tooLarge: () => S3Error): Promise<string> {
  continueBody(r.req, r.res);
  const buf = await readBody(r.req, limit).catch((e: unknown) => { throw e instanceof S3Error ? e : tooLarge(); });
  return decodeSmallBody(r, buf);
}

/** Reads a small XML request body (bounded) and parses it; MalformedXML. */
export async function readXml(r: S3Request, optional = false): Promise<XmlNode | undefined> {
  const body = await readSmallBody(r, MAX_XML_BODY, () => new S3Error('MalformedXML', 'request body too large or unreadable'));
  if (body.trim() === '') {
    if (optional) return undefined;
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  try { return parseXml(body); } catch (e) {
    if (e instanceof XmlError) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    throw e;
  }
}

/** Verifies a small body read whole (payload hash, Content-MD5, aws-chunked framing). */
async function decodeSmallBody(r: S3Request, raw: Buffer): Promise<string> {
  const body = new S3Body({ auth: r.auth, contentMd5: r.header('content-md5') });
  const parts: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    body.on('data', (b: Buffer) => parts.push(b));
    body.on('end', resolve);
    body.on('error', reject);
    body.end(raw);
  });
  return Buffer.concat(parts).toString('utf8');
}

/** Bucket name rules of S3 for creation (3-63 of a-z 0-9 . -, no IP form). */
export function checkNewBucketName(name: string): void {
  const ok = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !name.includes('.-') && !name.includes('-.')
    && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.startsWith('xn--') && !name.endsWith('-s3alias');
  if (!ok) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/** Names of existing buckets: the legacy rules (upper case, underscores) are tolerated. */
export function checkBucketName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(name)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/**
 * Object keys: 1 to 1,024 bytes, no NUL, not starting with the reserved character, and no
 * path tricks the file bridges could not map (`.` or `..` segments, `//`).
 */
export function checkKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'object key is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long');
  if (key.includes('\0')) throw new S3Error('InvalidArgument', 'object key contains a NUL character');
  if (key.startsWith(RESERVED)) throw new S3Error('InvalidArgument', 'object key starts with a reserved character');
  if (/(^|\/)\.{1,2}(\/|$)/.test(key) || key.includes('//')) throw new S3Error('InvalidArgument', 'object key holds a "." or ".." segment or "//"');
  if (/[\uD800-\uDFFF]/.test(key.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) throw new S3Error('InvalidArgument', 'object key is not valid UTF-8');
}

/** The bucket's settings (cached for 2 s per gateway; changes made here invalidate it). */
export function bucketInfo(r: S3Scope, bucket = r.bucket!): Promise<ContainerInfo> {
  return cachedBucketInfo(r.gw, r.storage, bucket);
}

/** A bucket of `storage`'s account through the gateway's bucket cache (2 s). */
export async function cachedBucketInfo(gw: GatewayState, storage: ObjectStorage, bucket: string): Promise<ContainerInfo> {
  const k = `${storage.account}/${bucket}`;
  const hit = gw.bucketCache.get(k);
  if (hit && hit.expires > Date.now()) return hit.info;
  const info = await storage.containerShow(bucket);
  gw.bucketCache.set(k, { info, expires: Date.now() + 2000 });
  if (gw.bucketCache.size > 10_000) gw.bucketCache.clear();
  return info;
}

export function forgetBucket(r: S3Scope, bucket = r.bucket!): void {
  r.gw.bucketCache.delete(`${r.storage.account}/${bucket}`);
}

/**
 * The account owning a bucket name in the global namespace (the account service's bucket
 * table), cached 2 s; undefined when nobody reserved it (a bucket created before the table:
 * the requester's own is meant).
 */
export async function bucketOwner(gw: GatewayState, storage: ObjectStorage, bucket: string): Promise<string | undefined> {
  const hit = gw.ownerCache.get(bucket);
  if (hit && hit.expires > Date.now()) return hit.account;
  const account = await storage.bucketShow(bucket).then((b) => b.account, (e: unknown) => {
    if (isNotFound(e) || (e as { code?: string }).code === 'INVALID_NAME') return undefined;
    throw e;
  });
  if (gw.ownerCache.size > 10_000) gw.ownerCache.clear();
  gw.ownerCache.set(bucket, { account, expires: Date.now() + 2000 });
  return account;
}

/**
 * A bucket made before the bucket table (a name nobody reserved) is reserved for the account
 * holding it the first time that account names it, so that no other account can take the name
 * from then on. The owner after that (undefined: `storage`'s account has no such bucket).
 */
export async function adoptBucket(gw: GatewayState, storage: ObjectStorage, bucket: string): Promise<string | undefined> {
  const info = await cachedBucketInfo(gw, storage, bucket).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; });
  if (!info) return undefined;
  const held = await storage.bucketReserve(bucket);
  forgetOwner(gw, bucket);
  return held.account;
}

export function forgetOwner(gw: GatewayState, bucket: string): void {
  gw.ownerCache.delete(bucket);
}

/** A bucket setting kept as JSON, or undefined (absent, or unreadable). */
export function bucketJson<T>(properties: Record<string, string>, prop: keyof typeof BUCKET_PROP): T | undefined {
  const raw = properties[BUCKET_PROP[prop]];
  if (!raw) return undefined;
  try { return JSON.parse(raw) as T; } catch { return undefined; }
}

/**
 * Sets one of the gateway's bucket settings (`''` removes it): NoSuchBucket first, and the
 * bucket cache forgets the bucket.
 */
export async function setBucketProperty(r: S3Request, prop: keyof typeof BUCKET_PROP, value: string): Promise<void> {
  await bucketInfo(r);
  await r.storage.containerSet(r.bucket!, { properties: { [BUCKET_PROP[prop]]: value } });
  forgetBucket(r);
}

export type VersioningState = 'Enabled' | 'Suspended' | undefined;

export function versioningOf(info: ContainerInfo): VersioningState {
  const v = info.properties[BUCKET_PROP.versioning];
  return v === 'Enabled' || v === 'Suspended' ? v : undefined;
}

/** The S3 version id of a content: "null" for objects written while versioning was not enabled. */
export function versionIdOf(c: ContentInfo): string {
  return c.properties[PROP.nullVersion] === '1' ? 'null' : String(c.version);
}

export function etagOf(c: ContentInfo): string {
  return `"${c.properties[PROP.etag] ?? c.hash.toLowerCase()}"`;
}

export function contentTypeOf(c: ContentInfo): string {
  return c.properties[PROP.contentType] ?? (c.mime || 'binary/octet-stream');
}

export const isoDate = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '.000Z');
export const httpDate = (ms: number): string => new Date(ms).toUTCString();

/**
 * Finds the content a version id names ("null" included); NoSuchVersion / NoSuchKey.
 * Without a version id: the latest visible version.
 */
export async function resolveVersion(r: S3Scope, bucket: string, key: string, versionId: string | undefined): Promise<ContentInfo> {
  if (versionId === undefined) return r.storage.objectHead(bucket, key);
  if (versionId === 'null') {
    let marker: string | undefined;
    let vmarker: number | undefined;
    for (;;) {
      const page = await r.storage.objectList(bucket, { prefix: key, versions: true, marker, versionMarker: vmarker, limit: 1000 });
      for (const o of page.objects) {
        if (o.name !== key) return notFoundVersion();
        if (o.properties[PROP.nullVersion] === '1' || (!o.deleted && o.properties[PROP.nullVersion] === undefined && !(await versionedEver(r, bucket)))) return r.storage.objectHead(bucket, key, o.version);
      }
      if (!page.truncated || !page.next_marker || page.next_marker !== key) return notFoundVersion();
      marker = page.next_marker;
      vmarker = page.next_version_marker;
    }
  }
  if (!/^\d{1,20}$/.test(versionId)) throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
  try {
    return await r.storage.objectHead(bucket, key, versionId);
  } catch (e) {
    if (isNotFound(e) && (e as { code?: string }).code === 'CONTENT_NOT_FOUND') return notFoundVersion();
    throw e;
  }
}

async function versionedEver(r: S3Scope, bucket: string): Promise<boolean> {
  return versioningOf(await bucketInfo(r, bucket)) !== undefined;
}

function notFoundVersion(): never {
  throw new S3Error('NoSuchVersion', 'The specified version does not exist.');
}

/** User metadata and stored standard headers from request headers; MetadataTooLarge. */
export function metadataFromHeaders(r: S3Request): { mime: string | undefined; properties: Record<string, string> } {
  const properties = metadataOf(Object.entries(r.req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(',') : v] as [string, string]])));
  const mime = r.header('content-type');
  if (mime !== undefined) properties[PROP.contentType] = mime;
  return { mime, properties };
}

/** User metadata and stored standard headers among lower-case name/value pairs (headers, form fields); MetadataTooLarge. */
export function metadataOf(pairs: Iterable<[string, string]>): Record<string, string> {
  const properties: Record<string, string> = {};
  let metaBytes = 0;
  for (const [k, value] of pairs) {
    if (k.startsWith('x-amz-meta-')) {
      properties[k] = value;
      metaBytes += k.length - 11 + Buffer.byteLength(value);
    } else if ((STORED_HEADERS as readonly string[]).includes(k)) {
      if (k === 'x-amz-website-redirect-location' && !/^(\/|https?:\/\/)/.test(value)) {
        throw new S3Error('InvalidRedirectLocation', 'The website redirect location must have a prefix of \'http://\' or \'https://\' or \'/\'.');
      }
      if (k === 'content-encoding') {
        // aws-chunked names the framing of this request's body, not an encoding of the object.
        const kept = value.split(',').map((e) => e.trim()).filter((e) => e !== '' && e.toLowerCase() !== 'aws-chunked').join(', ');
        if (kept !== '') properties[k] = kept;
        continue;
      }
      properties[k] = value;
    }
  }
  if (metaBytes > MAX_META_BYTES) throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.');
  return properties;
}

/** Storage classes a PUT may name (all stored alike). */
export const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING'];

/** Response headers of an object (metadata, standard headers, ETag, dates, version). */
export function objectHeaders(c: ContentInfo, versioned: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': contentTypeOf(c),
    etag: etagOf(c),
    'last-modified': httpDate(c.mtime),
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(c.properties)) {
    if (k.startsWith('x-amz-meta-') || (STORED_HEADERS as readonly string[]).includes(k)) h[k] = v;
  }
  if (versioned) h['x-amz-version-id'] = versionIdOf(c);
  const tags = c.properties[PROP.tagging];
  if (tags) h['x-amz-tagging-count'] = String(new URLSearchParams(tags).size);
  if (c.properties[PROP.partsCount]) h['x-amz-mp-parts-count'] = c.properties[PROP.partsCount]!;
  if (c.properties[PROP.storageClass]) h['x-amz-storage-class'] = c.properties[PROP.storageClass]!;
  return h;
}

/** The storage class of an object as listings and GetObjectAttributes give it. */
export const storageClassOf = (c: ContentInfo): string => c.properties[PROP.storageClass] ?? 'STANDARD';

/**
 * The storage class a write asks for (header or form field): the property that keeps it (none
 * for STANDARD) and the storage policy it maps to (undefined: the bucket's); InvalidStorageClass.
 */
export function storageClassFor(gw: GatewayState, asked: string | undefined): { props: Record<string, string>; policy: string | undefined } {
  if (asked === undefined || asked === 'STANDARD') return { props: {}, policy: undefined };
  if (!STORAGE_CLASSES.includes(asked)) throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', { StorageClassRequested: asked });
  return { props: { [PROP.storageClass]: asked }, policy: gw.storageClasses[asked] || undefined };
}

/** Validates s3.storage_classes: known classes mapped to policy names. */
export function checkStorageClasses(map: Record<string, string>): Record<string, string> {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error('s3.storage_classes must be an object: {"CLASS": "POLICY", ...}');
  for (const [k, v] of Object.entries(map)) {
    if (!STORAGE_CLASSES.includes(k) || k === 'STANDARD') throw new Error(`s3.storage_classes: ${k} is not a storage class to map (${STORAGE_CLASSES.filter((c) => c !== 'STANDARD').join(', ')}; STANDARD is the bucket's policy)`);
    if (typeof v !== 'string') throw new Error(`s3.storage_classes: the policy of ${k} must be a string`);
  }
  return map;
}

/** The property that keeps a verified or computed checksum with an object (none: nothing). */
export function checksumProps(sum: { algorithm: string; value: string } | undefined): Record<string, string> {
  return sum ? { [`${PROP.checksum}${sum.algorithm}`]: sum.value } : {};
}

/** The stored checksum headers of an object (sent when asked with x-amz-checksum-mode: ENABLED). */
export function checksumHeaders(c: ContentInfo): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.properties)) if (k.startsWith(PROP.checksum)) h[`x-amz-checksum-${k.slice(PROP.checksum.length)}`] = v;
  if (Object.keys(h).length > 0) h['x-amz-checksum-type'] = c.properties[PROP.checksumType] ?? 'FULL_OBJECT';
  return h;
}

/** Validates a tag set (at most `max` tags, key 1-128, value 0-256, unique keys); InvalidTag. */
export function checkTags(tags: Array<[string, string]>, max = 10): void {
  if (tags.length > max) throw new S3Error('InvalidTag', `Object tags cannot be greater than ${max}`);
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k.length < 1 || k.length > 128 || v.length > 256) throw new S3Error('InvalidTag', 'The TagKey or TagValue you have provided is too long or too short');
    if (seen.has(k)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(k);
  }
}

/** Parses an x-amz-tagging header (URL query form). */
export function tagsFromHeader(v: string): Array<[string, string]> {
  const tags: Array<[string, string]> = [...new URLSearchParams(v).entries()];
  checkTags(tags);
  return tags;
}

export function encodeTags(tags: Array<[string, string]>): string {
  return new URLSearchParams(tags).toString();
}
