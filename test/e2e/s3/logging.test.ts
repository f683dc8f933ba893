/**
 * End-to-end: the server access logging API as S3 checks it. The target bucket's policy must
 * let logging.s3.amazonaws.com put objects under the prefix for the source bucket and account
 * (AccessDenied otherwise, and no delivery once the policy stops allowing it); the target may
 * be another account's bucket; TargetObjectKeyFormat (SimplePrefix answered by default,
 * PartitionedPrefix keys account/region/bucket/YYYY/MM/DD/); validation errors.
 */
import { strict as assert } from 'node:assert';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketLoggingCommand, ListObjectsV2Command, PutBucketEncryptionCommand, PutBucketLoggingCommand, PutBucketPolicyCommand,
  PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, rejects, startS3Node } from './s3-env';

/** A target bucket policy allowing log delivery from `sources` (bucket, account) under `prefix`. */
function deliveryPolicy(target: string, prefix: string, sources: Array<[string, string]>, resourceSuffix = ''): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: sources.map(([bucket, account]) => ({
      Sid: 'S3ServerAccessLogsPolicy', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: ['s3:PutObject'],
      Resource: `arn:aws:s3:::${target}/${prefix}${resourceSuffix}`,
      Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${bucket}` }, StringEquals: { 'aws:SourceAccount': account } },
    })),
  });
}

describe('e2e: S3 server access logging: permissions and key formats', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;
  let alt: S3Client;

  const client = (accessKeyId: string, secretAccessKey: string) => new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
  const enable = (c: S3Client, bucket: string, target: string, prefix: string, extra: Record<string, unknown> = {}) =>
    c.send(new PutBucketLoggingCommand({ Bucket: bucket, BucketLoggingStatus: { LoggingEnabled: { TargetBucket: target, TargetPrefix: prefix, ...extra } } }));
  async function keysUnder(bucket: string, prefix: string, atLeast: number): Promise<string[]> {
    let keys: string[] = [];
    for (let i = 0; i < 40 && keys.length < atLeast; i++) {
      await new Promise((r) => setTimeout(r, 250));
      keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
    }
    return keys;
  }

  before(async () => {
    s3n = await startS3Node({ 's3.log_delivery_interval': '300ms' });
    await s3n.node.client('default').userCreate({ accessKey: 'logalt', secretKey: 'logalt-secret-123', account: 'logalt' });
    s3 = client(ACCESS_KEY, SECRET_KEY);
    alt = client('logalt', 'logalt-secret-123');
  });
  after(async () => { s3?.destroy(); alt?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('needs the target bucket policy to allow logging.s3.amazonaws.com for this source; validates the configuration', async () => {
    const src = bucketName('logsrc');
    const logs = bucketName('logdst');
    for (const b of [src, logs]) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await rejects(enable(s3, `${src}-none`, logs, 'log/'), 'NoSuchBucket', 404);
    await rejects(enable(s3, src, `${logs}-none`, 'log/'), 'InvalidTargetBucketForLogging', 400);
    await rejects(enable(s3, src, logs, 'log/'), 'AccessDenied', 403);
    for (const wrong of [deliveryPolicy(logs, 'log/', [['other', 'default']]), deliveryPolicy(logs, 'log/', [[src, 'someone']]), deliveryPolicy(logs, 'other/', [[src, 'default']])]) {
      await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: wrong }));
      await rejects(enable(s3, src, logs, 'log/'), 'AccessDenied', 403);
    }
    await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: deliveryPolicy(logs, 'log/', [[src, 'default']]) }));
    await enable(s3, src, logs, 'log/');
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: src }))).LoggingEnabled,
      { TargetBucket: logs, TargetPrefix: 'log/', TargetObjectKeyFormat: { SimplePrefix: {} } });
    // A wildcard resource covering the keys under the prefix does too.
    await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: deliveryPolicy(logs, 'log/', [[src, 'default']], '*') }));
    await enable(s3, src, logs, 'log/', { TargetGrants: [{ Grantee: { Type: 'CanonicalUser', ID: 'default' }, Permission: 'FULL_CONTROL' }] });
    await rejects(enable(s3, src, logs, 'log/', { TargetGrants: [{ Grantee: { Type: 'CanonicalUser', ID: 'someone' }, Permission: 'READ' }] }), 'NotImplemented', 501);
    await rejects(enable(s3, src, logs, 'log/', { TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'kaboom' as 'EventTime' } } }), 'MalformedXML', 400);
    await s3.send(new PutBucketEncryptionCommand({ Bucket: logs, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }));
    await rejects(enable(s3, src, logs, 'log/'), 'InvalidArgument', 400);
  });

  it('delivers under partitioned keys, and no more once the target policy stops allowing it', async () => {
    const src = bucketName('partsrc');
    const logs = bucketName('partdst');
    for (const b of [src, logs]) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: deliveryPolicy(logs, 'p/', [[src, 'default']]) }));
    await enable(s3, src, logs, 'p/', { TargetObjectKeyFormat: { PartitionedPrefix: { PartitionDateSource: 'DeliveryTime' } } });
    assert.deepEqual((await s3.send(new GetBucketLoggingCommand({ Bucket: src }))).LoggingEnabled?.TargetObjectKeyFormat, { PartitionedPrefix: { PartitionDateSource: 'DeliveryTime' } });
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'a', Body: 'a' }));
    const keys = await keysUnder(logs, 'p/', 1);
    const d = new Date();
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    assert.ok(keys.length >= 1 && keys.every((k) => k.startsWith(`p/default/us-east-1/${src}/${day}/`) && /\/\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]+$/.test(k)), keys.join(' '));
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: logs }));
    await new Promise((r) => setTimeout(r, 700));
    const before = (await s3.send(new ListObjectsV2Command({ Bucket: logs }))).KeyCount;
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'b', Body: 'b' }));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: logs }))).KeyCount, before, 'nothing delivered without the policy');
  });

  it('delivers into another account\'s bucket that allows it', async () => {
    const src = bucketName('altsrc');
    const logs = bucketName('sharedlogs');
    await alt.send(new CreateBucketCommand({ Bucket: src }));
    await s3.send(new CreateBucketCommand({ Bucket: logs }));
    await rejects(enable(alt, src, logs, 'alt/'), 'AccessDenied', 403);
    await s3.send(new PutBucketPolicyCommand({ Bucket: logs, Policy: deliveryPolicy(logs, 'alt/', [[src, 'logalt']]) }));
    await enable(alt, src, logs, 'alt/');
    await alt.send(new PutObjectCommand({ Bucket: src, Key: 'k', Body: 'k' }));
    assert.ok((await keysUnder(logs, 'alt/', 1)).length >= 1, 'the log object is in the target account\'s bucket');
  });
});
