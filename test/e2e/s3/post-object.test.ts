/**
 * End-to-end: browser form uploads (POST Object with a SigV4 policy). The policy and its
 * fields come from `@aws-sdk/s3-presigned-post` (createPresignedPost), the form is posted by
 * curl (`--form-string` fields, `-F file=@...`), and the object is read back with the SDK.
 */
import { strict as assert } from 'node:assert';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand, DeleteBucketEncryptionCommand, DeleteBucketPolicyCommand, GetObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand, PutBucketPolicyCommand, S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, requireTool, run, startS3Node } from './s3-env';

interface Posted { status: number; headers: string; body: string }

describe('e2e: S3 browser form uploads (POST Object) with createPresignedPost and curl', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;
  let dir: string;
  let bucket: string;

  before(async function () {
    requireTool(this, 'curl');
    s3n = await startS3Node();
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    dir = tmpDir('s3-post-');
    bucket = bucketName('post');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  function file(name: string, data: Buffer): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  }

  /** Posts the fields (as given, in order) then the file, with curl. */
  function post(url: string, fields: Record<string, string>, filePath?: string): Posted {
    const out = path.join(dir, 'out');
    const hdr = path.join(dir, 'hdr');
    const args = ['-s', '-o', out, '-D', hdr, '-w', '%{http_code}', '-X', 'POST'];
    for (const [k, v] of Object.entries(fields)) args.push('--form-string', `${k}=${v}`);
    if (filePath) args.push('-F', `file=@${filePath}`);
    args.push(url);
    const r = run('curl', args);
    assert.equal(r.status, 0, r.stderr);
    return { status: Number(r.stdout), headers: fs.readFileSync(hdr, 'utf8'), body: fs.readFileSync(out, 'utf8') };
  }

  async function presigned(opts: Omit<PresignedPostOptions, 'Bucket'>): Promise<{ url: string; fields: Record<string, string> }> {
    const p = await createPresignedPost(s3 as never, { Bucket: bucket, Expires: 300, ...opts });
    return { url: p.url, fields: p.fields };
  }

  async function bodyOf(key: string): Promise<{ data: Buffer; type?: string; meta?: Record<string, string>; etag?: string }> {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const parts: Buffer[] = [];
    for await (const c of got.Body as Readable) parts.push(Buffer.from(c as Buffer));
    return { data: Buffer.concat(parts), type: got.ContentType, meta: got.Metadata, etag: got.ETag };
  }

  async function absent(key: string): Promise<void> {
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), (e: { name: string }) => e.name === 'NotFound');
  }

  it('stores the file under the policy\'s key with its metadata, answering 201 PostResponse', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const p = await presigned({
      Key: 'uploads/${filename}',
      Conditions: [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 8 * 1024 * 1024]],
      Fields: { 'Content-Type': 'text/x-form', 'x-amz-meta-origin': 'browser', success_action_status: '201' },
    });
    const r = post(p.url, p.fields, file('photo one.bin', data));
    assert.equal(r.status, 201, r.body);
    assert.match(r.body, /<PostResponse[^>]*>.*<Key>uploads\/photo one\.bin<\/Key>/s);
    const etag = `"${createHash('md5').update(data).digest('hex')}"`;
    assert.ok(r.body.includes(`<ETag>${etag.replace(/"/g, '&quot;')}</ETag>`) || r.body.includes(`<ETag>${etag}</ETag>`), r.body);
    const got = await bodyOf('uploads/photo one.bin');
    assert.ok(got.data.equals(data));
    assert.equal(got.type, 'text/x-form');
    assert.equal(got.meta?.origin, 'browser');
    assert.equal(got.etag, etag);
  });

  it('keeps to the bucket\'s policy and default encryption', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/closed/*` }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    try {
      const denied = post((await presigned({ Key: 'closed/a.txt' })).url, (await presigned({ Key: 'closed/a.txt' })).fields, file('c.txt', Buffer.from('no')));
      assert.equal(denied.status, 403, denied.body);
      assert.match(denied.body, /<Code>AccessDenied<\/Code>/);
      await absent('closed/a.txt');
      const p = await presigned({ Key: 'open/b.txt' });
      assert.equal(post(p.url, p.fields, file('b.txt', Buffer.from('sealed form'))).status, 204);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'open/b.txt' }))).ServerSideEncryption, 'AES256');
      assert.equal((await bodyOf('open/b.txt')).data.toString(), 'sealed form');
    } finally {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    }
  });

  it('answers 204 by default and 303 to success_action_redirect', async () => {
    const p = await presigned({ Key: 'plain.txt' });
    const r = post(p.url, p.fields, file('a.txt', Buffer.from('hello form')));
    assert.equal(r.status, 204, r.body);
    assert.equal((await bodyOf('plain.txt')).data.toString(), 'hello form');
    const q = await presigned({ Key: 'redirected.txt', Fields: { success_action_redirect: 'https://app.example/done' } });
    const d = post(q.url, q.fields, file('b.txt', Buffer.from('bye')));
    assert.equal(d.status, 303, d.body);
    assert.match(d.headers, /^location: https:\/\/app\.example\/done\?bucket=[^&]+&key=redirected\.txt&etag=%22[0-9a-f]{32}%22\r?$/im);
  });

  it('refuses what the policy does not allow, storing nothing', async () => {
    const small = await presigned({ Key: 'small.bin', Conditions: [['content-length-range', 1, 10]] });
    const big = post(small.url, small.fields, file('big.bin', randomBytes(11)));
    assert.equal(big.status, 400);
    assert.match(big.body, /<Code>EntityTooLarge<\/Code>/);
    await absent('small.bin');
    const empty = post(small.url, small.fields, file('empty.bin', Buffer.alloc(0)));
    assert.match(empty.body, /<Code>EntityTooSmall<\/Code>/);

    const scoped = await presigned({ Key: 'uploads/x', Conditions: [['starts-with', '$key', 'uploads/']] });
    const outside = post(scoped.url, { ...scoped.fields, key: 'elsewhere/x' }, file('c.txt', Buffer.from('x')));
    assert.equal(outside.status, 403);
    assert.match(outside.body, /<Code>AccessDenied<\/Code>.*Policy Condition failed/s);
    const extra = post(scoped.url, { ...scoped.fields, 'x-amz-meta-sneaky': '1' }, file('c.txt', Buffer.from('x')));
    assert.equal(extra.status, 403);
    assert.match(extra.body, /Extra input fields: x-amz-meta-sneaky/);
    const sig = scoped.fields['X-Amz-Signature']!;
    const forged = post(scoped.url, { ...scoped.fields, 'X-Amz-Signature': sig.replace(/^./, sig[0] === '0' ? '1' : '0') }, file('c.txt', Buffer.from('x')));
    assert.equal(forged.status, 403);
    assert.match(forged.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    const anonymous = post(scoped.url, { key: 'uploads/anon' }, file('c.txt', Buffer.from('x')));
    assert.equal(anonymous.status, 403);
    assert.match(anonymous.body, /<Code>AccessDenied<\/Code>/);
    const noFile = post(scoped.url, scoped.fields);
    assert.equal(noFile.status, 400);
    assert.match(noFile.body, /<Code>MalformedPOSTRequest<\/Code>/);
    await absent('uploads/x');
    await absent('elsewhere/x');
    await absent('uploads/anon');

    const expiring = await presigned({ Key: 'late.txt', Expires: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const late = post(expiring.url, expiring.fields, file('d.txt', Buffer.from('late')));
    assert.equal(late.status, 403);
    assert.match(late.body, /Policy expired/);
    await absent('late.txt');
  });

  /** A policy signed with Signature Version 2 (base64 HMAC-SHA1 of the base64 policy), as older SDKs sign forms. */
  function v2Form(key: string, conditions: unknown[], secret = SECRET_KEY): Record<string, string> {
    const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 300_000).toISOString(), conditions: [{ bucket }, ...conditions] })).toString('base64');
    return { key, AWSAccessKeyId: ACCESS_KEY, policy, signature: createHmac('sha1', secret).update(policy).digest('base64') };
  }

  it('takes a policy signed with Signature Version 2, and refuses a wrong or missing signature', async () => {
    const url = `${s3n.endpoint}/${bucket}`;
    const ok = post(url, { ...v2Form('v2/a.txt', [['starts-with', '$key', 'v2/'], ['starts-with', '$Content-Type', 'text/']]), 'Content-Type': 'text/plain' }, file('v2.txt', Buffer.from('signed the old way')));
    assert.equal(ok.status, 204, ok.body);
    const got = await bodyOf('v2/a.txt');
    assert.equal(got.data.toString(), 'signed the old way');
    assert.equal(got.type, 'text/plain');

    const wrong = post(url, v2Form('v2/b.txt', [['starts-with', '$key', 'v2/']], 'not-the-secret'), file('v2.txt', Buffer.from('x')));
    assert.equal(wrong.status, 403);
    assert.match(wrong.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    const { signature: _s, ...unsigned } = v2Form('v2/c.txt', [['starts-with', '$key', 'v2/']]);
    const missing = post(url, unsigned, file('v2.txt', Buffer.from('x')));
    assert.equal(missing.status, 400);
    assert.match(missing.body, /<Code>InvalidArgument<\/Code>/);
    await absent('v2/b.txt');
    await absent('v2/c.txt');
  });

  it('verifies and keeps an x-amz-checksum-* field, storing nothing when the file does not match', async () => {
    const url = `${s3n.endpoint}/${bucket}`;
    const data = randomBytes(40_000);
    const sha = createHash('sha256').update(data).digest('base64');
    const good = post(url, { ...v2Form('sum/good.bin', [['starts-with', '$key', 'sum/']]), 'x-amz-checksum-sha256': sha }, file('sum.bin', data));
    assert.equal(good.status, 204, good.body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sum/good.bin', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha);
    const bad = post(url, { ...v2Form('sum/bad.bin', [['starts-with', '$key', 'sum/']]), 'x-amz-checksum-sha256': createHash('sha256').update('other').digest('base64') }, file('sum.bin', data));
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>BadDigest<\/Code>/);
    await absent('sum/bad.bin');
  });
});
