/**
 * @module gateways/s3/router
 * Turns an HTTP request into an S3 operation: bucket and key from the path (path style) or
 * the Host header (virtual-hosted style, `<bucket>.<domain>`), then method + sub-resource to a
 * handler. Sub-resources the gateway does not implement answer NotImplemented, never a
 * silently wrong answer.
 */
import * as b from './bucket';
import { S3Request, checkBucketName, checkKey } from './context';
import { S3Error } from './errors';
import * as lc from './lifecycle';
import * as l from './listing';
import * as m from './multipart';
import * as o from './object';
import * as ol from './object-lock';
import * as pol from './policy';
import * as lg from './logging';
import { authorize } from './access';
import { checkEncryptionHeaders } from './sse';

/** Where a request points. */
export interface Target { bucket: string | undefined; key: string | undefined }

function decodePart(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.'); }
}

/** The bucket a Host header names (virtual-hosted style, `<bucket>.<domain>`), if any. */
export function hostBucketOf(host: string | undefined, domains: readonly string[]): string | undefined {
  const h = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  const d = domains.find((x) => h.endsWith(`.${x}`) && h.length > x.length + 1);
  return d === undefined ? undefined : h.slice(0, h.length - d.length - 1);
}

/** Bucket and key of a request from its raw path and Host header. */
export function targetOf(rawPath: string, host: string | undefined, domains: readonly string[]): Target {
  const bucket = hostBucketOf(host, domains);
  if (bucket !== undefined) return { bucket, key: rawPath.length > 1 ? decodePart(rawPath.slice(1)) : undefined };
  const p = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (p === '') return { bucket: undefined, key: undefined };
  const i = p.indexOf('/');
  if (i < 0) return { bucket: decodePart(p), key: undefined };
  const key = p.slice(i + 1);
  return { bucket: decodePart(p.slice(0, i)), key: key === '' ? undefined : decodePart(key) };
}

const BUCKET_UNSUPPORTED = ['website', 'notification', 'replication',
  'accelerate', 'requestPayment', 'inventory', 'metrics', 'analytics', 'intelligent-tiering'];
const OBJECT_UNSUPPORTED = ['torrent', 'select', 'restore'];

