/**
 * End-to-end: @aws-sdk/client-s3 against a real node's S3 gateway (path style), plus raw
 * signed requests for what the SDK does not send (malformed XML, truncated bodies, signed
 * aws-chunked bodies, presigned URLs, skewed clocks).
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetBucketCorsCommand, GetBucketEncryptionCommand, GetBucketLifecycleConfigurationCommand, GetBucketLocationCommand, GetBucketTaggingCommand, GetBucketVersioningCommand, GetObjectCommand,
  GetObjectAttributesCommand, GetObjectTaggingCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, ListObjectsCommand,
  ListObjectsV2Command, ListPartsCommand, PutBucketCorsCommand, PutBucketTaggingCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectTaggingCommand,
  S3Client, UploadPartCommand, UploadPartCopyCommand,
  DeleteBucketEncryptionCommand, DeleteBucketLifecycleCommand, DeleteBucketPolicyCommand, DeletePublicAccessBlockCommand, GetBucketAccelerateConfigurationCommand,
  GetBucketInventoryConfigurationCommand, GetBucketLoggingCommand, GetBucketNotificationConfigurationCommand, GetBucketOwnershipControlsCommand, GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand, GetBucketReplicationCommand, GetBucketRequestPaymentCommand, GetBucketWebsiteCommand, GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand, ListBucketInventoryConfigurationsCommand, ListBucketMetricsConfigurationsCommand, PutBucketEncryptionCommand,
  PutBucketAclCommand, PutBucketPolicyCommand, PutBucketLoggingCommand, PutPublicAccessBlockCommand, PutBucketOwnershipControlsCommand, DeleteBucketOwnershipControlsCommand,
} from '@aws-sdk/client-s3';
import { rawxStat } from '../../../appliance/client/remote';
import { chunkFilePath } from '../../../appliance/common';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bodyOf, bucketName, rejects, startS3Node } from './s3-env';
import { chunkedPut, presign, signedRequest } from './sigv4-client';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('e2e: S3 gateway with @aws-sdk/client-s3', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;
  const creds = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

  before(async () => {
    s3n = await startS3Node({ 'ns.chunk_size': '4MiB', 's3.storage_classes': { STANDARD_IA: 'TWOCOPIES' }, 's3.log_delivery_interval': '300ms' });
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  async function newBucket(prefix = 'sdk'): Promise<string> {
    const b = bucketName(prefix);
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    return b;
  }

  it('creates, heads, lists and deletes buckets with their S3 errors', async () => {
    const b = await newBucket();
    await s3.send(new HeadBucketCommand({ Bucket: b }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((x) => x.Name === b), 'a new bucket is listed at once');
    // us-east-1: creating a bucket one owns again succeeds (BucketAlreadyOwnedByYou elsewhere).
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await rejects(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
    // Paged with max-buckets and continuation-token, within a prefix.
    const prefix = bucketName('page');
    for (const n of [1, 2, 3]) await s3.send(new CreateBucketCommand({ Bucket: `${prefix}-${n}` }));
    const first = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2 }));
    assert.deepEqual(first.Buckets?.map((x) => x.Name), [`${prefix}-1`, `${prefix}-2`]);
    assert.equal(first.Prefix, prefix);
    assert.ok(first.ContinuationToken);
    const second = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    assert.deepEqual(second.Buckets?.map((x) => x.Name), [`${prefix}-3`]);
    assert.equal(second.ContinuationToken, undefined);
    assert.equal((await s3.send(new ListBucketsCommand({ Prefix: prefix }))).Buckets?.length, 3);
    await rejects(s3.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400);
    await rejects(s3.send(new ListBucketsCommand({ ContinuationToken: '!!' })), 'InvalidArgument', 400);
    for (const n of [1, 2, 3]) await s3.send(new DeleteBucketCommand({ Bucket: `${prefix}-${n}` }));
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: b }));
    assert.ok(!loc.LocationConstraint);
    // CreationDate stays when objects come (the account's usage of the bucket changes).
    const created = list.Buckets?.find((x) => x.Name === b)?.CreationDate?.getTime();
    await new Promise((r) => setTimeout(r, 1100));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' }));
    const lib = s3n.node.client('default');
    for (let i = 0; i < 100 && (await lib.containerList({ prefix: b })).containers.find((x) => x.name === b)?.objects !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await lib.containerList({ prefix: b })).containers.find((x) => x.name === b)?.objects, 1);
    assert.equal((await s3.send(new ListBucketsCommand({}))).Buckets?.find((x) => x.Name === b)?.CreationDate?.getTime(), created);
    await rejects(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    assert.ok(!(await s3.send(new ListBucketsCommand({}))).Buckets?.some((x) => x.Name === b), 'a deleted bucket is gone at once');
    await rejects(s3.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
    await rejects(s3.send(new ListObjectsV2Command({ Bucket: b })), 'NoSuchBucket', 404);
  });

  it('puts, gets, heads and deletes objects with metadata and standard headers; ETag is the MD5', async () => {
    const b = await newBucket();
    const data = randomBytes(100_000);
    const put = await s3.send(new PutObjectCommand({
      Bucket: b, Key: 'dir/obj é.bin', Body: data, Metadata: { color: 'blue' }, ContentType: 'image/png', ContentEncoding: 'identity',
      ContentDisposition: 'attachment; filename="a.png"', CacheControl: 'max-age=60', Expires: new Date('2030-01-01T00:00:00Z'),
    }));
    assert.equal(put.ETag, `"${md5(data)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dir/obj é.bin' }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, 'image/png');
    assert.equal(head.ContentDisposition, 'attachment; filename="a.png"');
    assert.equal(head.CacheControl, 'max-age=60');
    assert.equal(head.ContentEncoding, 'identity');
    assert.equal(head.Metadata?.color, 'blue');
    assert.equal(head.ETag, put.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dir/obj é.bin' }));
    assert.ok((await bodyOf(got)).equals(data));
    // A streamed body of unknown length to the SDK goes as aws-chunked with a CRC32 trailer.
    const streamed = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'streamed', Body: Readable.from([data.subarray(0, 60_000), data.subarray(60_000)]), ContentLength: data.length }));
    assert.equal(streamed.ETag, `"${md5(data)}"`);
    assert.ok(streamed.ChecksumCRC32, 'the SDK sent a CRC32 the gateway verified');
    const withSum = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'streamed', ChecksumMode: 'ENABLED' }));
    assert.equal(withSum.ChecksumCRC32, streamed.ChecksumCRC32);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'streamed' })))).equals(data));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dir/obj é.bin' }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'dir/obj é.bin' })), 'NoSuchKey', 404);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'never-was' }));
  });

  it('reads the node\'s chunks from the rawx files (node.local_reads), and fails over when a local file is gone', async () => {
    const b = await newBucket();
    const data = randomBytes(9 * MiB + 5);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'two', Body: data, StorageClass: 'STANDARD_IA' }));
    const rawx = [0, 1].map((i) => ({ addr: `${s3n.node.ip}:${6200 + i}`, volume: path.join(s3n.node.dataDir, 'volumes', `rawx-${i}`) }));
    const gets = async () => (await Promise.all(rawx.map((r) => rawxStat(r.addr)))).reduce((n, st) => n + st.gets!, 0);
    const before = await gets();
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'two' })))).equals(data));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'two', Range: 'bytes=4194000-8388999' })))).equals(data.subarray(4194000, 8389000)));
    assert.equal(await gets(), before, 'no chunk GET reached a rawx');
    // One replica of each of the 3 metachunks removed from its volume: the read asks that rawx
    // (404, which its GET counter does not count) and goes on with the other replica.
    const content = await s3n.node.client('default').objectHead(b, 'two');
    const removed = new Set<string>();
    for (const c of content.chunks) {
      if (removed.has(c.pos)) continue;
      const u = new URL(c.url);
      const r = rawx.find((x) => x.addr === u.host)!;
      fs.rmSync(chunkFilePath(r.volume, u.pathname.slice(1)));
      removed.add(c.pos);
    }
    assert.equal(removed.size, 3);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'two' })))).equals(data));
  });

  it('answers ranges (single, suffix, open-ended) and 416 InvalidRange', async () => {
    const b = await newBucket();
    const data = randomBytes(10 * MiB); // 3 metachunks of 4 MiB
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: data }));
    const get = async (range: string) => s3.send(new GetObjectCommand({ Bucket: b, Key: 'r', Range: range }));
    const one = await get(`bytes=${4 * MiB - 10}-${4 * MiB + 9}`);
    assert.equal(one.ContentRange, `bytes ${4 * MiB - 10}-${4 * MiB + 9}/${data.length}`);
    assert.ok((await bodyOf(one)).equals(data.subarray(4 * MiB - 10, 4 * MiB + 10)));
    assert.ok((await bodyOf(await get('bytes=-100'))).equals(data.subarray(data.length - 100)));
    assert.ok((await bodyOf(await get(`bytes=${data.length - 5}-`))).equals(data.subarray(data.length - 5)));
    await rejects(get(`bytes=${data.length}-`), 'InvalidRange', 416);
  });

  it('evaluates If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since', async () => {
    const b = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'cond' }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: '"0000"' })), 'PreconditionFailed', 412);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfNoneMatch: put.ETag })), undefined, 304);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'c', IfUnmodifiedSince: new Date(Date.now() - 3600_000) })), undefined, 412);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfModifiedSince: new Date() })), undefined, 304);
    const ok = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'c', IfMatch: put.ETag, IfModifiedSince: new Date(Date.now() - 3600_000) }));
    assert.equal((await bodyOf(ok)).toString(), 'cond');
  });

  it('writes conditionally (If-None-Match: *, If-Match) with one winner among concurrent writers, PUT and multipart', async () => {
    const b = await newBucket();
    // Eight writers create the same key: exactly one may (a lock file, as Terraform takes it).
    const created = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: b, Key: 'lock', Body: `writer ${i}`, IfNoneMatch: '*' }))));
    const won = created.filter((x) => x.status === 'fulfilled');
    assert.equal(won.length, 1, 'one writer created it');
    for (const x of created) if (x.status === 'rejected') assert.equal((x.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 412);
    const first = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'lock' }));
    assert.equal(first.ETag, (won[0] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag);
    // Eight writers replace the version they all saw: one wins, the others saw a stale one.
    const replaced = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: b, Key: 'lock', Body: `next ${i}`, IfMatch: first.ETag }))));
    assert.equal(replaced.filter((x) => x.status === 'fulfilled').length, 1, 'one writer replaced it');
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'missing', Body: 'x', IfMatch: first.ETag })), 'NoSuchKey', 404);
    // CompleteMultipartUpload honours them too.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'lock' }));
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'lock', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }))).ETag;
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'lock', UploadId: up.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] } })), 'PreconditionFailed', 412);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'lock' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'lock', UploadId: up.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] } }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'lock' })))).toString(), 'part');
  });

  it('lists v1 and v2 with prefix, delimiter, paging, start-after and url encoding', async () => {
    const b = await newBucket();
    const keys = ['a/1', 'a/2', 'b', 'c d+e', 'c/x/y', 'z'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const p = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(p.Contents ?? []).map((c) => c.Key!));
      token = p.NextContinuationToken;
      pages++;
      assert.equal(p.IsTruncated, token !== undefined);
    } while (token);
    assert.deepEqual(seen, keys);
    assert.equal(pages, 3);
    const d = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
    assert.deepEqual((d.Contents ?? []).map((c) => c.Key), ['b', 'c d+e', 'z']);
    assert.deepEqual((d.CommonPrefixes ?? []).map((c) => c.Prefix), ['a/', 'c/']);
    const sa = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b', Prefix: 'c' }));
    assert.deepEqual((sa.Contents ?? []).map((c) => c.Key), ['c d+e', 'c/x/y']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, Marker: 'a/2', MaxKeys: 2, Delimiter: '/' }));
    assert.deepEqual((v1.Contents ?? []).map((c) => c.Key), ['b', 'c d+e']);
    assert.equal(v1.IsTruncated, true);
    const raw = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}`, query: { 'list-type': '2', 'encoding-type': 'url', prefix: 'c ' } });
    assert.equal(raw.status, 200);
    assert.match(raw.body, /<Key>c%20d%2Be<\/Key>/);
  });

  it('completes a multipart upload from linked parts (ETag md5-of-md5s-N) and checks the part rules', async () => {
    const b = await newBucket();
    const p1 = randomBytes(5 * MiB + 7);
    const p2 = randomBytes(MiB);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ContentType: 'text/x-mp', Metadata: { k: 'v' } }));
    const id = up.UploadId!;
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: id, PartNumber: 1, Body: p1 }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: id, PartNumber: 2, Body: p2 }))).ETag!;
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [['mp', id]]);
    const parts = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'mp', UploadId: id }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, p1.length, e1], [2, p2.length, e2]]);
    // Hidden objects of the upload never show in listings.
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: e2 }, { PartNumber: 1, ETag: e1 }] } })), 'InvalidPartOrder', 400);
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })), 'InvalidPart', 400);
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: e2 }, { PartNumber: 3, ETag: e2 }] } })), 'InvalidPart', 400);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    const want = `"${md5(Buffer.concat([Buffer.from(md5(p1), 'hex'), Buffer.from(md5(p2), 'hex')]))}-2"`;
    assert.equal(done.ETag, want);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp' }));
    assert.equal(got.ETag, want);
    assert.equal(got.ContentType, 'text/x-mp');
    assert.equal(got.Metadata?.k, 'v');
    assert.ok((await bodyOf(got)).equals(Buffer.concat([p1, p2])));
    const mid = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', Range: `bytes=${p1.length - 3}-${p1.length + 2}` }));
    assert.ok((await bodyOf(mid)).equals(Buffer.concat([p1, p2]).subarray(p1.length - 3, p1.length + 3)));
    // No data copied: the object's chunks are the parts' chunks (4 MiB metachunks: 2 + 1).
    const part2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', PartNumber: 2 }));
    assert.equal(part2.PartsCount, 2);
    assert.ok((await bodyOf(part2)).equals(p2));
    const content = await s3n.node.client('default').objectHead(b, 'mp');
    assert.equal(content.chunks.length, 3);
    assert.deepEqual(content.chunks.map((c) => c.pos), ['0', '1', '2']);
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads?.length ?? 0, 0);
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key), ['mp']);
    await rejects(s3.send(new ListPartsCommand({ Bucket: b, Key: 'mp', UploadId: id })), 'NoSuchUpload', 404);
  });

  it('keeps the checksums of multipart uploads: COMPOSITE over the parts, FULL_OBJECT CRCs combined, each part\'s own', async () => {
    const b = await newBucket();
    const p1 = randomBytes(5 * MiB + 11);
    const p2 = randomBytes(70_001);
    const sha = (d: Buffer) => createHash('sha256').update(d).digest();
    // SHA-256, COMPOSITE (the default type): sha256 of the parts' raw sha256, then -N.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'sha', ChecksumAlgorithm: 'SHA256' }));
    assert.equal(up.ChecksumAlgorithm, 'SHA256');
    assert.equal(up.ChecksumType, 'COMPOSITE');
    const q1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'sha', UploadId: up.UploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: 'SHA256' }));
    const q2 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'sha', UploadId: up.UploadId, PartNumber: 2, Body: p2, ChecksumAlgorithm: 'SHA256' }));
    assert.equal(q1.ChecksumSHA256, sha(p1).toString('base64'));
    const listed = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'sha', UploadId: up.UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.ChecksumSHA256), [q1.ChecksumSHA256, q2.ChecksumSHA256]);
    assert.equal(listed.ChecksumAlgorithm, 'SHA256');
    // A part checksum that is not the part's: InvalidPart, and the upload goes on.
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'sha', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: q1.ETag, ChecksumSHA256: q2.ChecksumSHA256 }, { PartNumber: 2, ETag: q2.ETag, ChecksumSHA256: q2.ChecksumSHA256 }] } })), 'InvalidPart', 400);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'sha', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: q1.ETag, ChecksumSHA256: q1.ChecksumSHA256 }, { PartNumber: 2, ETag: q2.ETag, ChecksumSHA256: q2.ChecksumSHA256 }] } }));
    const composite = `${createHash('sha256').update(Buffer.concat([sha(p1), sha(p2)])).digest('base64')}-2`;
    assert.equal(done.ChecksumSHA256, composite);
    assert.equal(done.ChecksumType, 'COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'sha', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, composite);
    assert.equal(head.ChecksumType, 'COMPOSITE');
    const part2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'sha', PartNumber: 2, ChecksumMode: 'ENABLED' }));
    assert.equal(part2.ChecksumSHA256, q2.ChecksumSHA256);
    assert.ok((await bodyOf(part2)).equals(p2));
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'sha', ObjectAttributes: ['Checksum', 'ObjectParts'] }));
    assert.equal(attrs.Checksum?.ChecksumSHA256, composite);
    assert.deepEqual(attrs.ObjectParts?.Parts?.map((p) => p.ChecksumSHA256), [q1.ChecksumSHA256, q2.ChecksumSHA256]);
    // CRC-64/NVME (FULL_OBJECT): the CRC of the whole object, which the SDK checks on GET.
    const full = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'crc', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'FULL_OBJECT' }));
    const c1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'crc', UploadId: full.UploadId, PartNumber: 1, Body: p1, ChecksumAlgorithm: 'CRC64NVME' }));
    const c2 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'crc', UploadId: full.UploadId, PartNumber: 2, Body: p2, ChecksumAlgorithm: 'CRC64NVME' }));
    const whole = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'whole', Body: Buffer.concat([p1, p2]), ChecksumAlgorithm: 'CRC64NVME' }));
    const fullDone = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'crc', UploadId: full.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.ETag, ChecksumCRC64NVME: c1.ChecksumCRC64NVME }, { PartNumber: 2, ETag: c2.ETag, ChecksumCRC64NVME: c2.ChecksumCRC64NVME }] } }));
    assert.equal(fullDone.ChecksumCRC64NVME, whole.ChecksumCRC64NVME);
    assert.equal(fullDone.ChecksumType, 'FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'crc', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC64NVME, whole.ChecksumCRC64NVME);
    assert.ok((await bodyOf(got)).equals(Buffer.concat([p1, p2])));
    // S3's refusals.
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })), 'InvalidRequest', 400);
    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'other', ChecksumAlgorithm: 'SHA256' }));
    await rejects(s3.send(new UploadPartCommand({ Bucket: b, Key: 'other', UploadId: other.UploadId, PartNumber: 1, Body: p2, ChecksumAlgorithm: 'CRC32' })), 'InvalidRequest', 400);
    // A copied part gets its checksum computed.
    const copied = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'other', UploadId: other.UploadId, PartNumber: 1, CopySource: `${b}/whole`, CopySourceRange: 'bytes=0-999' }));
    assert.equal(copied.CopyPartResult?.ChecksumSHA256, sha(Buffer.concat([p1, p2]).subarray(0, 1000)).toString('base64'));
  });

  it('copies an object\'s checksum with it, or computes the one the copy asks for', async () => {
    const b = await newBucket();
    const data = randomBytes(200_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: data, ChecksumAlgorithm: 'CRC32' }));
    const same = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'same', CopySource: `${b}/src` }));
    assert.equal(same.CopyObjectResult?.ChecksumCRC32, put.ChecksumCRC32);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'same', ChecksumMode: 'ENABLED' }))).ChecksumCRC32, put.ChecksumCRC32);
    const sha = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'sha', CopySource: `${b}/src`, ChecksumAlgorithm: 'SHA256' }));
    const want = createHash('sha256').update(data).digest('base64');
    assert.equal(sha.CopyObjectResult?.ChecksumSHA256, want);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'sha', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, want);
    assert.equal(head.ChecksumCRC32, undefined);
    // To itself with only a new checksum: allowed (the checksum changes).
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src`, ChecksumAlgorithm: 'SHA1' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'src', ChecksumMode: 'ENABLED' }))).ChecksumSHA1, createHash('sha1').update(data).digest('base64'));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' })))).equals(data));
  });

  it('keeps the website redirect location of an object (and refuses one that is no path or URL)', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'moved', Body: 'x', WebsiteRedirectLocation: '/new/place' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'moved' }))).WebsiteRedirectLocation, '/new/place');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'moved-copy', CopySource: `${b}/moved` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'moved-copy' }))).WebsiteRedirectLocation, '/new/place');
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'bad', Body: 'x', WebsiteRedirectLocation: 'elsewhere' })), 'InvalidRedirectLocation', 400);
  });

  it('keeps the storage class asked for, and stores a mapped class with its policy (s3.storage_classes)', async () => {
    const b = await newBucket();
    const lib = s3n.node.client('default');
    const data = randomBytes(100_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'ia', Body: data, StorageClass: 'STANDARD_IA' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'rr', Body: data, StorageClass: 'REDUCED_REDUNDANCY' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'std', Body: data }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'ia' }))).StorageClass, 'STANDARD_IA');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'rr' }))).StorageClass, 'REDUCED_REDUNDANCY');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'std' }))).StorageClass, undefined);
    // STANDARD_IA is mapped to TWOCOPIES; REDUCED_REDUNDANCY is not: the bucket's policy (SINGLE here).
    const ia = await lib.objectHead(b, 'ia');
    assert.equal(ia.policy, 'TWOCOPIES');
    assert.equal(ia.chunks.length, 2);
    assert.equal((await lib.objectHead(b, 'rr')).policy, 'SINGLE');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.StorageClass]), [['ia', 'STANDARD_IA'], ['rr', 'REDUCED_REDUNDANCY'], ['std', 'STANDARD']]);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'ia', ObjectAttributes: ['StorageClass'] }));
    assert.equal(attrs.StorageClass, 'STANDARD_IA');
    // A copy has the class asked for (STANDARD when none); to a mapped class its data moves.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'std-to-ia', CopySource: `${b}/std`, StorageClass: 'STANDARD_IA' }));
    assert.equal((await lib.objectHead(b, 'std-to-ia')).policy, 'TWOCOPIES');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'std-to-ia' }))).StorageClass, 'STANDARD_IA');
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'std-to-ia' })))).equals(data));
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'ia-copy', CopySource: `${b}/ia` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'ia-copy' }))).StorageClass, undefined);
    // Multipart: the parts are stored with the class's policy, the object keeps the class.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp-ia', StorageClass: 'STANDARD_IA' }));
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads?.map((u) => u.StorageClass), ['STANDARD_IA']);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp-ia', UploadId: up.UploadId, PartNumber: 1, Body: data }))).ETag;
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'mp-ia', UploadId: up.UploadId }))).StorageClass, 'STANDARD_IA');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp-ia', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }] } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp-ia' }))).StorageClass, 'STANDARD_IA');
    assert.equal((await lib.objectHead(b, 'mp-ia')).chunks.length, 2);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'g', Body: 'x', StorageClass: 'GLACIER' })), 'InvalidStorageClass', 400);
  });

  it('answers GetObjectAttributes: ETag, checksum, size, storage class and the parts of a multipart object', async () => {
    const b = await newBucket();
    const data = randomBytes(3000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'one', Body: data, ChecksumAlgorithm: 'SHA256' }));
    const one = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'one', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass', 'ObjectParts'] }));
    assert.equal(one.ETag, md5(data));
    assert.equal(one.ObjectSize, data.length);
    assert.equal(one.StorageClass, 'STANDARD');
    assert.equal(one.Checksum?.ChecksumSHA256, createHash('sha256').update(data).digest('base64'));
    assert.equal(one.ObjectParts, undefined);
    // CRC-64/NVME, computed by the SDK, verified and kept by the gateway.
    const crcData = randomBytes(70_000);
    const put64 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'crc64', Body: crcData, ChecksumAlgorithm: 'CRC64NVME' }));
    assert.ok(put64.ChecksumCRC64NVME);
    const head64 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'crc64', ChecksumMode: 'ENABLED' }));
    assert.equal(head64.ChecksumCRC64NVME, put64.ChecksumCRC64NVME);
    const attrs64 = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'crc64', ObjectAttributes: ['Checksum'] }));
    assert.equal(attrs64.Checksum?.ChecksumCRC64NVME, put64.ChecksumCRC64NVME);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'crc64-bad', Body: crcData, ChecksumCRC64NVME: 'AAAAAAAAAAA=' })), 'BadDigest', 400);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'crc64-bad' })), 'NotFound', 404);
    assert.ok(one.LastModified instanceof Date);
    // Only what was asked for.
    const sizeOnly = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'one', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(sizeOnly.ObjectSize, data.length);
    assert.equal(sizeOnly.ETag, undefined);
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(1234);
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }))).UploadId!;
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: id, PartNumber: 1, Body: p1 }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: id, PartNumber: 2, Body: p2 }))).ETag!;
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    const mp = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ETag', 'ObjectParts', 'ObjectSize'], MaxParts: 1 }));
    assert.equal(`"${mp.ETag}"`, done.ETag);
    assert.equal(mp.ObjectSize, p1.length + p2.length);
    assert.equal(mp.ObjectParts?.TotalPartsCount, 2);
    assert.equal(mp.ObjectParts?.IsTruncated, true);
    assert.deepEqual(mp.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, p1.length]]);
    const rest = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'mp', ObjectAttributes: ['ObjectParts'], PartNumberMarker: mp.ObjectParts?.NextPartNumberMarker }));
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.deepEqual(rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [[2, p2.length]]);
    await rejects(s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'absent', ObjectAttributes: ['ETag'] })), 'NoSuchKey', 404);
    const bad = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}/one`, query: { attributes: '' }, headers: { 'x-amz-object-attributes': 'ETag,Colour' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>InvalidArgument<\/Code>/);
  });

  it('refuses small non-last parts (EntityTooSmall), aborts leaving nothing, copies part ranges', async () => {
    const b = await newBucket();
    const src = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: src }));
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'small' }))).UploadId!;
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'small', UploadId: id, PartNumber: 1, Body: 'tiny' }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: 'small', UploadId: id, PartNumber: 2, Body: 'tiny' }))).ETag!;
    await rejects(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'small', UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } })), 'EntityTooSmall', 400);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'small', UploadId: id }));
    await rejects(s3.send(new UploadPartCommand({ Bucket: b, Key: 'small', UploadId: id, PartNumber: 3, Body: 'x' })), 'NoSuchUpload', 404);
    const all = await s3n.node.client('default').objectList(b, { versions: true });
    assert.deepEqual(all.objects.map((o) => o.name), ['src'], 'abort leaves no part behind');

    const id2 = (await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'copied' }))).UploadId!;
    const c1 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'copied', UploadId: id2, PartNumber: 1, CopySource: `${b}/src`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'copied', UploadId: id2, PartNumber: 2, CopySource: `${b}/src`, CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}` }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'copied', UploadId: id2, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult!.ETag }] } }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copied' })))).equals(src));
  });

  it('copies objects: linked inside a bucket, streamed across buckets, metadata COPY/REPLACE, same-key metadata change', async () => {
    const b = await newBucket();
    const b2 = await newBucket();
    const data = randomBytes(300_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'orig', Body: data, Metadata: { a: '1' }, ContentType: 'text/a' }));
    const c = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'same', CopySource: `${b}/orig` }));
    assert.equal(c.CopyObjectResult?.ETag, `"${md5(data)}"`);
    const h = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'same' }));
    assert.equal(h.Metadata?.a, '1');
    assert.equal(h.ContentType, 'text/a');
    const client = s3n.node.client('default');
    assert.deepEqual((await client.objectHead(b, 'same')).chunks.map((x) => x.url), (await client.objectHead(b, 'orig')).chunks.map((x) => x.url), 'same chunks: nothing copied');
    await s3.send(new CopyObjectCommand({ Bucket: b2, Key: 'other', CopySource: `${b}/orig`, MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/b' }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: b2, Key: 'other' }));
    assert.deepEqual(h2.Metadata, { b: '2' });
    assert.equal(h2.ContentType, 'text/b');
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b2, Key: 'other' })))).equals(data));
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'orig', CopySource: `${b}/orig` })), 'InvalidRequest', 400);
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'orig', CopySource: `${b}/orig`, MetadataDirective: 'REPLACE', Metadata: { z: '9' } }));
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'orig' }))).Metadata, { z: '9' });
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'orig' })))).equals(data));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'orig' }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'same' })))).equals(data), 'the copy outlives its source');
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'x', CopySource: `${b}/orig` })), 'NoSuchKey', 404);
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'x', CopySource: `${b}/same`, CopySourceIfMatch: '"bad"' })), 'PreconditionFailed', 412);
  });

  it('keeps versions when versioning is Enabled: get by version id, delete markers, Suspended', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'pre', Body: 'pre' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }))).VersionId!;
    assert.notEqual(v1, v2);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 })))).toString(), 'one');
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString(), 'two');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
    const vs = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(vs.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]), [['k', del.VersionId, true]]);
    assert.deepEqual(vs.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['k', v2, false], ['k', v1, false], ['pre', 'null', true]]);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: '123' })), 'NoSuchVersion', 404);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'pre', VersionId: 'null' })))).toString(), 'pre');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString(), 'two');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 's1' }));
    const s2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 's2' }));
    // S3 answers a write of the null version without a version id; reads name it "null".
    assert.equal(s2.VersionId, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).VersionId, 'null');
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'k' }));
    assert.deepEqual(after.Versions?.map((v) => v.VersionId), ['null', v2, v1], 'one null version, older versions kept');
    const sdel = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(sdel.VersionId, 'null');
    const afterDel = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'k' }));
    assert.deepEqual(afterDel.DeleteMarkers?.map((m) => m.VersionId), ['null']);
    assert.deepEqual(afterDel.Versions?.map((v) => v.VersionId), [v2, v1], 'the null delete marker replaced the null version');
  });

  it('stores object and bucket tagging and the CORS configuration', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: 't', Tagging: 'a=1&b=two' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't' }))).TagSet, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: 'two' }]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: 't', Tagging: { TagSet: [{ Key: 'x', Value: 'y' }] } }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 't' }))).TagSet, [{ Key: 'x', Value: 'y' }]);
    await rejects(s3.send(new GetBucketTaggingCommand({ Bucket: b })), 'NoSuchTagSet', 404);
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'team', Value: 'blue' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet, [{ Key: 'team', Value: 'blue' }]);
    await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'], MaxAgeSeconds: 60 }] } }));
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: b }));
    assert.deepEqual(cors.CORSRules?.map((r) => [r.AllowedMethods, r.AllowedOrigins, r.MaxAgeSeconds]), [[['GET'], ['*'], 60]]);
    const withOrigin = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}/t`, headers: { origin: 'https://app.example' } });
    assert.equal(withOrigin.headers['access-control-allow-origin'], '*');
    const put = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/t2`, body: 'x', headers: { origin: 'https://app.example' } });
    assert.equal(put.headers['access-control-allow-origin'], undefined, 'PUT is not an allowed CORS method');
  });

  it('answers CORS preflight requests (unsigned OPTIONS) from the bucket rules', async () => {
    const b = await newBucket();
    const preflight = (headers: Record<string, string>, path = `/${b}/some/key`) => fetch(`${s3n.endpoint}${path}`, { method: 'OPTIONS', headers });
    const origin = 'https://app.example';
    const noCors = await preflight({ origin, 'access-control-request-method': 'GET' });
    assert.equal(noCors.status, 403);
    assert.match(await noCors.text(), /<Code>AccessForbidden<\/Code>.*CORS is not enabled/s);
    await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [
      { AllowedMethods: ['GET', 'PUT'], AllowedOrigins: ['https://*.example'], AllowedHeaders: ['x-amz-*', 'Content-Type'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 300 },
    ] } }));
    const ok = await preflight({ origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, x-amz-meta-color' });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, PUT');
    assert.equal(ok.headers.get('access-control-allow-headers'), 'content-type, x-amz-meta-color');
    assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag');
    assert.equal(ok.headers.get('access-control-max-age'), '300');
    for (const bad of [
      { origin, 'access-control-request-method': 'DELETE' } as Record<string, string>,
      { origin: 'https://evil.test', 'access-control-request-method': 'GET' },
      { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
    ]) {
      const res = await preflight(bad);
      assert.equal(res.status, 403, JSON.stringify(bad));
      assert.match(await res.text(), /<Code>AccessForbidden<\/Code>/);
    }
    const noOrigin = await preflight({ 'access-control-request-method': 'GET' });
    assert.equal(noOrigin.status, 400);
    assert.match(await noOrigin.text(), /<Code>BadRequest<\/Code>/);
    const missing = await preflight({ origin, 'access-control-request-method': 'GET' }, '/no-such-bucket-cors/k');
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /Bucket not found/);
  });

  it('deletes many objects (verbose and quiet)', async () => {
    const b = await newBucket();
    for (const k of ['d1', 'd2', 'd3']) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    const v = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'd1' }, { Key: 'missing' }] } }));
    assert.deepEqual(v.Deleted?.map((d) => d.Key).sort(), ['d1', 'missing']);
    const q = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Quiet: true, Objects: [{ Key: 'd2' }, { Key: 'd3' }] } }));
    assert.equal(q.Deleted, undefined);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
  });

  it('answers NotImplemented to what it does not do (DSSE-KMS), storing nothing', async () => {
    const b = await newBucket();
    // DSSE-KMS: two layers of encryption (AES256 and aws:kms are done: sse.test.ts).
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' })), 'NotImplemented', 501);
    await rejects(s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'sse-mp', ServerSideEncryption: 'aws:kms:dsse' })), 'NotImplemented', 501);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'x' }));
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'sse-copy', CopySource: `${b}/plain`, ServerSideEncryption: 'aws:kms:dsse' })), 'NotImplemented', 501);
    // Object lock on a bucket without it: S3's InvalidRequest.
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'held', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })), 'InvalidRequest', 400);
    // Another expected owner (ACLs and grants: acl.test.ts).
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'own-grant', Body: 'x', GrantFullControl: 'id="default"' }));
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'plain', ExpectedBucketOwner: '111122223333' })), undefined, 403);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'not-mine', Body: 'x', ExpectedBucketOwner: '111122223333' })), 'AccessDenied', 403);
    await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'plain', ExpectedBucketOwner: 'default' }));
    // A default encryption with aws:kms:dsse is kept, the writes it would encrypt are refused.
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' } }] } }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms-default', Body: 'x' })), 'NotImplemented', 501);
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['own-grant', 'plain']);
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads, undefined);
  });

  it('tells what S3 tells of a bucket without policy, lifecycle, encryption, website, lock, ... (lifecycle, encryption, object lock, ownership controls and public access block can be set here)', async () => {
    const b = await newBucket();
    await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    await rejects(s3.send(new GetBucketPolicyStatusCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    await rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })), 'NoSuchLifecycleConfiguration', 404);
    await rejects(s3.send(new GetBucketEncryptionCommand({ Bucket: b })), 'ServerSideEncryptionConfigurationNotFoundError', 404);
    await rejects(s3.send(new GetBucketWebsiteCommand({ Bucket: b })), 'NoSuchWebsiteConfiguration', 404);
    await rejects(s3.send(new GetBucketReplicationCommand({ Bucket: b })), 'ReplicationConfigurationNotFoundError', 404);
    await rejects(s3.send(new GetObjectLockConfigurationCommand({ Bucket: b })), 'ObjectLockConfigurationNotFoundError', 404);
    await rejects(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), 'OwnershipControlsNotFoundError', 404);
    await rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 'NoSuchPublicAccessBlockConfiguration', 404);
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: b }))).LoggingEnabled, undefined);
    const notif = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: b }));
    assert.equal(notif.TopicConfigurations, undefined);
    assert.equal((await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: b }))).Status, undefined);
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket: b }))).Payer, 'BucketOwner');
    const inv = await s3.send(new ListBucketInventoryConfigurationsCommand({ Bucket: b }));
    assert.equal(inv.IsTruncated, false);
    assert.equal(inv.InventoryConfigurationList, undefined);
    assert.equal((await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: b }))).IsTruncated, false);
    await rejects(s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: b, Id: 'nope' })), 'NoSuchConfiguration', 404);
    // Deleting what is not there succeeds, as in S3.
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    // A bucket that does not exist is NoSuchBucket first.
    await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: bucketName('missing') })), 'NoSuchBucket', 404);
    await rejects(s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucketName('missing') })), 'NoSuchBucket', 404);
  });

  it('keeps ownership controls and a public access block; BucketOwnerEnforced refuses requests that set ACLs', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'before', Body: 'x', ACL: 'private' }));
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    assert.deepEqual((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))).OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'acl', Body: 'x', ACL: 'private' })), 'AccessControlListNotSupported', 400);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'acl', Body: 'x', GrantFullControl: 'id="default"' })), 'AccessControlListNotSupported', 400);
    await rejects(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' })), 'AccessControlListNotSupported', 400);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'owner-acl', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'no-acl', Body: 'x' }));
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key), ['before', 'no-acl', 'owner-acl']);
    await rejects(s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'Nobody' as 'ObjectWriter' }] } })), 'MalformedXML', 400);
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'acl', Body: 'x', ACL: 'private' }));
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
    await rejects(s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), 'OwnershipControlsNotFoundError', 404);
    // Set at creation.
    const enforced = bucketName('own');
    await s3.send(new CreateBucketCommand({ Bucket: enforced, ObjectOwnership: 'BucketOwnerEnforced' }));
    await rejects(s3.send(new PutObjectCommand({ Bucket: enforced, Key: 'acl', Body: 'x', ACL: 'private' })), 'AccessControlListNotSupported', 400);
    // Public access block: kept and answered back, every field.
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true } }));
    assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: b }))).PublicAccessBlockConfiguration,
      { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: true });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 'NoSuchPublicAccessBlockConfiguration', 404);
  });

  it('answers an error found before the body to a large upload sent with Expect: 100-continue, and the client sends no body', async () => {
    // The SDK sends bodies over 2 MB with Expect: 100-continue; before, the gateway let every body
    // come (Node's automatic 100 Continue) and answered while it was still arriving: the SDK
    // reported a TimeoutError instead of the S3 error.
    const big = randomBytes(5 * MiB);
    await rejects(s3.send(new PutObjectCommand({ Bucket: bucketName('missing'), Key: 'k', Body: big })), 'NoSuchBucket', 404);
    const b = await newBucket();
    await rejects(s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: '0'.repeat(32), PartNumber: 1, Body: big })), 'NoSuchUpload', 404);
    // And a good one still gets its 100 Continue and goes through.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'big' }))).ContentLength, big.length);
  });

  it('enforces the Deny statements of a bucket policy (principal, action, resource, conditions), never on the policy operations', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'protected/a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'free/b', Body: 'b' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'free/c', Body: 'c' }));
    await s3n.node.client('default').userCreate({ accessKey: 'policyuser', secretKey: 'policyusersecret1', account: 'default', replace: true });
    const other = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'policyuser', secretAccessKey: 'policyusersecret1' }, maxAttempts: 1 });
    try {
      const policy = {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'keep', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${b}/protected/*` },
          { Sid: 'encrypted', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/secret/*`, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } },
          { Sid: 'readonly-user', Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::default:user/policyuser' }, NotAction: ['s3:Get*', 's3:List*'], Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] },
          { Sid: 'owner', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::default:root' }, Action: 's3:*', Resource: `arn:aws:s3:::${b}/*` },
        ],
      };
      await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(policy) }));
      assert.deepEqual(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy!), policy);
      assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, false);
      await rejects(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'protected/a' })), 'AccessDenied', 403);
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'free/b' }));
      const res = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'protected/a' }, { Key: 'free/c' }] } }));
      assert.deepEqual(res.Errors?.map((e) => [e.Key, e.Code]), [['protected/a', 'AccessDenied']]);
      assert.deepEqual(res.Deleted?.map((d) => d.Key), ['free/c']);
      await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret/x', Body: 'x' })), 'AccessDenied', 403);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret/x', Body: 'x', ServerSideEncryption: 'AES256' }));
      // The read-only user of the same account: reads and lists, writes nothing.
      assert.equal((await bodyOf(await other.send(new GetObjectCommand({ Bucket: b, Key: 'protected/a' })))).toString(), 'a');
      await other.send(new ListObjectsV2Command({ Bucket: b }));
      await rejects(other.send(new PutObjectCommand({ Bucket: b, Key: 'free/new', Body: 'n' })), 'AccessDenied', 403);
      // Condition on the transport: this endpoint is plain HTTP.
      const tlsOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] };
      await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(tlsOnly) }));
      await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'protected/a' })), 'AccessDenied', 403);
      await rejects(s3.send(new ListObjectsV2Command({ Bucket: b })), 'AccessDenied', 403);
      // The owner can always mend or remove its policy.
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
      assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'protected/a' })))).toString(), 'a');
      // Refused documents.
      const put = (p: unknown) => s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: typeof p === 'string' ? p : JSON.stringify(p) }));
      await rejects(put('{not json'), 'MalformedPolicy', 400);
      await rejects(put({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::another-bucket/*' }] }), 'MalformedPolicy', 400);
      await rejects(put({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ec2:RunInstances', Resource: `arn:aws:s3:::${b}/*` }] }), 'MalformedPolicy', 400);
      await rejects(put({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }] }), 'NotImplemented', 501);
      await rejects(s3.send(new GetBucketPolicyCommand({ Bucket: b })), 'NoSuchBucketPolicy', 404);
    } finally { other.destroy(); }
  });

  it('evaluates policy conditions on the tags of the object and of the request', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: 's', Tagging: 'Class=secret' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: 'o', Tagging: 'Class=public' }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/Class': 'secret' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringNotEqualsIfExists: { 's3:RequestObjectTag/Class': ['public', 'secret'] } } },
        ],
      }),
    }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret' })), 'AccessDenied', 403);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'open' })))).toString(), 'o');
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'absent' })), 'NoSuchKey', 404);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'n', Body: 'n', Tagging: 'Class=other' })), 'AccessDenied', 403);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'n', Body: 'n' })), 'AccessDenied', 403);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'n', Body: 'n', Tagging: 'Class=public' }));
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret' })))).toString(), 's');
  });

  it('delivers server access logs of a bucket with logging on into its target bucket, in S3\'s line format', async () => {
    const b = await newBucket();
    const logs = await newBucket('logs');
    await rejects(s3.send(new PutBucketLoggingCommand({ Bucket: b, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: bucketName('absent'), TargetPrefix: 'x/' } } })), 'InvalidTargetBucketForLogging', 400);
    // The target's policy lets the log delivery service write there (logging.test.ts).
    await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${logs}/access/*`, Condition: { StringEquals: { 'aws:SourceAccount': 'default' } } }] }) }));
    await s3.send(new PutBucketLoggingCommand({ Bucket: b, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: logs, TargetPrefix: 'access/' } } }));
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: b }))).LoggingEnabled, { TargetBucket: logs, TargetPrefix: 'access/', TargetObjectKeyFormat: { SimplePrefix: {} } });
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dir/x y', Body: 'hello' }));
    await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dir/x y' })));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'missing' })), 'NoSuchKey', 404);
    await s3.send(new ListObjectsV2Command({ Bucket: b }));
    let lines: string[] = [];
    for (let i = 0; i < 60 && lines.length < 5; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const listed = (await s3.send(new ListObjectsV2Command({ Bucket: logs, Prefix: 'access/' }))).Contents ?? [];
      lines = [];
      for (const o of listed) lines.push(...(await bodyOf(await s3.send(new GetObjectCommand({ Bucket: logs, Key: o.Key })))).toString().trim().split('\n'));
    }
    const find = (re: RegExp) => lines.find((l) => re.test(l));
    assert.ok(find(/^default \S+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] \S+ demo [0-9A-F]+ REST\.PUT\.OBJECT dir\/x%20y "PUT \/\S+ HTTP\/1\.1" 200 - /), lines.join('\n'));
    assert.ok(find(/REST\.GET\.OBJECT dir\/x%20y "GET .*" 200 - 5 /), lines.join('\n'));
    assert.ok(find(/REST\.GET\.OBJECT missing "GET .*" 404 NoSuchKey /), lines.join('\n'));
    assert.ok(find(/REST\.PUT\.LOGGING - /), lines.join('\n'));
    assert.ok(lines.every((l) => l.split(' ')[1] === b), 'only the logged bucket\'s requests');
    // Off again: an empty BucketLoggingStatus.
    await s3.send(new PutBucketLoggingCommand({ Bucket: b, BucketLoggingStatus: {} }));
    assert.equal((await s3.send(new GetBucketLoggingCommand({ Bucket: b }))).LoggingEnabled, undefined);
  });

  it('answers S3 error documents to requests the HTTP parser refuses (headers over 16 KiB, a bad request line), and goes on serving', async () => {
    const raw = (text: string) => new Promise<string>((resolve, reject) => {
      const sock = net.connect(6007, s3n.node.ip);
      let out = '';
      sock.on('data', (d: Buffer) => { out += d.toString('latin1'); });
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
      sock.end(text);
    });
    const big = await raw(`GET /x HTTP/1.1\r\nHost: ${s3n.node.ip}\r\nx-amz-meta-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(big, /content-type: application\/xml/);
    assert.match(big, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
    const bad = await raw('NOT A REQUEST\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(bad, /<Code>BadRequest<\/Code>/);
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'after', Body: 'still here' }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'after' })))).toString(), 'still here');
  });

  it('refuses bad credentials, bad signatures, skewed clocks and anonymous requests', async () => {
    const b = await newBucket();
    const bad = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'wrong-secret-key' }, maxAttempts: 1 });
    await rejects(bad.send(new ListObjectsV2Command({ Bucket: b })), 'SignatureDoesNotMatch', 403);
    bad.destroy();
    const unknown = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'whatever-secret' }, maxAttempts: 1 });
    await rejects(unknown.send(new ListObjectsV2Command({ Bucket: b })), 'InvalidAccessKeyId', 403);
    unknown.destroy();
    const skewed = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}`, time: Date.now() - 20 * 60_000 });
    assert.equal(skewed.status, 403);
    assert.match(skewed.body, /<Code>RequestTimeTooSkewed<\/Code>/);
    const anon = await fetch(`${s3n.endpoint}/${b}`);
    assert.equal(anon.status, 403);
    assert.match(await anon.text(), /<Code>AccessDenied<\/Code>.*<RequestId>/s);
  });

  it('addresses buckets virtual-hosted style (<bucket>.localhost) as well as path style', async () => {
    const b = await newBucket();
    const port = s3n.host.split(':')[1];
    const put = await signedRequest(creds, s3n.host, { method: 'PUT', path: '/v/key.txt', body: 'virtual', hostHeader: `${b}.localhost:${port}` });
    assert.equal(put.status, 200, put.body);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'v/key.txt' })))).toString(), 'virtual');
    const list = await signedRequest(creds, s3n.host, { method: 'GET', path: '/', query: { 'list-type': '2' }, hostHeader: `${b}.localhost:${port}` });
    assert.match(list.body, /<Name>[^<]+<\/Name>.*<Key>v\/key.txt<\/Key>/s);
  });

  it('serves presigned URLs and refuses expired or tampered ones', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'p q', Body: 'presigned' }));
    const url = presign(creds, s3n.host, 'GET', `/${b}/p q`);
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'presigned');
    const expired = await fetch(presign(creds, s3n.host, 'GET', `/${b}/p q`, 60, Date.now() - 120_000));
    assert.equal(expired.status, 403);
    const tampered = await fetch(url.replace('p%20q', 'other'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /SignatureDoesNotMatch/);
    const putUrl = presign(creds, s3n.host, 'PUT', `/${b}/up`);
    assert.equal((await fetch(putUrl, { method: 'PUT', body: 'via url' })).status, 200);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'up' })))).toString(), 'via url');
  });

  it('accepts signed aws-chunked bodies and refuses a corrupted chunk without storing anything', async () => {
    const b = await newBucket();
    const data = randomBytes(200_000);
    const ok = await chunkedPut(creds, s3n.host, `/${b}/chunked`, data, 65_536);
    assert.equal(ok.status, 200, ok.body);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'chunked' })))).equals(data));
    const bad = await chunkedPut(creds, s3n.host, `/${b}/corrupt`, data, 65_536, true);
    assert.equal(bad.status, 403);
    assert.match(bad.body, /SignatureDoesNotMatch/);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'corrupt' })), 'NotFound', 404);
  });

  it('refuses malformed XML, bad digests, path tricks; a truncated upload leaves no object', async () => {
    const b = await newBucket();
    const mx = await signedRequest(creds, s3n.host, { method: 'POST', path: `/${b}`, query: { delete: '' }, body: '<Delete><Object><Key>a</Key></Object>' });
    assert.equal(mx.status, 400);
    assert.match(mx.body, /<Code>MalformedXML<\/Code>/);
    const ent = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}`, query: { versioning: '' }, body: '<!DOCTYPE x [<!ENTITY a "b">]><VersioningConfiguration><Status>&a;</Status></VersioningConfiguration>' });
    assert.match(ent.body, /<Code>MalformedXML<\/Code>/);
    const digest = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/digest`, body: 'abc', headers: { 'content-md5': Buffer.from(md5('abd'), 'hex').toString('base64') } });
    assert.equal(digest.status, 400);
    assert.match(digest.body, /<Code>BadDigest<\/Code>/);
    const sha = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/sha`, body: 'abc', headers: { 'x-amz-content-sha256': createHash('sha256').update('abd').digest('hex') } });
    assert.match(sha.body, /XAmzContentSHA256Mismatch/);
    for (const key of ['a/../b', 'a//b', './x']) {
      const r = await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/${key}`, body: 'x' });
      assert.equal(r.status, 400, key);
    }
    await signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/trunc`, body: randomBytes(2 * MiB), unsignedPayload: true, truncateAt: 512 * 1024 });
    // The gateway sees the disconnect and abandons the upload: poll until it has answered it.
    const client = s3n.node.client('default');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = await client.objectList(b, { versions: true });
      const names = list.objects.map((o) => o.name);
      assert.ok(!names.includes('trunc'), 'a truncated upload is never visible');
      if (s3n.node.logs().includes('"code":"IncompleteBody"') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'trunc' })), 'NotFound', 404);
    for (const k of ['digest', 'sha']) await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: k })), 'NotFound', 404);
  });
});
