/**
 * End-to-end: awscli (Debian) against a real node's S3 gateway: `aws s3` (mb, cp, ls, sync,
 * rm, rb), `aws s3api` (multipart is what `aws s3 cp` does above 8 MiB), `aws s3 presign`
 * fetched with curl, and the S3 errors awscli reports.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { S3Node, bucketName, clientEnv, requireTool, run, runOk, startS3Node } from './s3-env';

describe('e2e: S3 gateway with awscli', function () {
  this.timeout(180_000);
  let s3n: S3Node;
  let aws: (...args: string[]) => string;
  let awsRaw: (...args: string[]) => ReturnType<typeof run>;

  before(async function () {
    requireTool(this, 'aws');
    s3n = await startS3Node({ 's3.tls_port': 6443 });
    aws = (...args) => runOk('aws', ['--endpoint-url', s3n.endpoint, ...args]);
    awsRaw = (...args) => run('aws', ['--endpoint-url', s3n.endpoint, ...args]);
  });
  after(async () => { await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('makes a bucket, copies files both ways (multipart above 8 MiB), lists, syncs and removes', () => {
    const b = bucketName('cli');
    aws('s3', 'mb', `s3://${b}`);
    const dir = tmpDir('awscli-');
    const big = path.join(dir, 'big.bin');
    const data = randomBytes(20 * 1024 * 1024 + 123);
    fs.writeFileSync(big, data);
    aws('s3', 'cp', big, `s3://${b}/big.bin`, '--only-show-errors');
    const head = JSON.parse(aws('s3api', 'head-object', '--bucket', b, '--key', 'big.bin')) as { ContentLength: number; ETag: string };
    assert.equal(head.ContentLength, data.length);
    assert.match(head.ETag, /-3"$/, 'awscli uploaded 8 MiB parts');
    const back = path.join(dir, 'back.bin');
    aws('s3', 'cp', `s3://${b}/big.bin`, back, '--only-show-errors');
    assert.ok(fs.readFileSync(back).equals(data));

    const src = path.join(dir, 'tree');
    fs.mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a.txt'), 'a');
    fs.writeFileSync(path.join(src, 'sub', 'b.txt'), 'bb');
    fs.writeFileSync(path.join(src, 'sub', 'deeper', 'c.txt'), 'ccc');
    aws('s3', 'sync', src, `s3://${b}/tree`, '--only-show-errors');
    const ls = aws('s3', 'ls', `s3://${b}/tree/`, '--recursive');
    assert.deepEqual(ls.trim().split('\n').map((l) => l.trim().split(/\s+/).pop()), ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/c.txt']);
    const top = aws('s3', 'ls', `s3://${b}/tree/`);
    assert.match(top, /PRE sub\//);
    fs.writeFileSync(path.join(src, 'a.txt'), 'changed');
    fs.rmSync(path.join(src, 'sub', 'b.txt'));
    aws('s3', 'sync', src, `s3://${b}/tree`, '--delete', '--only-show-errors');
    const dst = path.join(dir, 'copy');
    aws('s3', 'sync', `s3://${b}/tree`, dst, '--only-show-errors');
    assert.equal(fs.readFileSync(path.join(dst, 'a.txt'), 'utf8'), 'changed');
    assert.ok(!fs.existsSync(path.join(dst, 'sub', 'b.txt')));
    assert.equal(fs.readFileSync(path.join(dst, 'sub', 'deeper', 'c.txt'), 'utf8'), 'ccc');

    aws('s3', 'rm', `s3://${b}`, '--recursive', '--only-show-errors');
    aws('s3', 'rb', `s3://${b}`);
    const gone = awsRaw('s3api', 'head-bucket', '--bucket', b);
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, /404|Not Found/);
  });

  it('uses s3api for metadata, copy, tagging and versions', () => {
    const b = bucketName('api');
    aws('s3api', 'create-bucket', '--bucket', b);
    const dir = tmpDir('awsapi-');
    const f = path.join(dir, 'f.txt');
    fs.writeFileSync(f, 'hello s3api');
    const put = JSON.parse(aws('s3api', 'put-object', '--bucket', b, '--key', 'k', '--body', f, '--metadata', 'owner=me', '--content-type', 'text/plain')) as { ETag: string };
    assert.equal(put.ETag, `"${createHash('md5').update('hello s3api').digest('hex')}"`);
    aws('s3api', 'copy-object', '--bucket', b, '--key', 'k2', '--copy-source', `${b}/k`);
    const h = JSON.parse(aws('s3api', 'head-object', '--bucket', b, '--key', 'k2')) as { Metadata: Record<string, string>; ContentType: string };
    assert.deepEqual(h.Metadata, { owner: 'me' });
    assert.equal(h.ContentType, 'text/plain');
    aws('s3api', 'put-object-tagging', '--bucket', b, '--key', 'k', '--tagging', 'TagSet=[{Key=t,Value=v}]');
    assert.deepEqual((JSON.parse(aws('s3api', 'get-object-tagging', '--bucket', b, '--key', 'k')) as { TagSet: unknown }).TagSet, [{ Key: 't', Value: 'v' }]);
    aws('s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled');
    aws('s3api', 'put-object', '--bucket', b, '--key', 'k', '--body', f);
    const versions = JSON.parse(aws('s3api', 'list-object-versions', '--bucket', b, '--prefix', 'k')) as { Versions: Array<{ Key: string; VersionId: string; IsLatest: boolean }> };
    assert.deepEqual(versions.Versions.filter((v) => v.Key === 'k').map((v) => v.IsLatest), [true, false]);
    const listed = JSON.parse(aws('s3api', 'list-objects-v2', '--bucket', b, '--max-items', '1')) as { Contents: Array<{ Key: string }>; NextToken?: string };
    assert.equal(listed.Contents.length, 1);
    assert.ok(listed.NextToken);
  });

  it('sets and reads a bucket lifecycle with s3api (the object then tells its expiry)', () => {
    const b = bucketName('lc');
    aws('s3api', 'create-bucket', '--bucket', b);
    const conf = { Rules: [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] };
    aws('s3api', 'put-bucket-lifecycle-configuration', '--bucket', b, '--lifecycle-configuration', JSON.stringify(conf));
    assert.deepEqual((JSON.parse(aws('s3api', 'get-bucket-lifecycle-configuration', '--bucket', b)) as { Rules: unknown }).Rules, conf.Rules);
    const dir = tmpDir('awslc-');
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    aws('s3api', 'put-object', '--bucket', b, '--key', 'tmp/f', '--body', path.join(dir, 'f'));
    const head = JSON.parse(aws('s3api', 'head-object', '--bucket', b, '--key', 'tmp/f')) as { Expiration?: string };
    // Three days after the write, at the next midnight UTC.
    const m = /^expiry-date="([^"]+)", rule-id="tmp"$/.exec(head.Expiration ?? '');
    assert.ok(m, head.Expiration);
    const at = Date.parse(m[1]!);
    assert.equal(at % 86_400_000, 0);
    assert.ok(at > Date.now() + 2 * 86_400_000 && at <= Date.now() + 4 * 86_400_000, m[1]);
    const bad = awsRaw('s3api', 'put-bucket-lifecycle-configuration', '--bucket', b, '--lifecycle-configuration', JSON.stringify({ Rules: [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }] }));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /InvalidArgument/);
    aws('s3api', 'delete-bucket-lifecycle', '--bucket', b);
    assert.match(awsRaw('s3api', 'get-bucket-lifecycle-configuration', '--bucket', b).stderr, /NoSuchLifecycleConfiguration/);
  });

  it('presigns a URL that curl can fetch', function () {
    requireTool(this, 'curl');
    const b = bucketName('pre');
    aws('s3', 'mb', `s3://${b}`);
    const dir = tmpDir('awspre-');
    fs.writeFileSync(path.join(dir, 'p.txt'), 'presigned content');
    aws('s3', 'cp', path.join(dir, 'p.txt'), `s3://${b}/p.txt`, '--only-show-errors');
    // awscli 1.x presigns with Signature V2 (refused here) unless told s3v4.
    const conf = path.join(dir, 'config');
    fs.writeFileSync(conf, '[default]\ns3 =\n    signature_version = s3v4\n');
    const url = runOk('aws', ['--endpoint-url', s3n.endpoint, 's3', 'presign', `s3://${b}/p.txt`, '--expires-in', '300'], clientEnv({ AWS_CONFIG_FILE: conf })).trim();
    assert.match(url, /X-Amz-Signature=/);
    assert.equal(runOk('curl', ['-sf', url], clientEnv()), 'presigned content');
    const tampered = run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url.replace('p.txt', 'q.txt')], clientEnv());
    assert.equal(tampered.stdout, '403');
  });

  it('serves S3 over HTTPS from the same gateway, with the certificate it made on first start', () => {
    // s3.tls_port: the certificate is checked against the file the gateway wrote (no --no-verify-ssl)
    const cert = path.join(s3n.node.dataDir, 's3', 'tls', 'cert.pem');
    assert.ok(fs.existsSync(cert), 'self-signed certificate made on first start');
    assert.equal(fs.statSync(path.join(s3n.node.dataDir, 's3', 'tls', 'key.pem')).mode & 0o077, 0, 'private key readable by its owner only');
    const https = (...args: string[]) => runOk('aws', ['--endpoint-url', `https://${s3n.node.ip}:6443`, '--ca-bundle', cert, ...args]);
    const b = bucketName('tls');
    https('s3', 'mb', `s3://${b}`);
    const dir = tmpDir('awstls-');
    const data = randomBytes(9 * 1024 * 1024 + 5); // multipart over TLS
    fs.writeFileSync(path.join(dir, 'in.bin'), data);
    https('s3', 'cp', path.join(dir, 'in.bin'), `s3://${b}/in.bin`, '--only-show-errors');
    // written over HTTPS, read over plain HTTP: one gateway, one namespace
    aws('s3', 'cp', `s3://${b}/in.bin`, path.join(dir, 'out.bin'), '--only-show-errors');
    assert.ok(fs.readFileSync(path.join(dir, 'out.bin')).equals(data));
    // a client that does not trust the certificate is refused by its own TLS check
    const untrusted = run('aws', ['--endpoint-url', `https://${s3n.node.ip}:6443`, 's3', 'ls', `s3://${b}`]);
    assert.notEqual(untrusted.status, 0);
    assert.match(untrusted.stderr, /SSL|certificate/i);
  });

  it('reports NoSuchBucket, NoSuchKey, InvalidAccessKeyId and SignatureDoesNotMatch', () => {
    const nb = awsRaw('s3api', 'list-objects-v2', '--bucket', 'no-such-bucket-here');
    assert.match(nb.stderr, /NoSuchBucket/);
    const b = bucketName('err');
    aws('s3', 'mb', `s3://${b}`);
    const nk = awsRaw('s3api', 'get-object', '--bucket', b, '--key', 'missing', '/dev/null');
    assert.match(nk.stderr, /NoSuchKey/);
    const badKey = run('aws', ['--endpoint-url', s3n.endpoint, 's3api', 'list-buckets'], clientEnv({ AWS_ACCESS_KEY_ID: 'UNKNOWNKEY' }));
    assert.match(badKey.stderr, /InvalidAccessKeyId/);
    const badSecret = run('aws', ['--endpoint-url', s3n.endpoint, 's3api', 'list-buckets'], clientEnv({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
    assert.match(badSecret.stderr, /SignatureDoesNotMatch/);
  });
});
