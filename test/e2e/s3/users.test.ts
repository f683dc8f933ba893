/**
 * End-to-end: S3 users. `oio user create|list|delete` (bin/oio) manage access keys; each
 * key maps to its account (buckets of one account are closed to another); secrets are shown
 * once by `create`, never by `list`, and never written to the node's logs; a deleted key
 * is refused (InvalidAccessKeyId).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, startS3Node } from './s3-env';

const BIN = path.resolve(__dirname, '../../../../bin/oio');

describe('e2e: S3 users (oio user, access keys -> accounts)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  const oio = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, OIO_PROXY: s3n.node.proxy }, encoding: 'utf8' });
  const client = (ak: string, sk: string) => new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ak, secretAccessKey: sk }, maxAttempts: 1 });

  before(async () => { s3n = await startS3Node(); });
  after(async () => { await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('creates users mapped to accounts, lists them without secrets, deletes them', async () => {
    const created = JSON.parse(oio('user', 'create', 'alicekey', '--secret-key', 'alice-secret-123', '--oio-account', 'alice', '--format', 'json')) as Record<string, string>;
    assert.deepEqual(created, { access_key: 'alicekey', secret_key: 'alice-secret-123', account: 'alice' });
    const generated = JSON.parse(oio('user', 'create', '--oio-account', 'bob', '--format', 'json')) as Record<string, string>;
    assert.match(generated.access_key!, /^[A-Z0-9]{20}$/);
    assert.ok(generated.secret_key!.length >= 32);
    const list = oio('user', 'list', '--format', 'json');
    assert.ok(!list.includes('alice-secret-123') && !list.includes(generated.secret_key!) && !list.includes(SECRET_KEY), 'no secret in the list');
    const users = JSON.parse(list) as Array<Record<string, string>>;
    assert.deepEqual(users.map((u) => [u['Access key'], u.Account]).sort(), [['alicekey', 'alice'], [ACCESS_KEY, 'default'], [generated.access_key!, 'bob']].sort());

    const alice = client('alicekey', 'alice-secret-123');
    const bob = client(generated.access_key!, generated.secret_key!);
    const b = bucketName('alice');
    await alice.send(new CreateBucketCommand({ Bucket: b }));
    await alice.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    await assert.rejects(bob.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), (e: Error) => e.name === 'AccessDenied', 'another account may not write in the bucket');
    assert.ok(!((await bob.send(new ListBucketsCommand({}))).Buckets ?? []).some((x) => x.Name === b));

    oio('user', 'delete', 'alicekey');
    // The gateway caches keys for a few seconds: poll until the deleted key is refused.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const err = await alice.send(new ListBucketsCommand({})).then(() => undefined, (e: Error) => e);
      if (err) { assert.equal(err.name, 'InvalidAccessKeyId'); break; }
      assert.ok(Date.now() < deadline, 'a deleted key is refused');
      await new Promise((r) => setTimeout(r, 250));
    }
    alice.destroy();
    bob.destroy();
    const log = fs.readFileSync(path.join(s3n.node.dataDir, 'node.log'), 'utf8');
    for (const secret of ['alice-secret-123', generated.secret_key!, SECRET_KEY]) assert.ok(!log.includes(secret), 'secrets never reach the logs');
  });

  it('takes the default user of `oio node up` from OIO_S3_ACCESS_KEY / OIO_S3_SECRET_KEY', async () => {
    const saved = { ak: process.env.OIO_S3_ACCESS_KEY, sk: process.env.OIO_S3_SECRET_KEY };
    process.env.OIO_S3_ACCESS_KEY = 'envuser';
    process.env.OIO_S3_SECRET_KEY = 'env-secret-key-42';
    let other: S3Node | undefined;
    try {
      other = await startS3Node();
    } finally {
      for (const [k, v] of [['OIO_S3_ACCESS_KEY', saved.ak], ['OIO_S3_SECRET_KEY', saved.sk]] as const) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
    try {
      const c = new S3Client({ endpoint: other.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'envuser', secretAccessKey: 'env-secret-key-42' }, maxAttempts: 1 });
      const b = bucketName('env');
      await c.send(new CreateBucketCommand({ Bucket: b }));
      const demo = new S3Client({ endpoint: other.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
      await assert.rejects(demo.send(new ListBucketsCommand({})), (e: Error) => e.name === 'InvalidAccessKeyId', 'the documented default is replaced');
      c.destroy();
      demo.destroy();
      assert.ok(!fs.readFileSync(path.join(other.node.dataDir, 'node.log'), 'utf8').includes('env-secret-key-42'));
    } finally {
      await other.node.stop();
    }
  });
});
