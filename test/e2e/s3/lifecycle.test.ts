/**
 * End-to-end: bucket lifecycle through @aws-sdk/client-s3 — the configuration (set, read back,
 * refused as S3 refuses it, deleted), the x-amz-expiration header, and the gateway's worker
 * applying the rules on a node whose lifecycle "day" is 2 s (s3.lifecycle_day) and whose worker
 * passes every 500 ms: expired current versions, delete markers on versioned buckets, noncurrent
 * versions beyond the ones kept, lone delete markers and old multipart uploads go; nothing
 * outside the rules does.
 */
import { strict as assert } from 'node:assert';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketLifecycleCommand, DeleteObjectCommand, GetBucketLifecycleConfigurationCommand, HeadObjectCommand,
  ListMultipartUploadsCommand, ListObjectVersionsCommand, ListObjectsV2Command, PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand, PutObjectCommand,
  S3Client, UploadPartCommand, type LifecycleRule,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, rejects, startS3Node } from './s3-env';

const DAY_MS = 2000;

/** Polls `check` until it returns true (the worker's passes are asynchronous), at most `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

describe('e2e: S3 bucket lifecycle (@aws-sdk/client-s3)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;

  before(async () => {
    s3n = await startS3Node({ 's3.lifecycle_day': `${DAY_MS}ms`, 's3.lifecycle_interval': '500ms' });
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  async function newBucket(versioned = false): Promise<string> {
    const b = bucketName('lc');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    return b;
  }
  const lifecycle = (Bucket: string, Rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
  const keys = async (Bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((c) => c.Key);
  const versions = async (Bucket: string, Prefix: string) => {
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
    return [...(v.Versions ?? []).map((x) => `${x.Key}:${x.VersionId}`), ...(v.DeleteMarkers ?? []).map((x) => `${x.Key}:marker`)].sort();
  };

  it('keeps a configuration, answers it back, refuses what S3 refuses, deletes it', async () => {
    const b = await newBucket();
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      { ID: 'tagged', Status: 'Disabled', Filter: { And: { Prefix: 'a/', Tags: [{ Key: 'tmp', Value: '1' }], ObjectSizeGreaterThan: 10 } }, NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 } },
      { ID: 'uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'date', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { Date: new Date('2040-01-01T00:00:00Z') } },
    ];
    await lifecycle(b, rules);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    assert.deepEqual(got.Rules, rules);
    // S3's refusals, and nothing replaced by a refused configuration.
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }]), 'InvalidArgument', 400);
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }, { ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } }]), 'InvalidArgument', 400);
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'enabled' as 'Enabled', Filter: {}, Expiration: { Days: 1 } }]), 'MalformedXML', 400);
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2040-01-01T12:00:00Z') } }]), 'InvalidArgument', 400);
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'Enabled', Filter: {} }]), 'InvalidRequest', 400);
    await rejects(lifecycle(b, [{ ID: 'x', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }]), 'NotImplemented', 501);
    assert.deepEqual((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules, rules);
    // The objects a rule will expire say when, and by which rule.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'logs/1', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'logs/1' }));
    const due = /^expiry-date="([^"]+)", rule-id="logs"$/.exec(head.Expiration ?? '');
    assert.ok(due, head.Expiration);
    // 30 days of 2 s after the write (HTTP dates are in whole seconds).
    const at = Date.parse(due[1]!);
    assert.ok(at > Date.now() + 25 * DAY_MS && at <= Date.now() + 30 * DAY_MS, due[1]);
    assert.match((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'logs/2', Body: 'y' }))).Expiration ?? '', /rule-id="logs"/);
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: b, Key: 'other', Body: 'y' }))).Expiration, undefined);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    await rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })), 'NoSuchLifecycleConfiguration', 404);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'logs/1' }))).Expiration, undefined);
  });

  it('expires current objects of an unversioned bucket by prefix and tag, aborts old uploads, leaves the rest', async () => {
    const b = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'tmp/a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep/b', Body: 'b' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep/tagged', Body: 'c', Tagging: 'expire=yes' }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep/other-tag', Body: 'd', Tagging: 'expire=no' }));
    const old = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'tmp/upload' }));
    await s3.send(new UploadPartCommand({ Bucket: b, Key: 'tmp/upload', UploadId: old.UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 1) }));
    const kept = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'keep/upload' }));
    await lifecycle(b, [
      { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      { ID: 'tag', Status: 'Enabled', Filter: { Tag: { Key: 'expire', Value: 'yes' } }, Expiration: { Days: 1 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
    ]);
    await eventually('tmp/a and keep/tagged expired, the old upload aborted', async () => {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [];
      return (await keys(b)).join() === 'keep/b,keep/other-tag' && uploads.length === 1;
    });
    const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [];
    assert.deepEqual(uploads.map((u) => [u.Key, u.UploadId]), [['keep/upload', kept.UploadId]]);
    // Several more days: what no enabled rule selects stays.
    await new Promise((r) => setTimeout(r, 2 * DAY_MS));
    assert.deepEqual(await keys(b), ['keep/b', 'keep/other-tag']);
  });

  it('on a versioned bucket: a delete marker over an expired object, noncurrent versions beyond the newest kept, markers left alone removed', async () => {
    const b = await newBucket(true);
    await lifecycle(b, [
      { ID: 'current', Status: 'Enabled', Filter: { Prefix: 'cur/' }, Expiration: { Days: 1 } },
      { ID: 'noncurrent', Status: 'Enabled', Filter: { Prefix: 'nc/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'dm/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const put = async (Key: string, Body: string) => (await s3.send(new PutObjectCommand({ Bucket: b, Key, Body }))).VersionId!;
    const cur = await put('cur/x', '1');
    const v1 = await put('nc/y', '1');
    const v2 = await put('nc/y', '2');
    const v3 = await put('nc/y', '3');
    await put('dm/z', '1');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dm/z' }));
    // A marker left alone under an Expiration in days goes once it is that old.
    const w = await put('cur/w', '1');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'cur/w' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'cur/w', VersionId: w }));
    await eventually('the lifecycle of cur/, nc/ and dm/ applied', async () =>
      (await versions(b, 'cur/')).join() === `cur/x:${cur},cur/x:marker` && (await versions(b, 'nc/')).length === 2 && (await versions(b, 'dm/')).length === 0);
    assert.deepEqual(await versions(b, 'nc/'), [`nc/y:${v2}`, `nc/y:${v3}`].sort());
    assert.ok(!(await versions(b, 'nc/')).includes(`nc/y:${v1}`));
    // The expired object is hidden, not lost: its version is still there.
    assert.deepEqual(await keys(b), ['nc/y']);
    await new Promise((r) => setTimeout(r, 2 * DAY_MS));
    assert.deepEqual(await versions(b, 'cur/'), [`cur/x:${cur}`, 'cur/x:marker']);
    assert.deepEqual(await versions(b, 'nc/'), [`nc/y:${v2}`, `nc/y:${v3}`].sort());
  });
});
