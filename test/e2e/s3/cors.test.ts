/**
 * End-to-end: CORS on actual requests (not preflights) as browsers send them: the rules'
 * origin wildcards (`*suffix`, `start*end`, `prefix*`, `*`), the method taken from
 * Access-Control-Request-Method when the request names one, the headers on error answers
 * (404, and 403 for a request refused before authentication), and preflights of presigned URLs.
 */
import { strict as assert } from 'node:assert';
import { CreateBucketCommand, PutBucketCorsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, startS3Node } from './s3-env';
import { presign, send, signedRequest } from './sigv4-client';

describe('e2e: S3 CORS on actual requests', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let s3: S3Client;
  let b: string;
  const creds = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

  before(async () => {
    s3n = await startS3Node();
    s3 = new S3Client({ endpoint: s3n.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1 });
    b = bucketName('cors');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [
      { AllowedMethods: ['GET'], AllowedOrigins: ['*suffix'], ExposeHeaders: ['x-amz-meta-a', 'ETag'], MaxAgeSeconds: 30 },
      { AllowedMethods: ['GET'], AllowedOrigins: ['start*end'] },
      { AllowedMethods: ['GET'], AllowedOrigins: ['prefix*'] },
      { AllowedMethods: ['PUT'], AllowedOrigins: ['*.put'] },
    ] } }));
  });
  after(async () => { s3?.destroy(); await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  const allowed = (h: Record<string, unknown>) => [h['access-control-allow-origin'], h['access-control-allow-methods']];

  it('matches origins with wildcards and answers the rule\'s headers', async () => {
    const get = (origin: string) => signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}/k`, headers: { origin } });
    for (const [origin, ok] of [['foo.suffix', true], ['foo.bar', false], ['foo.suffix.get', false], ['startend', true], ['start12end', true],
      ['0start12end', false], ['prefix', true], ['prefix.suffix', true], ['bla.prefix', false]] as const) {
      const res = await get(origin);
      assert.equal(res.status, 200);
      assert.deepEqual(allowed(res.headers), ok ? [origin, 'GET'] : [undefined, undefined], origin);
    }
    const res = await get('foo.suffix');
    assert.equal(res.headers['access-control-expose-headers'], 'x-amz-meta-a, ETag');
    assert.equal(res.headers['access-control-max-age'], '30');
    const none = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}/k` });
    assert.deepEqual(allowed(none.headers), [undefined, undefined], 'no Origin, no CORS headers');
  });

  it('takes the method from Access-Control-Request-Method and answers the headers with errors', async () => {
    const missing = await signedRequest(creds, s3n.host, { method: 'GET', path: `/${b}/missing`, headers: { origin: 'foo.suffix' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(allowed(missing.headers), ['foo.suffix', 'GET']);
    const put = (headers: Record<string, string>) => signedRequest(creds, s3n.host, { method: 'PUT', path: `/${b}/p`, body: 'x', headers });
    assert.deepEqual(allowed((await put({ origin: 'foo.suffix', 'access-control-request-method': 'GET' })).headers), ['foo.suffix', 'GET']);
    assert.deepEqual(allowed((await put({ origin: 'foo.suffix', 'access-control-request-method': 'PUT' })).headers), [undefined, undefined]);
    assert.deepEqual(allowed((await put({ origin: 'foo.suffix' })).headers), [undefined, undefined]);
    assert.deepEqual(allowed((await put({ origin: 'foo.put' })).headers), ['foo.put', 'PUT']);
    // Not signed: refused before routing, still with the bucket's CORS headers.
    const anonymous = await send(s3n.host, 'PUT', `/${b}/p`, { origin: 'foo.put', 'content-length': '0' }, Buffer.alloc(0));
    assert.equal(anonymous.status, 403);
    assert.deepEqual(allowed(anonymous.headers), ['foo.put', 'PUT']);
    const anonymousGet = await send(s3n.host, 'GET', `/${b}/k`, { origin: 'startend' }, Buffer.alloc(0));
    assert.equal(anonymousGet.status, 403);
    assert.deepEqual(allowed(anonymousGet.headers), ['startend', 'GET']);
    const otherBucket = await send(s3n.host, 'GET', `/${b}-none/k`, { origin: 'startend' }, Buffer.alloc(0));
    assert.deepEqual(allowed(otherBucket.headers), [undefined, undefined]);
  });

  it('answers the preflight of a presigned URL (unsigned OPTIONS with its query)', async () => {
    const url = new URL(presign(creds, s3n.host, 'PUT', `/${b}/up`));
    const path = `${url.pathname}${url.search}`;
    const noOrigin = await send(s3n.host, 'OPTIONS', path, {}, Buffer.alloc(0));
    assert.equal(noOrigin.status, 400);
    const pre = await send(s3n.host, 'OPTIONS', path, { origin: 'x.put', 'access-control-request-method': 'PUT' }, Buffer.alloc(0));
    assert.equal(pre.status, 200);
    assert.deepEqual(allowed(pre.headers), ['x.put', 'PUT']);
    const refused = await send(s3n.host, 'OPTIONS', path, { origin: 'x.put', 'access-control-request-method': 'GET' }, Buffer.alloc(0));
    assert.equal(refused.status, 403);
    assert.deepEqual(allowed(refused.headers), [undefined, undefined]);
    const up = await send(s3n.host, 'PUT', path, { origin: 'x.put' }, Buffer.from('data'));
    assert.equal(up.status, 200, up.body);
    assert.deepEqual(allowed(up.headers), ['x.put', 'PUT']);
  });
});
