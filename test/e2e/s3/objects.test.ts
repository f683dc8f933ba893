/**
 * End-to-end, @aws-sdk/client-s3: object, version and multipart behaviour S3 clients rely on:
 * the write that completes last is the current one, delete markers as HEAD/GET and
 * DeleteObjects tell them, multipart completion answered twice, parts read by number.
 */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, GetBucketTaggingCommand, GetObjectTaggingCommand, PutBucketTaggingCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand,
  PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bodyOf, bucketName, rejects, startS3Node } from './s3-env';
import { chunkedPut, signedRequest } from './sigv4-client';

const KiB = 1024;

describe('e2e: S3 objects, versions and multipart uploads (@aws-sdk/client-s3)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;

  before(async () => {
    s3n = await startS3Node();
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  async function newBucket(versioning?: 'Enabled' | 'Suspended'): Promise<string> {
    const b = bucketName('obj');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    if (versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: versioning } }));
    return b;
  }

  /**
   * Two PUTs of one key that overlap: the first begins, the second begins and completes, then
   * the first completes. Resolves with what a GET then reads.
   */
  async function overlappingPuts(b: string, key: string): Promise<{ first: string; second: string; read: string }> {
    const first = 'A'.repeat(256 * KiB);
    const second = 'B'.repeat(256 * KiB);
    const slow = new PassThrough();
    const firstPut = s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: slow, ContentLength: first.length }));
    slow.write(first.slice(0, 128 * KiB));
    // The first upload is under way (its version chosen) before the second one begins.
    await new Promise((res) => setTimeout(res, 300));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: second }));
    slow.end(first.slice(128 * KiB));
    await firstPut;
    const read = (await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: key })))).toString();
    return { first, second, read };
  }

  it('keeps the PUT that completes last, not the one that began last', async () => {
    const b = await newBucket();
    const { first, read } = await overlappingPuts(b, 'race');
    assert.equal(read.length, first.length);
    assert.ok(read === first, 'the PUT completed last is the object');
  });

  it('orders the versions of overlapping PUTs by completion in a versioned bucket', async () => {
    const b = await newBucket('Enabled');
    const { first, read } = await overlappingPuts(b, 'race');
    assert.ok(read === first, 'the PUT completed last is the current version');
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(v.Versions?.length, 2);
    assert.equal(v.Versions?.[0]?.IsLatest, true);
    assert.equal(v.Versions?.[0]?.Size, first.length);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'race' }));
    assert.equal(head.VersionId, v.Versions?.[0]?.VersionId);
  });

  /** The x-amz-delete-marker header of a HEAD and of a GET of `key` (raw: the SDK hides the headers of a 404). */
  async function markerHeaders(b: string, key: string): Promise<Array<{ status: number; marker: unknown; version: unknown }>> {
    const creds = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
    return Promise.all(['HEAD', 'GET'].map(async (method) => {
      const res = await signedRequest(creds, s3n.host, { method, path: `/${b}/${key}` });
      return { status: res.status, marker: res.headers['x-amz-delete-marker'], version: res.headers['x-amz-version-id'] };
    }));
  }

  it('tells on HEAD and GET of a key whether its current version is a delete marker', async () => {
    const plain = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: plain, Key: 'k' }));
    for (const h of await markerHeaders(plain, 'k')) assert.deepEqual(h, { status: 404, marker: 'false', version: undefined });
    for (const state of ['Enabled', 'Suspended'] as const) {
      const b = await newBucket('Enabled');
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
      if (state === 'Suspended') await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
      const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
      assert.equal(del.DeleteMarker, true);
      for (const h of await markerHeaders(b, 'k')) assert.deepEqual(h, { status: 404, marker: 'true', version: del.VersionId });
    }
  });

  it('stacks delete markers and makes one for a key that does not exist (versioned)', async () => {
    const b = await newBucket('Enabled');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    for (let i = 0; i < 3; i++) assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).DeleteMarker, true);
    const multi = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'absent' }] } }));
    assert.equal(multi.Deleted?.[0]?.DeleteMarker, true);
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(v.Versions?.length, 1);
    assert.deepEqual(v.DeleteMarkers?.map((m) => m.Key), ['absent', 'k', 'k', 'k']);
    assert.equal(v.DeleteMarkers?.[0]?.VersionId, multi.Deleted?.[0]?.DeleteMarkerVersionId);
  });

  it('suspends versioning of a bucket that never had it (GetBucketVersioning says so)', async () => {
    const b = await newBucket();
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    assert.equal(put.VersionId, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).VersionId, 'null');
  });

  it('answers a CompleteMultipartUpload sent again as the first one while its object is current', async () => {
    for (const versioning of [undefined, 'Enabled'] as const) {
      const b = await newBucket(versioning);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
      const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId, PartNumber: 1, Body: 'x' }));
      const complete = () => s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      const first = await complete();
      const again = await complete();
      assert.equal(again.ETag, first.ETag);
      assert.equal(again.VersionId, first.VersionId);
      assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp' })))).toString(), 'x');
      // Once another object replaced it, the upload is gone.
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'mp', Body: 'y' }));
      await rejects(complete(), 'NoSuchUpload', 404);
    }
  });

  it('creates a bucket it owns again with success in us-east-1, keeping its objects', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString(), 'x');
  });

  it('does not keep aws-chunked (the framing of a request body) as the Content-Encoding of an object', async () => {
    const b = await newBucket();
    const creds = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
    assert.equal((await chunkedPut(creds, s3n.host, `/${b}/chunked`, Buffer.from('data'), 2)).status, 200);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'chunked' }))).ContentEncoding, undefined);
    const put = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/gz`, headers: { 'content-encoding': 'gzip, aws-chunked' }, body: 'data' });
    assert.equal(put.status, 200);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'gz' }))).ContentEncoding, 'gzip');
  });

  it('lists: v1 echoes its Prefix unencoded with encoding-type=url (v2 encodes it); an empty continuation token starts at the beginning', async () => {
    const b = await newBucket();
    for (const k of ['a b/1', 'a b/2']) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }));
    const creds = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
    const v1 = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}`, query: { prefix: 'a b', 'encoding-type': 'url' } });
    assert.match(v1.body, /<Prefix>a b<\/Prefix>/);
    assert.match(v1.body, /<Key>a%20b\/1<\/Key>/);
    const v2 = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}`, query: { 'list-type': '2', prefix: 'a b', 'encoding-type': 'url' } });
    assert.match(v2.body, /<Prefix>a%20b<\/Prefix>/);
    const empty = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}`, query: { 'list-type': '2', 'continuation-token': '' } });
    assert.equal(empty.status, 200, empty.body);
    assert.match(empty.body, /<ContinuationToken><\/ContinuationToken>|<ContinuationToken\/>/);
    assert.equal((empty.body.match(/<Contents>/g) ?? []).length, 2);
  });

  it('writes conditionally on ETags: If-None-Match with ETags refuses the current one, If-Match: * needs an object', async () => {
    const b = await newBucket('Enabled');
    const first = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '1', IfNoneMatch: '*' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '2' }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '3', IfNoneMatch: second.ETag })), 'PreconditionFailed', 412);
    // Only the current object counts: an older version's ETag does not stop the write.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '3', IfNoneMatch: first.ETag }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '4', IfMatch: first.ETag })), 'PreconditionFailed', 412);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '4', IfMatch: '*' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'c' }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '5', IfMatch: '*' })), 'NoSuchKey', 404);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: '5', IfNoneMatch: second.ETag }));
  });

  it('gives object and bucket tag sets by key, whatever the order they were written in', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: 'x', Tagging: 'foo=bar&bar' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't' }))).TagSet, [{ Key: 'bar', Value: '' }, { Key: 'foo', Value: 'bar' }]);
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'z', Value: '1' }, { Key: 'a', Value: '2' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, [{ Key: 'a', Value: '2' }, { Key: 'z', Value: '1' }]);
  });
});
