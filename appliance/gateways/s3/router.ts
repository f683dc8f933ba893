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
import * as l from './listing';
import * as m from './multipart';
import * as o from './object';

/** Where a request points. */
export interface Target { bucket: string | undefined; key: string | undefined }

function decodePart(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.'); }
}

/** Bucket and key of a request from its raw path and Host header. */
export function targetOf(rawPath: string, host: string | undefined, domains: readonly string[]): Target {
  const h = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  for (const d of domains) {
    if (h.endsWith(`.${d}`) && h.length > d.length + 1) {
      const bucket = h.slice(0, h.length - d.length - 1);
      const key = rawPath.length > 1 ? decodePart(rawPath.slice(1)) : undefined;
      return { bucket, key };
    }
  }
  const p = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (p === '') return { bucket: undefined, key: undefined };
  const i = p.indexOf('/');
  if (i < 0) return { bucket: decodePart(p), key: undefined };
  const key = p.slice(i + 1);
  return { bucket: decodePart(p.slice(0, i)), key: key === '' ? undefined : decodePart(key) };
}

const BUCKET_UNSUPPORTED = ['policy', 'lifecycle', 'encryption', 'website', 'logging', 'notification', 'replication', 'object-lock', 'ownershipControls',
  'accelerate', 'requestPayment', 'inventory', 'metrics', 'analytics', 'intelligent-tiering', 'publicAccessBlock', 'policyStatus'];
const OBJECT_UNSUPPORTED = ['retention', 'legal-hold', 'torrent', 'select', 'restore', 'attributes'];

const notImplemented = (what: string): never => { throw new S3Error('NotImplemented', `${what} is not implemented`); };
const methodNotAllowed = (): never => { throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.'); };

/** Runs the operation a request names; returns its name for the access log. */
export async function dispatch(r: S3Request): Promise<string> {
  const method = r.req.method ?? 'GET';
  const q = r.query;
  if (r.bucket === undefined) {
    if (method === 'GET') { await b.listBuckets(r); return 'ListBuckets'; }
    return methodNotAllowed();
  }
  checkBucketName(r.bucket);
  if (r.key === undefined) {
    for (const s of BUCKET_UNSUPPORTED) if (q.has(s)) return notImplemented(`bucket ${s}`);
    switch (method) {
      case 'GET':
        if (q.has('location')) { await b.getBucketLocation(r); return 'GetBucketLocation'; }
        if (q.has('versioning')) { await b.getBucketVersioning(r); return 'GetBucketVersioning'; }
        if (q.has('tagging')) { await b.getBucketTagging(r); return 'GetBucketTagging'; }
        if (q.has('cors')) { await b.getBucketCors(r); return 'GetBucketCors'; }
        if (q.has('acl')) { await b.getBucketAcl(r); return 'GetBucketAcl'; }
        if (q.has('uploads')) { await m.listMultipartUploads(r); return 'ListMultipartUploads'; }
        if (q.has('versions')) { await l.listObjectVersions(r); return 'ListObjectVersions'; }
        if (q.get('list-type') === '2') { await l.listObjectsV2(r); return 'ListObjectsV2'; }
        if (q.has('list-type')) throw new S3Error('InvalidArgument', 'Invalid List Type specified in Request', { ArgumentName: 'list-type' });
        await l.listObjectsV1(r); return 'ListObjects';
      case 'HEAD': await b.headBucket(r); return 'HeadBucket';
      case 'PUT':
        if (q.has('versioning')) { await b.putBucketVersioning(r); return 'PutBucketVersioning'; }
        if (q.has('tagging')) { await b.putBucketTagging(r); return 'PutBucketTagging'; }
        if (q.has('cors')) { await b.putBucketCors(r); return 'PutBucketCors'; }
        if (q.has('acl')) { await b.putAcl(r); return 'PutBucketAcl'; }
        await b.createBucket(r); return 'CreateBucket';
      case 'DELETE':
        if (q.has('tagging')) { await b.deleteBucketTagging(r); return 'DeleteBucketTagging'; }
        if (q.has('cors')) { await b.deleteBucketCors(r); return 'DeleteBucketCors'; }
        await b.deleteBucket(r); return 'DeleteBucket';
      case 'POST':
        if (q.has('delete')) { await o.deleteObjects(r); return 'DeleteObjects'; }
        return notImplemented('POST object (browser form upload)');
      default: return methodNotAllowed();
    }
  }
  checkKey(r.key);
  for (const s of OBJECT_UNSUPPORTED) if (q.has(s)) return notImplemented(`object ${s}`);
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) { await m.listParts(r); return 'ListParts'; }
      if (q.has('tagging')) { await o.getObjectTagging(r); return 'GetObjectTagging'; }
      if (q.has('acl')) { await o.getObjectAcl(r); return 'GetObjectAcl'; }
      await o.getObject(r, false); return 'GetObject';
    case 'HEAD': await o.getObject(r, true); return 'HeadObject';
    case 'PUT':
      if (q.has('uploadId')) { await m.uploadPart(r); return r.header('x-amz-copy-source') ? 'UploadPartCopy' : 'UploadPart'; }
      if (q.has('tagging')) { await o.putObjectTagging(r); return 'PutObjectTagging'; }
      if (q.has('acl')) { await b.putAcl(r); return 'PutObjectAcl'; }
      if (r.header('x-amz-copy-source') !== undefined) { await o.copyObject(r); return 'CopyObject'; }
      await o.putObject(r); return 'PutObject';
    case 'DELETE':
      if (q.has('uploadId')) { await m.abortMultipartUpload(r); return 'AbortMultipartUpload'; }
      if (q.has('tagging')) { await o.deleteObjectTagging(r); return 'DeleteObjectTagging'; }
      await o.deleteObject(r); return 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) { await m.createMultipartUpload(r); return 'CreateMultipartUpload'; }
      if (q.has('uploadId')) { await m.completeMultipartUpload(r); return 'CompleteMultipartUpload'; }
      return methodNotAllowed();
    default: return methodNotAllowed();
  }
}
