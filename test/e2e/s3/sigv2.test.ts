/**
 * End-to-end: requests signed by hand with AWS Signature Version 2 (as old clients and SDKs set
 * to `signature_version='s3'` sign them): the Authorization header form and presigned URLs,
 * with Content-MD5, Content-Type, x-amz- headers and sub-resources signed, and the refusals
 * (wrong secret, unknown key, a Date 20 min off, an expired URL). The signer below follows the
 * S3 documentation, independently of the gateway's (auth-v2.ts).
 */
import { strict as assert } from 'node:assert';
import { createHash, createHmac } from 'node:crypto';
import { dumpLogsOnFailure } from '../../helpers/grid';
import { ACCESS_KEY, S3Node, SECRET_KEY, bucketName, startS3Node } from './s3-env';
import { RawResponse, send } from './sigv4-client';

/** Base64(HMAC-SHA1(secret, StringToSign)). */
const sign = (secret: string, text: string) => createHmac('sha1', secret).update(text, 'utf8').digest('base64');

/** StringToSign of the S3 documentation: verb, Content-MD5, Content-Type, date, x-amz- headers, resource. */
function stringToSign(method: string, headers: Record<string, string>, date: string, resource: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const amz = Object.keys(lower).filter((k) => k.startsWith('x-amz-')).sort().map((k) => `${k}:${lower[k]}\n`).join('');
  return `${method}\n${lower['content-md5'] ?? ''}\n${lower['content-type'] ?? ''}\n${date}\n${amz}${resource}`;
}

