/**
 * End-to-end: s3cmd (Debian) against a real node's S3 gateway, path style, Signature V4:
 * mb, put (single and multipart), ls, get, info, del, rb.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, clientEnv, requireTool, run, runOk, startS3Node } from './s3-env';

describe('e2e: S3 gateway with s3cmd', function () {
  this.timeout(180_000);
  let s3n: S3Node;
  let cfg: string;
  const s3cmd = (...args: string[]) => runOk('s3cmd', ['-c', cfg, ...args], clientEnv());

  before(async function () {
    requireTool(this, 's3cmd');
    s3n = await startS3Node();
    cfg = path.join(tmpDir('s3cmd-'), 's3cfg');
    fs.writeFileSync(cfg, [
      '[default]', `access_key = ${ACCESS_KEY}`, `secret_key = ${SECRET_KEY}`, `host_base = ${s3n.host}`, `host_bucket = ${s3n.host}`,
      'use_https = False', 'signature_v2 = False', 'bucket_location = us-east-1', '',
    ].join('\n'));
  });
  after(async () => { await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('makes a bucket, puts (single and multipart), lists, gets and deletes', () => {
    const b = bucketName('s3cmd');
    s3cmd('mb', `s3://${b}`);
    const dir = tmpDir('s3cmd-data-');
    const small = path.join(dir, 'small.txt');
    fs.writeFileSync(small, 'small file');
    const big = path.join(dir, 'big.bin');
    const data = randomBytes(12 * 1024 * 1024 + 5);
    fs.writeFileSync(big, data);
    s3cmd('put', small, `s3://${b}/docs/small.txt`);
    s3cmd('put', big, `s3://${b}/big.bin`, '--multipart-chunk-size-mb=5');
    const ls = s3cmd('ls', '-r', `s3://${b}`);
    assert.match(ls, /s3:\/\/[^/]+\/big\.bin/);
    assert.match(ls, /docs\/small\.txt/);
    const top = s3cmd('ls', `s3://${b}`);
    assert.match(top, /DIR\s+s3:\/\/[^/]+\/docs\//);
    const info = s3cmd('info', `s3://${b}/big.bin`);
    assert.match(info, /File size:\s+12582917/);
    assert.match(info, /MD5 sum:/);
    const back = path.join(dir, 'back.bin');
    s3cmd('get', `s3://${b}/big.bin`, back);
    assert.ok(fs.readFileSync(back).equals(data));
    const rbFull = run('s3cmd', ['-c', cfg, 'rb', `s3://${b}`], clientEnv());
    assert.notEqual(rbFull.status, 0);
    assert.match(rbFull.stderr, /BucketNotEmpty/);
    s3cmd('del', '--recursive', '--force', `s3://${b}`);
    s3cmd('rb', `s3://${b}`);
    const missing = run('s3cmd', ['-c', cfg, 'ls', `s3://${b}`], clientEnv());
    assert.match(missing.stderr, /NoSuchBucket/);
  });

  it('sets, reads and deletes a bucket lifecycle (expire, getlifecycle, dellifecycle)', () => {
    const b = bucketName('s3cmdlc');
    s3cmd('mb', `s3://${b}`);
    s3cmd('expire', `s3://${b}`, '--expiry-days=7', '--expiry-prefix=logs/');
    const got = s3cmd('getlifecycle', `s3://${b}`);
    assert.match(got, /<Prefix>logs\/<\/Prefix>/);
    assert.match(got, /<Days>7<\/Days>/);
    assert.match(got, /<Status>Enabled<\/Status>/);
    s3cmd('dellifecycle', `s3://${b}`);
    const none = run('s3cmd', ['-c', cfg, 'getlifecycle', `s3://${b}`], clientEnv());
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /NoSuchLifecycleConfiguration/);
    s3cmd('rb', `s3://${b}`);
  });
});