const notImplemented = (what: string): never => { throw new S3Error('NotImplemented', `${what} is not implemented`); };
const methodNotAllowed = (): never => { throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.'); };

async function run(r: S3Request, op: string, fn: () => Promise<void>): Promise<string> {
  r.op = op;
  await authorize(r, op);
  await fn();
  return op;
}

/**
 * x-amz-expected-bucket-owner: a bucket of another owner is AccessDenied as in S3 (the copy
 * source's, x-amz-source-expected-bucket-owner, is checked once that owner is known: access.ts).
 */
function checkOwnership(r: S3Request): void {
  const owner = r.header('x-amz-expected-bucket-owner');
  if (owner !== undefined && owner.trim() !== r.storage.account) throw new S3Error('AccessDenied', 'Access Denied');
}

/** Runs the operation a request names (its name is set on `r.op` first, for the access log). */
export async function dispatch(r: S3Request): Promise<string> {
  const method = r.req.method ?? 'GET';
  const q = r.query;
  if (r.bucket === undefined) {
    if (method === 'GET') return run(r, 'ListBuckets', () => b.listBuckets(r));
    return methodNotAllowed();
  }
  checkBucketName(r.bucket);
  checkOwnership(r);
  await b.corsHeaders(r);
  if (r.key === undefined) {
    for (const s of BUCKET_UNSUPPORTED) {
      if (!q.has(s)) continue;
      // GetBucketPolicy, DeleteBucketObjectLock, ... (for the access log)
      const op = `${method[0]}${method.slice(1).toLowerCase()}Bucket${s.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`;
      return run(r, op, async () => { if (!(await b.unconfigured(r, s, method))) notImplemented(`bucket ${s}`); });
    }
    switch (method) {
      case 'GET':
        if (q.has('location')) return run(r, 'GetBucketLocation', () => b.getBucketLocation(r));
        if (q.has('versioning')) return run(r, 'GetBucketVersioning', () => b.getBucketVersioning(r));
        if (q.has('tagging')) return run(r, 'GetBucketTagging', () => b.getBucketTagging(r));
        if (q.has('cors')) return run(r, 'GetBucketCors', () => b.getBucketCors(r));
        if (q.has('lifecycle')) return run(r, 'GetBucketLifecycleConfiguration', () => lc.getBucketLifecycle(r));
        if (q.has('ownershipControls')) return run(r, 'GetBucketOwnershipControls', () => b.getOwnershipControls(r));
        if (q.has('object-lock')) return run(r, 'GetObjectLockConfiguration', () => ol.getObjectLockConfiguration(r));
        if (q.has('encryption')) return run(r, 'GetBucketEncryption', () => b.getBucketEncryption(r));
        if (q.has('policy')) return run(r, 'GetBucketPolicy', () => pol.getBucketPolicy(r));
        if (q.has('policyStatus')) return run(r, 'GetBucketPolicyStatus', () => pol.getBucketPolicyStatus(r));
        if (q.has('logging')) return run(r, 'GetBucketLogging', () => lg.getBucketLogging(r));
        if (q.has('publicAccessBlock')) return run(r, 'GetPublicAccessBlock', () => b.getPublicAccessBlock(r));
        if (q.has('acl')) return run(r, 'GetBucketAcl', () => b.getBucketAcl(r));
        if (q.has('uploads')) return run(r, 'ListMultipartUploads', () => m.listMultipartUploads(r));
        if (q.has('versions')) return run(r, 'ListObjectVersions', () => l.listObjectVersions(r));
        if (q.get('list-type') === '2') return run(r, 'ListObjectsV2', () => l.listObjectsV2(r));
        if (q.has('list-type')) throw new S3Error('InvalidArgument', 'Invalid List Type specified in Request', { ArgumentName: 'list-type' });
        return run(r, 'ListObjects', () => l.listObjectsV1(r));
      case 'HEAD': return run(r, 'HeadBucket', () => b.headBucket(r));
      case 'PUT':
        if (q.has('versioning')) return run(r, 'PutBucketVersioning', () => b.putBucketVersioning(r));
        if (q.has('tagging')) return run(r, 'PutBucketTagging', () => b.putBucketTagging(r));
        if (q.has('cors')) return run(r, 'PutBucketCors', () => b.putBucketCors(r));
        if (q.has('lifecycle')) return run(r, 'PutBucketLifecycleConfiguration', () => lc.putBucketLifecycle(r));
        if (q.has('ownershipControls')) return run(r, 'PutBucketOwnershipControls', () => b.putOwnershipControls(r));
        if (q.has('object-lock')) return run(r, 'PutObjectLockConfiguration', () => ol.putObjectLockConfiguration(r));
        if (q.has('encryption')) return run(r, 'PutBucketEncryption', () => b.putBucketEncryption(r));
        if (q.has('policy')) return run(r, 'PutBucketPolicy', () => pol.putBucketPolicy(r));
        if (q.has('logging')) return run(r, 'PutBucketLogging', () => lg.putBucketLogging(r));
        if (q.has('publicAccessBlock')) return run(r, 'PutPublicAccessBlock', () => b.putPublicAccessBlock(r));
        if (q.has('acl')) return run(r, 'PutBucketAcl', () => b.putAcl(r));
        return run(r, 'CreateBucket', () => b.createBucket(r));
      case 'DELETE':
        if (q.has('tagging')) return run(r, 'DeleteBucketTagging', () => b.deleteBucketSetting(r, 'tagging'));
        if (q.has('cors')) return run(r, 'DeleteBucketCors', () => b.deleteBucketSetting(r, 'cors'));
        if (q.has('lifecycle')) return run(r, 'DeleteBucketLifecycle', () => b.deleteBucketSetting(r, 'lifecycle'));
        if (q.has('ownershipControls')) return run(r, 'DeleteBucketOwnershipControls', () => b.deleteBucketSetting(r, 'ownership'));
        if (q.has('publicAccessBlock')) return run(r, 'DeletePublicAccessBlock', () => b.deleteBucketSetting(r, 'publicAccessBlock'));
        if (q.has('encryption')) return run(r, 'DeleteBucketEncryption', () => b.deleteBucketSetting(r, 'encryption'));
        if (q.has('policy')) return run(r, 'DeleteBucketPolicy', () => b.deleteBucketSetting(r, 'policy'));
        return run(r, 'DeleteBucket', () => b.deleteBucket(r));
      case 'POST':
        if (q.has('delete')) return run(r, 'DeleteObjects', () => o.deleteObjects(r));
        // A browser form upload (multipart/form-data, no signature) is served before routing
        // (post-object.ts); a signed POST to the bucket is not an S3 operation.
        return methodNotAllowed();
      default: return methodNotAllowed();
    }
  }
  checkKey(r.key);
  for (const s of OBJECT_UNSUPPORTED) if (q.has(s)) return notImplemented(`object ${s}`);
  // A write that sets an ACL (not the bucket owner's full control) where ACLs are disabled.
  const acl = r.header('x-amz-acl');
  const setsAcl = (acl !== undefined && acl !== 'bucket-owner-full-control') || Object.keys(r.req.headers).some((h) => h.startsWith('x-amz-grant-'));
  if (setsAcl && (method === 'PUT' || method === 'POST')) await b.checkAclsEnabled(r);
  // Conflicting or misplaced encryption headers are InvalidArgument once the bucket policy had
  // its say, before the operation (and before SSE-KMS is found NotImplemented, in sse.ts).
  const read = (fn: () => Promise<void>) => async () => { checkEncryptionHeaders(r, false); await fn(); };
  const write = (fn: () => Promise<void>) => async () => { checkEncryptionHeaders(r, true); await fn(); };
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return run(r, 'ListParts', () => m.listParts(r));
      if (q.has('tagging')) return run(r, 'GetObjectTagging', () => o.getObjectTagging(r));
      if (q.has('acl')) return run(r, 'GetObjectAcl', () => b.getObjectAcl(r));
      if (q.has('attributes')) return run(r, 'GetObjectAttributes', () => o.getObjectAttributes(r));
      if (q.has('retention')) return run(r, 'GetObjectRetention', () => ol.getObjectRetention(r));
      if (q.has('legal-hold')) return run(r, 'GetObjectLegalHold', () => ol.getObjectLegalHold(r));
      return run(r, 'GetObject', read(() => o.getObject(r, false)));
    case 'HEAD': return run(r, 'HeadObject', read(() => o.getObject(r, true)));
    case 'PUT':
      if (q.has('uploadId')) return run(r, r.header('x-amz-copy-source') ? 'UploadPartCopy' : 'UploadPart', () => m.uploadPart(r));
      if (q.has('tagging')) return run(r, 'PutObjectTagging', () => o.putObjectTagging(r));
      if (q.has('acl')) return run(r, 'PutObjectAcl', () => b.putAcl(r));
      if (q.has('retention')) return run(r, 'PutObjectRetention', () => ol.putObjectRetention(r));
      if (q.has('legal-hold')) return run(r, 'PutObjectLegalHold', () => ol.putObjectLegalHold(r));
      if (r.header('x-amz-copy-source') !== undefined) return run(r, 'CopyObject', write(() => o.copyObject(r)));
      return run(r, 'PutObject', write(() => o.putObject(r)));
    case 'DELETE':
      if (q.has('uploadId')) return run(r, 'AbortMultipartUpload', () => m.abortMultipartUpload(r));
      if (q.has('tagging')) return run(r, 'DeleteObjectTagging', () => o.deleteObjectTagging(r));
      return run(r, 'DeleteObject', () => o.deleteObject(r));
    case 'POST':
      if (q.has('uploads')) return run(r, 'CreateMultipartUpload', write(() => m.createMultipartUpload(r)));
      if (q.has('uploadId')) return run(r, 'CompleteMultipartUpload', () => m.completeMultipartUpload(r));
      return methodNotAllowed();
    default: return methodNotAllowed();
  }
}