describe('e2e: S3 Signature Version 2 (signed by hand)', function () {
  this.timeout(120_000);
  let s3n: S3Node;
  let b: string;

  /**
   * A request signed in the Authorization header; `sub` (a sub-resource, signed) and `query`
   * (other parameters, not signed) are added to the path as given.
   */
  function v2(method: string, path: string, opts: { sub?: string; query?: string; headers?: Record<string, string>; body?: string; secret?: string; accessKey?: string; time?: number } = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { date: new Date(opts.time ?? Date.now()).toUTCString(), ...opts.headers };
    const sub = opts.sub ? `?${opts.sub}` : '';
    const query = [opts.sub, opts.query].filter(Boolean).join('&');
    const sts = stringToSign(method, headers, headers['x-amz-date'] !== undefined ? '' : headers.date!, `${path}${sub}`);
    headers.authorization = `AWS ${opts.accessKey ?? ACCESS_KEY}:${sign(opts.secret ?? SECRET_KEY, sts)}`;
    return send(s3n.host, method, query ? `${path}?${query}` : path, headers, Buffer.from(opts.body ?? ''));
  }

  /** A presigned URL's path and query (AWSAccessKeyId, Expires, Signature). */
  function presigned(method: string, path: string, expiresAt: number, headers: Record<string, string> = {}): string {
    const expires = String(Math.floor(expiresAt / 1000));
    const sig = sign(SECRET_KEY, stringToSign(method, headers, expires, path));
    return `${path}?AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
  }

  before(async () => {
    s3n = await startS3Node({ 's3.sse_c_over_http': true });
    b = bucketName('sigv2');
    const created = await v2('PUT', `/${b}`);
    assert.equal(created.status, 200, created.body);
  });
  after(async () => { await s3n?.node.stop(); });
  afterEach(function () { dumpLogsOnFailure(this, s3n?.node); });

  it('puts and gets an object with Content-MD5, Content-Type and x-amz- headers signed', async () => {
    const body = 'hello v2';
    const md5 = createHash('md5').update(body).digest('base64');
    const put = await v2('PUT', `/${b}/dir/a%20key%C3%A9.txt`, { body, headers: { 'content-md5': md5, 'content-type': 'text/plain', 'x-amz-meta-color': 'blue', 'X-Amz-Meta-Size': 'big' } });
    assert.equal(put.status, 200, put.body);
    const get = await v2('GET', `/${b}/dir/a%20key%C3%A9.txt`);
    assert.equal(get.status, 200, get.body);
    assert.equal(get.body, body);
    assert.equal(get.headers['content-type'], 'text/plain');
    assert.equal(get.headers['x-amz-meta-color'], 'blue');
    // x-amz-date instead of Date (the Date line of the StringToSign then empty)
    const amzDate = await v2('HEAD', `/${b}/dir/a%20key%C3%A9.txt`, { headers: { 'x-amz-date': new Date().toUTCString() } });
    assert.equal(amzDate.status, 200);
  });

  it('signs sub-resources (?acl, ?tagging) and not the other parameters (list prefix)', async () => {
    const tag = await v2('PUT', `/${b}/dir/a%20key%C3%A9.txt`, { sub: 'tagging', body: '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>' });
    assert.equal(tag.status, 200, tag.body);
    const tags = await v2('GET', `/${b}/dir/a%20key%C3%A9.txt`, { sub: 'tagging' });
    assert.match(tags.body, /<Key>k<\/Key><Value>v<\/Value>/);
    const acl = await v2('GET', `/${b}`, { sub: 'acl' });
    assert.equal(acl.status, 200, acl.body);
    assert.match(acl.body, /<AccessControlPolicy/);
    const list = await v2('GET', `/${b}/`, { query: 'prefix=dir%2F&max-keys=5' });
    assert.equal(list.status, 200, list.body);
    assert.match(list.body, /<Key>dir\/a key\u00e9\.txt<\/Key>/);
    // The sub-resource left out of the signature: refused.
    const headers = { date: new Date().toUTCString() };
    const sig = sign(SECRET_KEY, stringToSign('GET', headers, headers.date, `/${b}`));
    const forged = await send(s3n.host, 'GET', `/${b}?acl`, { ...headers, authorization: `AWS ${ACCESS_KEY}:${sig}` }, Buffer.alloc(0));
    assert.equal(forged.status, 403);
    assert.match(forged.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('serves presigned GET and PUT URLs and refuses them once expired', async () => {
    const put = await send(s3n.host, 'PUT', presigned('PUT', `/${b}/pre`, Date.now() + 60_000, { 'content-type': 'application/x-test' }), { 'content-type': 'application/x-test' }, Buffer.from('presigned body'));
    assert.equal(put.status, 200, put.body);
    const get = await send(s3n.host, 'GET', presigned('GET', `/${b}/pre`, Date.now() + 60_000), {}, Buffer.alloc(0));
    assert.equal(get.status, 200, get.body);
    assert.equal(get.body, 'presigned body');
    const expired = await send(s3n.host, 'GET', presigned('GET', `/${b}/pre`, Date.now() - 1000), {}, Buffer.alloc(0));
    assert.equal(expired.status, 403);
    assert.match(expired.body, /<Code>AccessDenied<\/Code>.*Request has expired/s);
    const tampered = await send(s3n.host, 'GET', presigned('GET', `/${b}/pre`, Date.now() + 60_000).replace('/pre?', '/other?'), {}, Buffer.alloc(0));
    assert.equal(tampered.status, 403);
    assert.match(tampered.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('takes a browser form upload whose policy is signed the V2 way (AWSAccessKeyId, signature; the key checked with ${filename} replaced)', async () => {
    const policy = Buffer.from(JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket: b }, ['starts-with', '$key', 'form/f'], { acl: 'private' }, ['starts-with', '$Content-Type', 'text/'], ['content-length-range', 0, 1024]],
    })).toString('base64');
    /** The form, encoded whole (sent in one write: a refusal comes before the file is read). */
    const post = async (signature: string) => {
      const fd = new FormData();
      for (const [k, v] of [['key', 'form/${filename}'], ['AWSAccessKeyId', ACCESS_KEY], ['acl', 'private'], ['signature', signature], ['policy', policy], ['Content-Type', 'text/plain']]) fd.append(k!, v!);
      fd.append('file', new Blob(['form body']), 'f.txt');
      const encoded = new Response(fd);
      const body = Buffer.from(await encoded.arrayBuffer());
      return send(s3n.host, 'POST', `/${b}`, { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) }, body);
    };
    const ok = await post(sign(SECRET_KEY, policy));
    assert.equal(ok.status, 204, ok.body);
    const got = await v2('GET', `/${b}/form/f.txt`);
    assert.equal(got.body, 'form body');
    assert.equal(got.headers['content-type'], 'text/plain');
    const bad = await post(sign('not-the-secret', policy));
    assert.equal(bad.status, 403);
    assert.match(bad.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('encrypts a form upload with the customer key of its fields (SSE-C)', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const keyMd5 = createHash('md5').update(Buffer.alloc(32, 7)).digest('base64');
    const sse = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key': key, 'x-amz-server-side-encryption-customer-key-md5': keyMd5 };
    const policy = Buffer.from(JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket: b }, { key: 'secret-form' }, ...Object.keys(sse).map((k) => ['starts-with', `$${k}`, ''])],
    })).toString('base64');
    const fd = new FormData();
    for (const [k, v] of Object.entries({ key: 'secret-form', AWSAccessKeyId: ACCESS_KEY, signature: sign(SECRET_KEY, policy), policy, ...sse })) fd.append(k, v);
    fd.append('file', new Blob(['sealed']), 'f.txt');
    const encoded = new Response(fd);
    const body = Buffer.from(await encoded.arrayBuffer());
    const posted = await send(s3n.host, 'POST', `/${b}`, { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) }, body);
    assert.equal(posted.status, 204, posted.body);
    assert.equal(posted.headers['x-amz-server-side-encryption-customer-key-md5'], keyMd5);
    assert.equal((await v2('GET', `/${b}/secret-form`, { headers: sse })).body, 'sealed');
    const noKey = await v2('GET', `/${b}/secret-form`);
    assert.equal(noKey.status, 400);
    assert.match(noKey.body, /<Code>InvalidRequest<\/Code>/);
  });

  it('refuses a wrong secret, an unknown key and a Date 20 minutes off', async () => {
    const wrong = await v2('GET', `/${b}/pre`, { secret: 'not-the-secret' });
    assert.equal(wrong.status, 403);
    assert.match(wrong.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    const unknown = await v2('GET', `/${b}/pre`, { accessKey: 'NOSUCHKEY' });
    assert.equal(unknown.status, 403);
    assert.match(unknown.body, /<Code>InvalidAccessKeyId<\/Code>/);
    const skewed = await v2('GET', `/${b}/pre`, { time: Date.now() - 20 * 60_000 });
    assert.equal(skewed.status, 403);
    assert.match(skewed.body, /<Code>RequestTimeTooSkewed<\/Code>/);
  });
});
