/**
 * End-to-end: S3 Object Lock through @aws-sdk/client-s3 — buckets created with object lock,
 * default retention, retention and legal hold per version, deletions refused while a lock holds
 * (GOVERNANCE lifted by the bypass header, COMPLIANCE and legal hold by nothing), retentions
 * only made stronger, and the errors S3 answers.
 */
import { strict as assert } from 'node:assert';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand,
  GetObjectLegalHoldCommand, GetObjectLockConfigurationCommand, GetObjectRetentionCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand, PutObjectCommand, PutObjectLegalHoldCommand, PutObjectLockConfigurationCommand, PutObjectRetentionCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, rejects, startS3Node } from './s3-env';
import { signedRequest } from './sigv4-client';

const FAR = new Date('2040-02-01T00:00:00Z');
const FARTHER = new Date('2040-04-01T00:00:00Z');

describe('e2e: S3 Object Lock (@aws-sdk/client-s3)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;

  before(async () => {
    s3n = await startS3Node({ 's3.lifecycle_day': '1s', 's3.lifecycle_interval': '300ms' });
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  async function lockedBucket(): Promise<string> {
    const b = bucketName('lock');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
    return b;
  }
  const put = async (Bucket: string, Key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    (await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key, ...extra }))).VersionId!;

  it('configures a bucket: versioning on for good, default retention checked as S3 checks it', async () => {
    const b = await lockedBucket();
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    await rejects(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } })), 'InvalidBucketState', 409);
    const conf = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'COMPLIANCE' as const, Years: 1 } } };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: conf }));
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration, conf);
    const bad = (DefaultRetention: object) => s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } } }));
    await rejects(bad({ Mode: 'GOVERNANCE', Days: 1, Years: 1 }), 'MalformedXML', 400);
    await rejects(bad({ Mode: 'GOVERNANCE', Days: 0 }), 'InvalidRetentionPeriod', 400);
    await rejects(bad({ Mode: 'GOVERNANCE', Years: -1 }), 'InvalidRetentionPeriod', 400);
    await rejects(bad({ Mode: 'invalid', Days: 1 }), 'MalformedXML', 400);
    await rejects(s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Disabled' as 'Enabled' } })), 'MalformedXML', 400);
    // A bucket without object lock: none to read, none to set until versioning is enabled.
    const plain = bucketName('plain');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    await rejects(s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain })), 'ObjectLockConfigurationNotFoundError', 404);
    await rejects(s3.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: conf })), 'InvalidBucketState', 409);
    await put(plain, 'k');
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } })), 'InvalidRequest', 400);
    await rejects(s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: 'k' })), 'InvalidRequest', 400);
    await rejects(put(plain, 'k2', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: FAR }), 'InvalidRequest', 400);
    await s3.send(new PutBucketVersioningCommand({ Bucket: plain, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });

  it('locks new versions by the default retention (PUT, copy, multipart); a locked version is not deleted, a GOVERNANCE one yields to the bypass', async () => {
    const b = await lockedBucket();
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    const v = await put(b, 'doc');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
    // A locked write must prove its bytes (the SDK sends a CRC32; this raw request sends nothing).
    const bare = await signedRequest({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, s3n.host, { method: 'PUT', path: `/${b}/bare`, body: 'x' });
    assert.equal(bare.status, 400);
    assert.match(bare.body, /<Code>InvalidRequest<\/Code>/);
    const until = head.ObjectLockRetainUntilDate!.getTime();
    assert.ok(until > Date.now() + 23 * 3600_000 && until < Date.now() + 25 * 3600_000, String(head.ObjectLockRetainUntilDate));
    await rejects(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: v })), 'AccessDenied', 403);
    // A delete without version id adds a marker; the locked version stays.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'doc' }));
    assert.deepEqual(versions.Versions?.map((x) => x.VersionId), [v]);
    // Copies and completed uploads into the bucket get its default; copies out of it do not keep the lock.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/doc?versionId=${v}` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'copy' }))).ObjectLockMode, 'GOVERNANCE');
    const other = await lockedBucket();
    await s3.send(new CopyObjectCommand({ Bucket: other, Key: 'copy', CopySource: `${b}/doc?versionId=${v}` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: other, Key: 'copy' }))).ObjectLockMode, undefined);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mpu' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, PartNumber: 1, Body: Buffer.alloc(1000, 3) }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mpu', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mpu' }))).ObjectLockMode, 'GOVERNANCE');
    await rejects(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'mpu', VersionId: done.VersionId })), 'AccessDenied', 403);
    // DeleteObjects: per key, refused without the bypass, done with it.
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'doc', VersionId: v }, { Key: 'mpu', VersionId: done.VersionId }] } }));
    assert.deepEqual(res.Errors?.map((e) => e.Code), ['AccessDenied', 'AccessDenied']);
    const bypassed = await s3.send(new DeleteObjectsCommand({ Bucket: b, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'doc', VersionId: v }, { Key: 'mpu', VersionId: done.VersionId }] } }));
    assert.equal(bypassed.Errors, undefined);
    assert.equal(bypassed.Deleted?.length, 2);
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'mpu' }))).Versions, undefined);
  });

  it('sets retention and legal hold per version: only stronger retentions, COMPLIANCE and legal hold beyond any bypass', async () => {
    const b = await lockedBucket();
    const v1 = await put(b, 'k');
    const v2 = await put(b, 'k');
    await rejects(s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404);
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FARTHER } }));
    assert.deepEqual((await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1 }))).Retention, { Mode: 'GOVERNANCE', RetainUntilDate: FARTHER });
    // Shorter: only with the bypass; a date in the past is refused.
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } })), 'AccessDenied', 403);
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } }));
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date('2001-01-01T00:00:00Z') } })), 'InvalidArgument', 400);
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, Retention: { Mode: 'bogus' as 'GOVERNANCE', RetainUntilDate: FAR } })), 'MalformedXML', 400);
    // GOVERNANCE to COMPLIANCE (even as long): a change of its settings, only with the bypass.
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v1, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: FARTHER } })), 'AccessDenied', 403);
    // COMPLIANCE: no bypass shortens or deletes it.
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v2, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: FAR } }));
    await rejects(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v2, BypassGovernanceRetention: true, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FARTHER } })), 'AccessDenied', 403);
    await rejects(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
    assert.equal(head.ObjectLockMode, 'COMPLIANCE');
    assert.equal(head.ObjectLockRetainUntilDate?.getTime(), FAR.getTime());
    // Legal hold: ON keeps even a version without retention, OFF releases it.
    const v3 = await put(b, 'held', { ObjectLockLegalHoldStatus: 'ON' });
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'held' }))).LegalHold?.Status, 'ON');
    await rejects(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: v3, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    await rejects(s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'held', LegalHold: { Status: 'abc' as 'ON' } })), 'MalformedXML', 400);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'held', LegalHold: { Status: 'OFF' } }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'held' }))).LegalHold?.Status, 'OFF');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'held', VersionId: v3 }));
    // Headers of a write: mode and date go together, and are checked.
    await rejects(put(b, 'x', { ObjectLockMode: 'GOVERNANCE' }), 'InvalidArgument', 400);
    await rejects(put(b, 'x', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date('2001-01-01T00:00:00Z') }), 'InvalidArgument', 400);
    const vx = await put(b, 'x', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: FAR });
    assert.equal((await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'x', VersionId: vx }))).Retention?.Mode, 'COMPLIANCE');
  });

  it('keeps locked noncurrent versions from the lifecycle worker, removes the others', async () => {
    const b = await lockedBucket();
    const old = await put(b, 'n');
    const free = await put(b, 'n');
    const cur = await put(b, 'n');
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'n', VersionId: old, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] } }));
    let left: string[] = [];
    for (let i = 0; i < 120; i++) {
      left = ((await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'n' }))).Versions ?? []).map((x) => x.VersionId!);
      if (!left.includes(free)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(left.sort(), [cur, old].sort());
  });
});
