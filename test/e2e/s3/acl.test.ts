/**
 * End-to-end: S3 access control with the SDK, two accounts and unsigned requests. Bucket names
 * are global (BucketAlreadyExists across accounts, free again once deleted); canned ACLs and
 * x-amz-grant-* headers round trip through GetBucketAcl / GetObjectAcl; an anonymous GET
 * (plain Node http, no signature) reads a public-read object and nothing else; another
 * account gets in by an ACL grant or a policy Allow, and not otherwise; the public access
 * block refuses public ACLs and policies and ignores public grants; an anonymous form upload
 * lands in a public-read-write bucket only.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetBucketAclCommand, GetBucketPolicyStatusCommand, GetObjectAclCommand, GetObjectCommand,
  ListObjectsV2Command, PutBucketAclCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectAclCommand, PutObjectCommand, PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, rejects, startS3Node } from './s3-env';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

describe('e2e: S3 access control (global names, ACLs, anonymous requests, policies, public access block)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let owner: S3Client;
  let other: S3Client;
  const client = (ak: string, sk: string) => new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ak, secretAccessKey: sk }, maxAttempts: 1 });

  before(async () => {
    s3n = await startS3Node();
    await s3n.node.client('default').userCreate({ accessKey: 'otherkey', secretKey: 'other-secret-123', account: 'other' });
    owner = client(ACCESS_KEY, SECRET_KEY);
    other = client('otherkey', 'other-secret-123');
  });
  after(async () => { owner?.destroy(); other?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  /** An unsigned request (no Authorization, no presigned query). */
  function anon(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const u = new URL(path, s3n.endpoint);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const text = async (p: Promise<{ Body?: unknown }>) => (await (await p).Body as { transformToString(): Promise<string> }).transformToString();

  it('keeps bucket names global: another account meets BucketAlreadyExists, the name is free once deleted', async () => {
    const b = bucketName('global');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    await rejects(other.send(new CreateBucketCommand({ Bucket: b })), 'BucketAlreadyExists', 409);
    // us-east-1: creating a bucket one owns again succeeds (BucketAlreadyOwnedByYou in other regions).
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    // The other account reaches the owner's bucket (AccessDenied), not a bucket of its own.
    await rejects(other.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 'AccessDenied', 403);
    await rejects(other.send(new DeleteBucketCommand({ Bucket: b })), 'AccessDenied', 403);
    await owner.send(new DeleteBucketCommand({ Bucket: b }));
    await other.send(new CreateBucketCommand({ Bucket: b }));
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'mine' }));
    await rejects(owner.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'AccessDenied', 403);
    await other.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await other.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('reserves a bucket made before the bucket table for its account the first time that account names it', async () => {
    const b = bucketName('legacy');
    // A container of the owner's account whose name nobody reserved, as an older gateway made them.
    await s3n.node.client('default').containerCreate(b);
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'old' }));
    await rejects(other.send(new CreateBucketCommand({ Bucket: b })), 'BucketAlreadyExists', 409);
    assert.equal(await text(owner.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), 'old');
    await owner.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await owner.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('round-trips canned ACLs and grants, and serves a public-read object to anonymous requests only', async () => {
    const b = bucketName('canned');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    const bucketAcl = await owner.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(bucketAcl.Owner?.ID, 'default');
    assert.deepEqual(bucketAcl.Grants?.map((g) => [g.Grantee?.ID, g.Permission]), [['default', 'FULL_CONTROL']]);

    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'public.txt', Body: 'hello world', ACL: 'public-read' }));
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'private.txt', Body: 'secret' }));
    const acl = await owner.send(new GetObjectAclCommand({ Bucket: b, Key: 'public.txt' }));
    assert.deepEqual(acl.Grants?.map((g) => [g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]), [[ALL_USERS, 'READ'], ['default', 'FULL_CONTROL']]);

    const got = await anon('GET', `/${b}/public.txt`);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'hello world');
    const denied = await anon('GET', `/${b}/private.txt`);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /<Code>AccessDenied<\/Code>/);
    // Listing, writing, reading the ACL: not for anonymous requests.
    assert.equal((await anon('GET', `/${b}?list-type=2`)).status, 403);
    assert.equal((await anon('PUT', `/${b}/new.txt`, Buffer.from('x'))).status, 403);
    assert.equal((await anon('GET', `/${b}/public.txt?acl`)).status, 403);
    assert.equal((await anon('GET', '/')).status, 403);
    // An unknown bucket stays unknown to anonymous requests.
    assert.equal((await anon('GET', `/${bucketName('nothing')}/k`)).status, 404);

    // Back to private: anonymous reads stop.
    await owner.send(new PutObjectAclCommand({ Bucket: b, Key: 'public.txt', ACL: 'private' }));
    assert.equal((await anon('GET', `/${b}/public.txt`)).status, 403);

    // Grants by header and by document (group grants are answered first); bad input answered with S3 errors.
    await owner.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'id="other"', GrantWriteACP: `uri="${ALL_USERS}"` }));
    const granted = await owner.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(granted.Grants?.map((g) => [g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]), [[ALL_USERS, 'WRITE_ACP'], ['other', 'READ']]);
    await rejects(owner.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'id="nobody-of-that-name"' })), 'InvalidArgument', 400);
    await rejects(owner.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'emailAddress="x@example.com"' })), 'UnresolvableGrantByEmailAddress', 400);
    await rejects(owner.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: { Owner: { ID: 'other' }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'other' }, Permission: 'FULL_CONTROL' }] } })), 'AccessDenied', 403);
    await owner.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: { Owner: { ID: 'default' }, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'default' }, Permission: 'FULL_CONTROL' }] } }));
    assert.deepEqual((await owner.send(new GetBucketAclCommand({ Bucket: b }))).Grants?.map((g) => g.Permission), ['FULL_CONTROL']);
  });

  it('keeps an ACL per version', async () => {
    const b = bucketName('versions');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    await owner.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await owner.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one', ACL: 'public-read' }))).VersionId!;
    const v2 = (await owner.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }))).VersionId!;
    assert.equal((await owner.send(new GetObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v1 }))).Grants?.length, 2);
    assert.equal((await owner.send(new GetObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v2 }))).Grants?.length, 1);
    assert.equal((await anon('GET', `/${b}/k?versionId=${v1}`)).body, 'one');
    assert.equal((await anon('GET', `/${b}/k`)).status, 403);
  });

  it('lets another account in by an ACL grant: bucket WRITE writes objects it owns, READ lists', async () => {
    const b = bucketName('grant');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'owner' }));
    await rejects(other.send(new ListObjectsV2Command({ Bucket: b })), 'AccessDenied', 403);
    await rejects(other.send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'x' })), 'AccessDenied', 403);
    await owner.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'id="other"', GrantWrite: 'id="other"' }));
    assert.deepEqual((await other.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key), ['o']);
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'written by other' }));
    // The writer owns its object (and manages its ACL); the owner's objects stay unreadable to it.
    const wacl = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'w' }));
    assert.equal(wacl.Owner?.ID, 'other');
    await rejects(other.send(new GetObjectCommand({ Bucket: b, Key: 'o' })), 'AccessDenied', 403);
    // The bucket's owner reads another account's object only once granted (as S3 with ObjectWriter).
    await rejects(owner.send(new GetObjectCommand({ Bucket: b, Key: 'w' })), 'AccessDenied', 403);
    await rejects(owner.send(new GetObjectAclCommand({ Bucket: b, Key: 'w' })), 'AccessDenied', 403);
    await other.send(new PutObjectAclCommand({ Bucket: b, Key: 'w', ACL: 'bucket-owner-full-control' }));
    assert.deepEqual((await owner.send(new GetObjectAclCommand({ Bucket: b, Key: 'w' }))).Grants?.map((g) => [g.Grantee?.ID, g.Permission]), [['other', 'FULL_CONTROL'], ['default', 'FULL_CONTROL']]);
    assert.equal(await text(owner.send(new GetObjectCommand({ Bucket: b, Key: 'w' }))), 'written by other');
    // Bucket settings stay the owner's.
    await rejects(other.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), 'AccessDenied', 403);
    await rejects(other.send(new GetBucketPolicyStatusCommand({ Bucket: b })), 'AccessDenied', 403);
  });

  it('lets another account and anyone in by a policy Allow', async () => {
    const b = bucketName('policy');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'shared/a', Body: 'A' }));
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'home/b', Body: 'B' }));
    await owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::other:root' }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/shared/*` },
    ] }) }));
    assert.equal(await text(other.send(new GetObjectCommand({ Bucket: b, Key: 'shared/a' }))), 'A');
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'shared/c', Body: 'C' }));
    await rejects(other.send(new GetObjectCommand({ Bucket: b, Key: 'home/b' })), 'AccessDenied', 403);
    assert.equal((await anon('GET', `/${b}/shared/a`)).status, 403);
    assert.equal((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, false);

    await owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/shared/*` },
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/shared/c` },
    ] }) }));
    assert.equal((await anon('GET', `/${b}/shared/a`)).body, 'A');
    assert.equal((await anon('GET', `/${b}/shared/c`)).status, 403);
    assert.equal((await owner.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, true);
  });

  it('applies the public access block: public ACLs and policies refused, public grants ignored', async () => {
    const b = bucketName('pab');
    await owner.send(new CreateBucketCommand({ Bucket: b }));
    await owner.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' }));
    assert.equal((await anon('GET', `/${b}/k`)).status, 200);
    await owner.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false } }));
    assert.equal((await anon('GET', `/${b}/k`)).status, 403);
    await rejects(owner.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', ACL: 'public-read' })), 'AccessDenied', 403);
    await rejects(owner.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read-write' })), 'AccessDenied', 403);
    const publicPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }] };
    await rejects(owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(publicPolicy) })), 'AccessDenied', 403);
    // RestrictPublicBuckets: a public policy serves the owner alone.
    await owner.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { IgnorePublicAcls: true, RestrictPublicBuckets: true } }));
    await owner.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(publicPolicy) }));
    assert.equal((await anon('GET', `/${b}/k`)).status, 403);
    await rejects(other.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'AccessDenied', 403);
    await owner.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: {} }));
    assert.equal((await anon('GET', `/${b}/k`)).status, 200);
  });

  it('takes an anonymous form upload in a public-read-write bucket only, with the form\'s canned ACL', async () => {
    /** A form (multipart/form-data) with its fields then the file, sent unsigned in one write. */
    const post = (bucket: string, key: string, extra: Record<string, string> = {}) => {
      const boundary = '----acl-test-boundary';
      const fields = { key, ...extra };
      const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
      const body = Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\nform data\r\n--${boundary}--\r\n`);
      return anon('POST', `/${bucket}`, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    };
    const closed = bucketName('form-closed');
    await owner.send(new CreateBucketCommand({ Bucket: closed }));
    const refused = await post(closed, 'k');
    assert.equal(refused.status, 403);
    assert.match(refused.body, /<Code>AccessDenied<\/Code>/);

    const open = bucketName('form-open');
    await owner.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    const posted = await post(open, 'up.txt', { acl: 'public-read' });
    assert.equal(posted.status, 204, posted.body);
    assert.equal((await anon('GET', `/${open}/up.txt`)).body, 'form data');
    const bad = await post(open, 'bad.txt', { acl: 'world-writable' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>InvalidArgument<\/Code>/);
  });
});
