/**
 * End-to-end: server-side encryption through @aws-sdk/client-s3.
 * - SSE-C over the gateway's HTTPS port: what is stored is not the plaintext, reads need the key
 *   (none: InvalidRequest, another: AccessDenied), ranges and parts decrypt at their place,
 *   multipart uploads and copies re-key; over plain HTTP the key is refused, as S3 refuses it.
 * - SSE-S3 (AES256, asked per object or by the bucket's default encryption): stored encrypted,
 *   read back transparently, also after a restart (the master key is kept in the node's data).
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketEncryptionCommand, GetBucketEncryptionCommand, GetObjectAttributesCommand, GetObjectCommand,
  HeadObjectCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bodyOf, bucketName, rejects, startS3Node } from './s3-env';

const MiB = 1024 * 1024;

describe('e2e: S3 server-side encryption (@aws-sdk/client-s3; SSE-C over HTTPS)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;
  let plainHttp: S3Client;
  const key1 = randomBytes(32);
  const key2 = randomBytes(32);
  const sse = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as unknown as string });

  before(async () => {
    s3n = await startS3Node({ 's3.tls_port': 6443 });
    const ca = fs.readFileSync(path.join(s3n.node.dataDir, 's3', 'tls', 'cert.pem'));
    const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
    s3 = new S3Client({ endpoint: `https://${s3n.node.ip}:6443`, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1, requestHandler: { httpsAgent: new https.Agent({ ca }) } });
    plainHttp = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  });
  after(async () => { s3?.destroy(); plainHttp?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  async function newBucket(): Promise<string> {
    const b = bucketName('ssec');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    return b;
  }

  it('stores ciphertext, reads back with the key only, any range at its place', async () => {
    const b = await newBucket();
    const data = randomBytes(3 * MiB + 12_345);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: data, ...sse(key1) }));
    assert.equal(put.SSECustomerAlgorithm, 'AES256');
    assert.equal(put.SSECustomerKeyMD5, createHash('md5').update(key1).digest('base64'));
    // The grid holds no plaintext (read through the library, under the gateway).
    const raw = await s3n.node.client('default').objectGet(b, 'secret');
    const stored = await bodyOf({ Body: raw.stream });
    assert.equal(stored.length, data.length);
    assert.ok(!stored.equals(data));
    assert.equal(stored.indexOf(data.subarray(1000, 1032)), -1);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret', ...sse(key1) })))).equals(data));
    for (const [start, end] of [[0, 0], [1, 16], [15, 17], [100_001, 2_000_000], [data.length - 7, data.length - 1]] as const) {
      const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret', Range: `bytes=${start}-${end}`, ...sse(key1) })));
      assert.ok(got.equals(data.subarray(start, end + 1)), `range ${start}-${end}`);
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'secret', ...sse(key1) }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.SSECustomerAlgorithm, 'AES256');
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret' })), 'InvalidRequest', 400);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'secret' })), undefined, 400);
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'secret', ...sse(key2) })), 'AccessDenied', 403);
    await rejects(s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'secret', ObjectAttributes: ['ObjectSize'] })), 'InvalidRequest', 400);
    assert.equal((await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'secret', ObjectAttributes: ['ObjectSize'], ...sse(key1) }))).ObjectSize, data.length);
    // A key for an object stored without one.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'plain' }));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain', ...sse(key1) })), 'InvalidRequest', 400);
    // Bad keys and algorithms: refused, nothing stored.
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'short', Body: 'x', ...sse(randomBytes(16)) })), 'InvalidArgument', 400);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'aes128', Body: 'x', SSECustomerAlgorithm: 'AES128', SSECustomerKey: key1 as unknown as string })), 'InvalidEncryptionAlgorithmError', 400);
    await rejects(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'short' })), undefined, 404);
    // Plain HTTP from this host (the node's loopback address): the key never crossed a network
    // (another host's plain HTTP is refused: unit test of keySafe).
    await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'http', Body: 'local', ...sse(key1) }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'http', ...sse(key1) })))).toString(), 'local');
  });

  it('encrypts each part of a multipart upload; reads across parts and by part number', async () => {
    const b = await newBucket();
    const p1 = randomBytes(5 * MiB + 3);
    const p2 = randomBytes(MiB + 5);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ...sse(key1) }));
    // (Small bodies: the SDK with its own HTTPS agent sends a body without waiting for 100 Continue,
    // and an early answer then meets a body still on its way.)
    await rejects(s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'x' })), 'InvalidRequest', 400);
    // A part with another key than the upload's: 400, as S3 answers it (a read with another key is 403).
    await rejects(s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'x', ...sse(key2) })), 'InvalidRequest', 400);
    const e1 = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: p1, ...sse(key1) }));
    // The second part copied from an object encrypted with another key.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: Buffer.concat([randomBytes(100), p2]), ...sse(key2) }));
    const e2 = await s3.send(new UploadPartCopyCommand({
      Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 2, CopySource: `${b}/src`, CopySourceRange: `bytes=100-${100 + p2.length - 1}`,
      CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key2 as unknown as string, ...sse(key1),
    }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.CopyPartResult?.ETag }] }, ...sse(key1) }));
    const whole = Buffer.concat([p1, p2]);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', ...sse(key1) })))).equals(whole));
    const across = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', Range: `bytes=${p1.length - 10}-${p1.length + 20}`, ...sse(key1) })));
    assert.ok(across.equals(whole.subarray(p1.length - 10, p1.length + 21)));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', PartNumber: 2, ...sse(key1) })))).equals(p2));
  });

  it('copies between keys and to and from plaintext, never without the source key', async () => {
    const b = await newBucket();
    const data = randomBytes(200_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: data, ...sse(key1) }));
    await rejects(s3.send(new CopyObjectCommand({ Bucket: b, Key: 'leak', CopySource: `${b}/a` })), 'InvalidRequest', 400);
    const copyKeys = { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key1 as unknown as string };
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'rekeyed', CopySource: `${b}/a`, ...copyKeys, ...sse(key2) }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'rekeyed', ...sse(key2) })))).equals(data));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'rekeyed', ...sse(key1) })), 'AccessDenied', 403);
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'decrypted', CopySource: `${b}/a`, ...copyKeys }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'decrypted' })))).equals(data));
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'encrypted', CopySource: `${b}/decrypted`, ...sse(key1) }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'encrypted', ...sse(key1) })))).equals(data));
    // Re-keyed in place (a copy onto itself).
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'a', CopySource: `${b}/a`, ...copyKeys, ...sse(key2) }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'a', ...sse(key2) })))).equals(data));
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'a', ...sse(key1) })), 'AccessDenied', 403);
  });

  const stored = async (b: string, key: string) => bodyOf({ Body: (await s3n.node.client('default').objectGet(b, key)).stream });

  it('SSE-S3: encrypts an object asked with AES256, over plain HTTP too, and reads it back transparently', async () => {
    const b = await newBucket();
    const data = randomBytes(300_000);
    const put = await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'aes', Body: data, ServerSideEncryption: 'AES256' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    const raw = await stored(b, 'aes');
    assert.equal(raw.length, data.length);
    assert.equal(raw.indexOf(data.subarray(5000, 5032)), -1);
    const got = await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'aes' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.ok((await bodyOf(got)).equals(data));
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'aes', Range: 'bytes=77-99999' })))).equals(data.subarray(77, 100_000)));
    assert.equal((await plainHttp.send(new HeadObjectCommand({ Bucket: b, Key: 'aes' }))).ServerSideEncryption, 'AES256');
    // A customer key is not for it, nor both at once; DSSE-KMS is not done.
    await rejects(s3.send(new GetObjectCommand({ Bucket: b, Key: 'aes', ...sse(key1) })), 'InvalidRequest', 400);
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'both', Body: 'x', ServerSideEncryption: 'AES256', ...sse(key1) })), 'InvalidArgument', 400);
    await rejects(plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' })), 'NotImplemented', 501);
    // Conflicting headers are InvalidArgument, before DSSE is found not implemented.
    await rejects(s3.send(new PutObjectCommand({ Bucket: b, Key: 'both', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'k1', ...sse(key1) })), 'InvalidArgument', 400);
    await rejects(plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'both', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'k1' })), 'InvalidArgument', 400);
    await rejects(plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'both', Body: 'x', SSEKMSKeyId: 'k1' })), 'InvalidArgument', 400);
    await rejects(plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'both', Body: 'x', ServerSideEncryption: 'AES128' as 'AES256' })), 'InvalidArgument', 400);
    // A read does not name the gateway's encryption (S3: 400).
    const withSseHeader = (c: S3Client) => c.middlewareStack.add((next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-server-side-encryption'] = 'AES256';
      return next(args);
    }, { step: 'build', name: 'sseHeader' });
    const reader = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    withSseHeader(reader);
    await rejects(reader.send(new HeadObjectCommand({ Bucket: b, Key: 'aes' })), undefined, 400);
    await rejects(reader.send(new GetObjectCommand({ Bucket: b, Key: 'aes' })), 'InvalidArgument', 400);
    reader.destroy();
    const keyFile = path.join(s3n.node.dataDir, 's3', 'sse-master.key');
    assert.equal(fs.statSync(keyFile).mode & 0o077, 0, 'master key readable by its owner only');
  });

  it('SSE-KMS with the built-in key service: the key id asked for, or the bucket default\'s, or aws/s3; PUT, multipart, copy', async () => {
    const b = await newBucket();
    const data = randomBytes(70_000);
    const put = await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'named', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' }));
    assert.deepEqual([put.ServerSideEncryption, put.SSEKMSKeyId], ['aws:kms', 'key-1']);
    const got = await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'named', Range: 'bytes=100-69999' }));
    assert.deepEqual([got.ServerSideEncryption, got.SSEKMSKeyId], ['aws:kms', 'key-1']);
    assert.ok((await bodyOf(got)).equals(data.subarray(100)));
    // What the rawx keep is ciphertext (the library reads the stored bytes).
    const stored = await s3n.node.client('default').objectGet(b, 'named');
    const raw: Buffer[] = [];
    for await (const c of stored.stream) raw.push(c as Buffer);
    assert.equal(Buffer.concat(raw).length, data.length);
    assert.ok(!Buffer.concat(raw).equals(data));
    const anyKey = await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'default-key', Body: 'y', ServerSideEncryption: 'aws:kms' }));
    assert.equal(anyKey.SSEKMSKeyId, 'aws/s3');
    const up = await plainHttp.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-2' }));
    const part = await plainHttp.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: data }));
    await plainHttp.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const head = await plainHttp.send(new HeadObjectCommand({ Bucket: b, Key: 'mpu' }));
    assert.deepEqual([head.ServerSideEncryption, head.SSEKMSKeyId], ['aws:kms', 'key-2']);
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'mpu' })))).equals(data));
    const copy = await plainHttp.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/named`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-3' }));
    assert.equal(copy.SSEKMSKeyId, 'key-3');
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'copy' })))).equals(data));
  });

  it('keeps a default encryption with aws:kms and answers it back, encrypting writes under its key id', async () => {
    const b = await newBucket();
    await plainHttp.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'key-7' } }] } }));
    assert.deepEqual((await plainHttp.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules,
      [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'key-7' } }]);
    const put = await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    assert.deepEqual([put.ServerSideEncryption, put.SSEKMSKeyId], ['aws:kms', 'key-7']);
    assert.equal((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString(), 'x');
    assert.equal((await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' }))).ServerSideEncryption, 'AES256');
    await rejects(plainHttp.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'key-7' } }] } })), 'InvalidArgument', 400);
    await plainHttp.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    await rejects(plainHttp.send(new GetBucketEncryptionCommand({ Bucket: b })), 'ServerSideEncryptionConfigurationNotFoundError', 404);
  });

  it('SSE-S3: a bucket\'s default encryption covers PUT, multipart and copies; the data reads back after a restart', async () => {
    const b = await newBucket();
    await rejects(plainHttp.send(new GetBucketEncryptionCommand({ Bucket: b })), 'ServerSideEncryptionConfigurationNotFoundError', 404);
    await plainHttp.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] } }));
    assert.deepEqual((await plainHttp.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules,
      [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }]);
    const small = randomBytes(10_000);
    assert.equal((await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: small }))).ServerSideEncryption, 'AES256');
    assert.ok(!(await stored(b, 'small')).equals(small));
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(1000);
    const up = await plainHttp.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu' }));
    assert.equal(up.ServerSideEncryption, 'AES256');
    const e1 = await plainHttp.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: p1 }));
    const e2 = await plainHttp.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 2, Body: p2 }));
    await plainHttp.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
    // A copy from an SSE-C object into the bucket gets its default.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'customer', Body: small, ...sse(key1) }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copied', CopySource: `${b}/customer`, CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key1 as unknown as string }));
    assert.equal(copy.ServerSideEncryption, 'AES256');
    // Restarted: the master key is read back from the node's data, the objects decrypt.
    await s3n.node.kill('SIGTERM');
    await s3n.node.restart();
    for (let i = 0; i < 100; i++) { try { await plainHttp.send(new HeadObjectCommand({ Bucket: b, Key: 'small' })); break; } catch { await new Promise((r) => setTimeout(r, 200)); } }
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'small' })))).equals(small));
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'mpu', Range: `bytes=${5 * MiB - 5}-${5 * MiB + 5}` })))).equals(Buffer.concat([p1, p2]).subarray(5 * MiB - 5, 5 * MiB + 6)));
    assert.ok((await bodyOf(await plainHttp.send(new GetObjectCommand({ Bucket: b, Key: 'copied' })))).equals(small));
    await plainHttp.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    assert.equal((await plainHttp.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: small }))).ServerSideEncryption, undefined);
    assert.ok((await stored(b, 'plain')).equals(small));
  });
});
